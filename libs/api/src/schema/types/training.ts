import type { CheckpointKind, ModelPreset, Split } from '@s2g/contracts';
import type { EvaluationMethod, MetricPhase } from '@s2g/db';
import { Field, Float, ID, Int, ObjectType } from 'type-graphql';
import type { TrainingEventKind } from '../../events';
import { CheckpointKindEnum, EvaluationMethodEnum, JobStatusEnum, MetricPhaseEnum, ModelPresetEnum, SplitEnum, TrainingEventKindEnum } from '../enums';
import { connectionType, DateTime, JobErrorType, JobInterface, JSONObject } from './common';
import type { JobStatus } from '@s2g/contracts';

@ObjectType('TrainingConfig', { description: 'Hyper-parameters of a run as it runs (ML-SPEC 6); the defaults are the paper\'s.' })
export class TrainingConfigType {
  @Field(() => ModelPresetEnum)
  preset!: ModelPreset;

  @Field(() => Int)
  batchSize!: number;

  @Field(() => Int, { description: 'Length of the run in iterations.' })
  iterations!: number;

  @Field(() => Int, { description: 'Iterations per epoch.' })
  epochIterations!: number;

  @Field(() => Float)
  learningRate!: number;

  @Field(() => Float, { description: 'Weight of the adversarial loss; 0 trains with L1 only.' })
  ganWeight!: number;

  @Field(() => Int, { description: 'Dev samples scored at each validation.' })
  validationSize!: number;

  @Field(() => Int)
  seed!: number;

  @Field(() => Int)
  validateEvery!: number;

  @Field(() => Int)
  checkpointEvery!: number;

  @Field(() => Int)
  progressEvery!: number;
}

@ObjectType('TrainingProgress', { description: 'The latest progress a run reported (null fields until it reports them).' })
export class TrainingProgressType {
  @Field(() => Int)
  step!: number;

  @Field(() => Int)
  epoch!: number;

  @Field(() => Int)
  totalSteps!: number;

  @Field(() => Float, { description: 'step / totalSteps, 0..1.' })
  fraction!: number;

  @Field(() => Float, { nullable: true, description: 'Generator loss.' })
  lossG!: number | null;

  @Field(() => Float, { nullable: true, description: 'Discriminator loss.' })
  lossD!: number | null;

  @Field(() => Float, { nullable: true, description: 'L1 regression loss.' })
  l1!: number | null;

  @Field(() => Float, { nullable: true })
  samplesPerSec!: number | null;

  @Field(() => Float, { nullable: true, description: 'Estimated seconds to the end of the run.' })
  etaSeconds!: number | null;
}

@ObjectType('MetricPoint', { description: 'One point of a run\'s metric history.' })
export class MetricPointType {
  @Field(() => Int)
  step!: number;

  @Field(() => Int)
  epoch!: number;

  @Field(() => MetricPhaseEnum)
  phase!: MetricPhase;

  @Field(() => JSONObject, { description: 'Metric name -> value, e.g. `{ "lossG": 0.41, "l1": 0.38 }`.' })
  values!: Record<string, number>;

  @Field(() => Float, { nullable: true, description: 'Milliseconds since the run started.' })
  elapsedMs!: number | null;
}

@ObjectType('Checkpoint', { description: 'Saved model (and optimizer) state of a run.' })
export class CheckpointType {
  @Field(() => ID)
  id!: string;

  @Field(() => ID)
  runId!: string;

  @Field(() => Int)
  step!: number;

  @Field(() => Int, { nullable: true })
  epoch!: number | null;

  @Field(() => CheckpointKindEnum)
  kind!: CheckpointKind;

  @Field(() => String, { description: 'Object-store prefix holding the checkpoint\'s files.' })
  storagePrefix!: string;

  @Field(() => Float, { nullable: true })
  validationLoss!: number | null;

  @Field(() => Float, { nullable: true })
  byteSize!: number | null;

  @Field(() => DateTime)
  createdAt!: Date;
}

@ObjectType('Evaluation', { description: 'Scores of the model or of a baseline on one split (ML-SPEC 7).' })
export class EvaluationType {
  @Field(() => ID)
  id!: string;

  @Field(() => ID)
  runId!: string;

  @Field(() => ID, { nullable: true, description: 'The checkpoint scored; null for baselines.' })
  checkpointId!: string | null;

