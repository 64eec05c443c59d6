import type { Checkpoint, Connection, InferenceResult, Render, Speaker, TrainingRun } from '@s2g/db';
import { Arg, Args, Ctx, FieldResolver, ID, Mutation, Query, Resolver, Root } from 'type-graphql';
import type { ApiContext } from '../../context';
import { InferenceResultsArgs, PredictInput, RenderInput, RendersArgs } from '../inputs';
import { InferenceResultConnection, InferenceResultType, RenderConnection, RenderType } from '../types/jobs';
import { SpeakerType } from '../types/speaker';
import { CheckpointType, TrainingRunType } from '../types/training';
import { downloadUrl, found, page } from './helpers';
import { speakerOf } from './speakers';
import { checkpointById, runById } from './training';

function resultById(ctx: ApiContext, id: string): Promise<InferenceResult | null> {
  return ctx.memo.get(`result:${id}`, () => ctx.services.db.inferenceResults.findById(id));
}

@Resolver(() => InferenceResultType)
export class InferenceResultResolver {
  @Query(() => InferenceResultType, { nullable: true })
  inferenceResult(@Arg('id', () => ID) id: string, @Ctx() ctx: ApiContext): Promise<InferenceResult | null> {
    return resultById(ctx, id);
  }

  @Query(() => InferenceResultConnection, { description: 'Predictions, newest first.' })
  inferenceResults(@Args(() => InferenceResultsArgs) args: InferenceResultsArgs, @Ctx() ctx: ApiContext): Promise<Connection<InferenceResult>> {
    return ctx.services.reads.inferenceResults({ speakerId: args.speakerId, runId: args.runId, status: args.status }, page(args));
  }

  @Mutation(() => InferenceResultType, {
    description: 'Queues a prediction of gestures for an audio upload or a sample, optionally rendered (see `renders`); follow it with jobUpdated(id).',
  })
  predict(@Arg('input', () => PredictInput) input: PredictInput, @Ctx() ctx: ApiContext): Promise<InferenceResult> {
    return ctx.services.requests.predict(input);
  }

  @FieldResolver(() => SpeakerType)
  speaker(@Root() result: InferenceResult, @Ctx() ctx: ApiContext): Promise<Speaker> {
    return speakerOf(ctx, result.speakerId);
  }

  @FieldResolver(() => TrainingRunType, { nullable: true })
  run(@Root() result: InferenceResult, @Ctx() ctx: ApiContext): Promise<TrainingRun | null> | null {
    return result.runId ? runById(ctx, result.runId) : null;
  }

  @FieldResolver(() => CheckpointType, { nullable: true })
  checkpoint(@Root() result: InferenceResult, @Ctx() ctx: ApiContext): Promise<Checkpoint | null> | null {
    return result.checkpointId ? checkpointById(ctx, result.checkpointId) : null;
  }

  @FieldResolver(() => String, { nullable: true, description: 'Download URL of the input audio (uploads only).' })
  audioUrl(@Root() result: InferenceResult, @Ctx() ctx: ApiContext): Promise<string | null> {
    return downloadUrl(ctx, result.audioKey);
  }

  @FieldResolver(() => String, { nullable: true, description: 'Download URL of the predicted poses as JSON, once completed.' })
  posesJsonUrl(@Root() result: InferenceResult, @Ctx() ctx: ApiContext): Promise<string | null> {
    return downloadUrl(ctx, result.posesJsonKey);
  }

  @FieldResolver(() => String, { nullable: true, description: 'Download URL of the predicted poses as packed float32, once completed.' })
  posesBinaryUrl(@Root() result: InferenceResult, @Ctx() ctx: ApiContext): Promise<string | null> {
    return downloadUrl(ctx, result.posesBinKey);
  }

  @FieldResolver(() => [RenderType], { description: 'Videos drawn from this result, newest first.' })
  renders(@Root() result: InferenceResult, @Ctx() ctx: ApiContext): Promise<Render[]> {
    return ctx.services.db.renders.listByResult(result.id);
  }
}

@Resolver(() => RenderType)
export class RenderResolver {
  @Query(() => RenderType, { nullable: true })
  render(@Arg('id', () => ID) id: string, @Ctx() ctx: ApiContext): Promise<Render | null> {
    return ctx.services.db.renders.findById(id);
  }

  @Query(() => RenderConnection, { description: 'Renders, newest first.' })
  renders(@Args(() => RendersArgs) args: RendersArgs, @Ctx() ctx: ApiContext): Promise<Connection<Render>> {
    return ctx.services.reads.renders({ resultId: args.resultId, status: args.status }, page(args));
  }

  @Mutation(() => RenderType, { name: 'render', description: 'Queues a video of a completed inference result; follow it with jobUpdated(id).' })
  renderResult(@Arg('input', () => RenderInput) input: RenderInput, @Ctx() ctx: ApiContext): Promise<Render> {
    return ctx.services.requests.render(input);
  }

  @FieldResolver(() => InferenceResultType)
  result(@Root() render: Render, @Ctx() ctx: ApiContext): Promise<InferenceResult> {
    return found(resultById(ctx, render.resultId), 'inference result', render.resultId);
  }

  @FieldResolver(() => String, { nullable: true, description: 'Download URL of the mp4 (H.264 with the audio), once completed.' })
  videoUrl(@Root() render: Render, @Ctx() ctx: ApiContext): Promise<string | null> {
    return downloadUrl(ctx, render.videoKey);
  }

  @FieldResolver(() => String, { nullable: true, description: 'Download URL of the poster PNG, once completed.' })
  posterUrl(@Root() render: Render, @Ctx() ctx: ApiContext): Promise<string | null> {
    return downloadUrl(ctx, render.posterKey);
  }
}
