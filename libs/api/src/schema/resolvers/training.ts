import { type Split, type TrainingConfig, trainingConfigSchema } from '@s2g/contracts';
import type { Checkpoint, Connection, Evaluation, MetricPhase, RunMetric, Speaker, TrainingRun } from '@s2g/db';
import { Arg, Args, Ctx, FieldResolver, ID, Int, Mutation, Query, Resolver, Root } from 'type-graphql';
import type { ApiContext } from '../../context';
import { MetricPhaseEnum, SplitEnum } from '../enums';
import { SpeakerJobsArgs, StartTrainingInput } from '../inputs';
import { SpeakerType } from '../types/speaker';
import {
  CheckpointType,
  EvaluationType,
  MetricPointType,
  TrainingConfigType,
  TrainingProgressType,
  TrainingRunConnection,
  TrainingRunType,
} from '../types/training';
import { found, page } from './helpers';
import { speakerOf } from './speakers';

const MAX_HISTORY = 10_000;

function numberOr(value: unknown, fallback: number | null): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? value : fallback;
}

function runById(ctx: ApiContext, id: string): Promise<TrainingRun | null> {
  return ctx.memo.get(`run:${id}`, () => ctx.services.db.trainingRuns.findById(id));
}

function checkpointById(ctx: ApiContext, id: string): Promise<Checkpoint | null> {
  return ctx.memo.get(`checkpoint:${id}`, () => ctx.services.db.checkpoints.findById(id));
}

@Resolver(() => TrainingRunType)
export class TrainingRunResolver {
  @Query(() => TrainingRunType, { nullable: true })
  trainingRun(@Arg('id', () => ID) id: string, @Ctx() ctx: ApiContext): Promise<TrainingRun | null> {
    return runById(ctx, id);
  }

  @Query(() => TrainingRunConnection, { description: 'Training runs, newest first.' })
  trainingRuns(@Args(() => SpeakerJobsArgs) args: SpeakerJobsArgs, @Ctx() ctx: ApiContext): Promise<Connection<TrainingRun>> {
    return ctx.services.reads.trainingRuns({ speakerId: args.speakerId, status: args.status }, page(args));
  }

  @Mutation(() => TrainingRunType, { description: 'Queues a training run (config defaults: the paper\'s); follow it with trainingProgress(runId).' })
  startTraining(@Arg('input', () => StartTrainingInput) input: StartTrainingInput, @Ctx() ctx: ApiContext): Promise<TrainingRun> {
    return ctx.services.requests.startTraining(input);
  }

  @Mutation(() => TrainingRunType, { description: 'Asks the trainer to stop a queued or running run; its status turns `cancelled` once stopped (CONFLICT when it already ended).' })
  cancelTraining(
    @Arg('runId', () => ID) runId: string,
    @Arg('reason', () => String, { nullable: true }) reason: string | null,
    @Ctx() ctx: ApiContext,
  ): Promise<TrainingRun> {
    return ctx.services.requests.cancelTraining(runId, reason);
  }

  @FieldResolver(() => SpeakerType)
  speaker(@Root() run: TrainingRun, @Ctx() ctx: ApiContext): Promise<Speaker> {
    return speakerOf(ctx, run.speakerId);
  }

  @FieldResolver(() => TrainingConfigType, { description: 'The full configuration as run.' })
  config(@Root() run: TrainingRun): TrainingConfig {
    // Stored validated; parsing again fills defaults added to the schema since.
    const parsed = trainingConfigSchema.safeParse(run.config);
    return parsed.success ? parsed.data : ({ ...trainingConfigSchema.parse({}), ...run.config } as TrainingConfig);
  }

  @FieldResolver(() => TrainingProgressType)
  progress(@Root() run: TrainingRun): TrainingProgressType {
    const p = run.progress ?? {};
    const totalSteps = numberOr(p['totalSteps'], numberOr(run.config['iterations'], 0)) as number;
    const step = run.status === 'completed' ? Math.max(run.step, totalSteps) : run.step;
    return {
      step,
      epoch: run.epoch,
      totalSteps,
      fraction: totalSteps > 0 ? Math.min(1, step / totalSteps) : 0,
      lossG: numberOr(p['lossG'], null),
      lossD: numberOr(p['lossD'], null),
      l1: numberOr(p['l1'], null),
      samplesPerSec: numberOr(p['samplesPerSec'], null),
      etaSeconds: run.status === 'running' || run.status === 'queued' ? numberOr(p['etaSeconds'], null) : null,
    };
  }