  @Field(() => Int, { nullable: true })
  step!: number | null;

  @Field(() => SplitEnum)
  split!: Split;

  @Field(() => EvaluationMethodEnum)
  method!: EvaluationMethod;

  @Field(() => Float, { description: 'Mean absolute error on normalised keypoints.' })
  l1!: number;

  @Field(() => Float, { description: 'PCK at alpha 0.1, 0..1.' })
  pck01!: number;

  @Field(() => Float, { description: 'PCK at alpha 0.2, 0..1.' })
  pck02!: number;

  @Field(() => Int, { nullable: true })
  sampleCount!: number | null;

  @Field(() => JSONObject, { description: 'Further metrics by name.' })
  metrics!: Record<string, number>;

  @Field(() => DateTime)
  createdAt!: Date;
}

@ObjectType('TrainingRun', { implements: JobInterface, description: 'One training of a speaker\'s model.' })
export class TrainingRunType extends JobInterface {
  @Field(() => ID)
  speakerId!: string;

  @Field(() => ModelPresetEnum)
  preset!: ModelPreset;

  @Field(() => Int, { description: 'Latest step reported.' })
  step!: number;

  @Field(() => Int)
  epoch!: number;

  @Field(() => String, { nullable: true, description: 'Tensor backend the run uses (tfjs-node-gpu, tfjs-node, wasm or cpu), once it started.' })
  backend!: string | null;

  @Field(() => String, { nullable: true, description: 'What the backend runs on, e.g. "cpu" or a GPU name.' })
  device!: string | null;
}

@ObjectType('TrainingCheckpointEvent', { description: 'A checkpoint announced by a running run.' })
export class TrainingCheckpointEventType {
  @Field(() => ID)
  id!: string;

  @Field(() => Int)
  step!: number;

  @Field(() => CheckpointKindEnum)
  kind!: CheckpointKind;

  @Field(() => Float, { nullable: true })
  validationLoss!: number | null;
}

@ObjectType('TrainingEvaluationEvent', { description: 'Scores announced by a running run; `baselines` holds the same metrics per baseline method.' })
export class TrainingEvaluationEventType {
  @Field(() => ID, { nullable: true })
  checkpointId!: string | null;

  @Field(() => Int)
  step!: number;

  @Field(() => SplitEnum)
  split!: Split;

  @Field(() => Int)
  samples!: number;

  @Field(() => JSONObject)
  metrics!: Record<string, number>;

  @Field(() => JSONObject, { nullable: true, description: 'Method -> metrics, e.g. `{ "median": { "l1": 0.9 } }`.' })
  baselines!: Record<string, Record<string, number>> | null;
}

@ObjectType('TrainingEvent', { description: 'A live update of a training run; fields that do not apply to its kind are null.' })
export class TrainingEventType {
  @Field(() => ID)
  runId!: string;

  @Field(() => TrainingEventKindEnum)
  kind!: TrainingEventKind;

  @Field(() => JobStatusEnum, { description: 'The run\'s status after this event.' })
  status!: JobStatus;

  @Field(() => Int, { nullable: true })
  step!: number | null;

  @Field(() => Int, { nullable: true })
  epoch!: number | null;

  @Field(() => Int, { nullable: true })
  totalSteps!: number | null;

  @Field(() => Float, { nullable: true })
  lossG!: number | null;

  @Field(() => Float, { nullable: true })
  lossD!: number | null;

  @Field(() => Float, { nullable: true })
  l1!: number | null;

  @Field(() => Float, { nullable: true })
  samplesPerSec!: number | null;

  @Field(() => Float, { nullable: true })
  etaSeconds!: number | null;

  @Field(() => String, { nullable: true, description: 'Set on `started`.' })
  backend!: string | null;

  @Field(() => String, { nullable: true })
  device!: string | null;

  @Field(() => TrainingCheckpointEventType, { nullable: true })
  checkpoint!: TrainingCheckpointEventType | null;

  @Field(() => TrainingEvaluationEventType, { nullable: true })
  evaluation!: TrainingEvaluationEventType | null;

  @Field(() => JobErrorType, { nullable: true })
  error!: JobErrorType | null;

  @Field(() => DateTime)
  at!: Date;
}

export const TrainingRunConnection = connectionType('TrainingRun', TrainingRunType);
