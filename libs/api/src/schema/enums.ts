/**
 * GraphQL enums, spelled as the domain spells them (the same values as the records and the events).
 */
import { CHECKPOINT_KINDS, INGEST_LAYOUTS, JOB_KINDS, JOB_STATUSES, MODEL_PRESETS, SPLITS, TOKEN_SCOPES } from '@s2g/contracts';
import { EVALUATION_METHODS, METRIC_PHASES } from '@s2g/db';
import { registerEnumType } from 'type-graphql';
import { TRAINING_EVENT_KINDS } from '../events';

function enumOf<const T extends readonly string[]>(values: T): { [K in T[number]]: K } {
  return Object.fromEntries(values.map((v) => [v, v])) as { [K in T[number]]: K };
}

export const SplitEnum = enumOf(SPLITS);
export const JobStatusEnum = enumOf(JOB_STATUSES);
export const JobKindEnum = enumOf(JOB_KINDS);
export const ModelPresetEnum = enumOf(MODEL_PRESETS);
export const TokenScopeEnum = enumOf(TOKEN_SCOPES);
export const IngestLayoutEnum = enumOf(INGEST_LAYOUTS);
export const CheckpointKindEnum = enumOf(CHECKPOINT_KINDS);
export const EvaluationMethodEnum = enumOf(EVALUATION_METHODS);
export const MetricPhaseEnum = enumOf(METRIC_PHASES);
export const TrainingEventKindEnum = enumOf(TRAINING_EVENT_KINDS);

registerEnumType(SplitEnum, { name: 'Split', description: 'Which part of a speaker\'s data a sample belongs to.' });
registerEnumType(JobStatusEnum, { name: 'JobStatus', description: 'Lifecycle of every job: queued -> running -> completed | failed | cancelled.' });
registerEnumType(JobKindEnum, { name: 'JobKind', description: 'The four kinds of work: ingest, training, inference, render.' });
registerEnumType(ModelPresetEnum, { name: 'ModelPreset', description: '`paper` is the published architecture; `small` and `tiny` shrink its widths.' });
registerEnumType(TokenScopeEnum, { name: 'TokenScope', description: 'What a token may do: read (queries, subscriptions) < write (mutations) < admin (tokens, server paths).' });
registerEnumType(IngestLayoutEnum, { name: 'IngestLayout', description: 'Format of the data an ingest job reads.' });
registerEnumType(CheckpointKindEnum, { name: 'CheckpointKind', description: 'Why a checkpoint was kept: on a schedule, as the best by validation loss, or at the end.' });
registerEnumType(EvaluationMethodEnum, { name: 'EvaluationMethod', description: 'The trained model, or one of the paper\'s baselines (median pose, random window, nearest audio neighbour).' });
registerEnumType(MetricPhaseEnum, { name: 'MetricPhase', description: 'Training metrics or validation metrics.' });
registerEnumType(TrainingEventKindEnum, { name: 'TrainingEventKind', description: 'What happened to a training run.' });