  @FieldResolver(() => [MetricPointType], {
    description: 'The metric history in step order; page with afterStep.',
    complexity: ({ childComplexity, args }) => 1 + childComplexity * Math.ceil(Math.min(Number(args['limit'] ?? 1000), MAX_HISTORY) / 100),
  })
  metricHistory(
    @Root() run: TrainingRun,
    @Arg('phase', () => MetricPhaseEnum, { nullable: true }) phase: MetricPhase | null,
    @Arg('afterStep', () => Int, { nullable: true }) afterStep: number | null,
    @Arg('limit', () => Int, { nullable: true, defaultValue: 1000, description: 'At most 10000.' }) limit: number,
    @Ctx() ctx: ApiContext,
  ): Promise<RunMetric[]> {
    return ctx.services.db.trainingRuns.metricHistory(run.id, {
      ...(phase ? { phase } : {}),
      ...(afterStep !== null && afterStep !== undefined ? { afterStep } : {}),
      limit: Math.max(0, Math.min(limit, MAX_HISTORY)),
    });
  }

  @FieldResolver(() => [EvaluationType], { description: 'Every evaluation (model and baselines), newest first.' })
  evaluations(
    @Root() run: TrainingRun,
    @Arg('split', () => SplitEnum, { nullable: true }) split: Split | null,
    @Arg('checkpointId', () => ID, { nullable: true }) checkpointId: string | null,
    @Ctx() ctx: ApiContext,
  ): Promise<Evaluation[]> {
    return ctx.services.db.evaluations.listByRun(run.id, { ...(split ? { split } : {}), ...(checkpointId ? { checkpointId } : {}) });
  }

  @FieldResolver(() => [EvaluationType], { description: 'The newest evaluation of each method on a split: the model beside the median, random and nearest baselines.' })
  latestEvaluations(@Root() run: TrainingRun, @Arg('split', () => SplitEnum, { defaultValue: 'test' }) split: Split, @Ctx() ctx: ApiContext): Promise<Evaluation[]> {
    return ctx.services.db.evaluations.latestPerMethod(run.id, split);
  }

  @FieldResolver(() => [CheckpointType], { description: 'Checkpoints in step order.' })
  checkpoints(@Root() run: TrainingRun, @Ctx() ctx: ApiContext): Promise<Checkpoint[]> {
    return ctx.services.db.checkpoints.listByRun(run.id);
  }

  @FieldResolver(() => CheckpointType, { nullable: true, description: 'The best checkpoint by validation loss (what predictions of this run use).' })
  bestCheckpoint(@Root() run: TrainingRun, @Ctx() ctx: ApiContext): Promise<Checkpoint | null> {
    return ctx.services.db.checkpoints.best(run.id);
  }
}

@Resolver(() => CheckpointType)
export class CheckpointResolver {
  @Query(() => CheckpointType, { nullable: true })
  checkpoint(@Arg('id', () => ID) id: string, @Ctx() ctx: ApiContext): Promise<Checkpoint | null> {
    return checkpointById(ctx, id);
  }

  @FieldResolver(() => TrainingRunType)
  run(@Root() checkpoint: Checkpoint, @Ctx() ctx: ApiContext): Promise<TrainingRun> {
    return found(runById(ctx, checkpoint.runId), 'training run', checkpoint.runId);
  }
}

@Resolver(() => EvaluationType)
export class EvaluationResolver {
  @FieldResolver(() => CheckpointType, { nullable: true })
  checkpoint(@Root() evaluation: Evaluation, @Ctx() ctx: ApiContext): Promise<Checkpoint | null> | null {
    return evaluation.checkpointId ? checkpointById(ctx, evaluation.checkpointId) : null;
  }
}

export { runById, checkpointById };
