import { SPLITS } from '@s2g/contracts';
import { type Connection, type IngestJob, Interval, isUuid, type Sample, type Speaker, type TrainingRun, Video } from '@s2g/db';
import { Arg, Args, Ctx, FieldResolver, Float, ID, Mutation, Query, Resolver, Root } from 'type-graphql';
import type { ApiContext } from '../../context';
import { CreateSpeakerInput, PageArgs, SamplesArgs, SpeakerSamplesArgs, StatusArgs } from '../inputs';
import { SplitCountsType } from '../types/common';
import { IngestJobConnection } from '../types/jobs';
import {
  SampleConnection,
  SampleType,
  ShardLocationType,
  SpeakerConnection,
  SpeakerNormalisationType,
  SpeakerStatsType,
  SpeakerType,
  VideoType,
} from '../types/speaker';
import { TrainingRunConnection, TrainingRunType } from '../types/training';
import { downloadUrl, found, page } from './helpers';

function withTotal(counts: Record<(typeof SPLITS)[number], number>): SplitCountsType {
  return { ...counts, total: SPLITS.reduce((sum, s) => sum + counts[s], 0) };
}

function speakerById(ctx: ApiContext, id: string): Promise<Speaker | null> {
  return ctx.memo.get(`speaker:${id}`, () => ctx.services.db.speakers.findById(id));
}

function videoById(ctx: ApiContext, id: string): Promise<Video | null> {
  return ctx.memo.get(`video:${id}`, () => (isUuid(id) ? ctx.services.db.manager.getRepository(Video).findOneBy({ id }) : Promise.resolve(null)));
}

function intervalById(ctx: ApiContext, id: string): Promise<Interval | null> {
  return ctx.memo.get(`interval:${id}`, () => ctx.services.db.intervals.findById(id));
}

/** The speaker of a record that must have one (the foreign key guarantees it). */
export async function speakerOf(ctx: ApiContext, speakerId: string): Promise<Speaker> {
  return found(speakerById(ctx, speakerId), 'speaker', speakerId);
}

@Resolver(() => SpeakerType)
export class SpeakerResolver {
  @Query(() => SpeakerType, { nullable: true, description: 'A speaker by id; null when there is none.' })
  speaker(@Arg('id', () => ID) id: string, @Ctx() ctx: ApiContext): Promise<Speaker | null> {
    return speakerById(ctx, id);
  }

  @Query(() => SpeakerType, { nullable: true, description: 'A speaker by its handle.' })
  speakerByName(@Arg('name', () => String) name: string, @Ctx() ctx: ApiContext): Promise<Speaker | null> {
    return ctx.services.db.speakers.findByName(name);
  }

  @Query(() => SpeakerConnection, { description: 'Every speaker, newest first.' })
  speakers(@Args(() => PageArgs) args: PageArgs, @Ctx() ctx: ApiContext): Promise<Connection<Speaker>> {
    return ctx.services.db.speakers.list(page(args));
  }

  @Mutation(() => SpeakerType, { description: 'Adds a speaker (CONFLICT when the name is taken).' })
  createSpeaker(@Arg('input', () => CreateSpeakerInput) input: CreateSpeakerInput, @Ctx() ctx: ApiContext): Promise<Speaker> {
    return ctx.services.requests.createSpeaker(input);
  }

  @FieldResolver(() => SpeakerNormalisationType, { nullable: true, description: 'Null until the speaker\'s data has been ingested.' })
  normalisation(@Root() speaker: Speaker): SpeakerNormalisationType | null {
    return speaker.poseMean && speaker.poseStd ? { poseMean: speaker.poseMean, poseStd: speaker.poseStd } : null;
  }

  @FieldResolver(() => SplitCountsType, { description: 'Training windows per split.' })
  async sampleCounts(@Root() speaker: Speaker, @Ctx() ctx: ApiContext): Promise<SplitCountsType> {
    return withTotal(await ctx.services.db.samples.countBySplit(speaker.id));
  }

  @FieldResolver(() => SpeakerStatsType, { complexity: 5 })
  async stats(@Root() speaker: Speaker, @Ctx() ctx: ApiContext): Promise<SpeakerStatsType> {
    const stats = await ctx.services.db.speakers.stats(speaker.id);
    return { videos: stats.videos, intervals: stats.intervals, shards: stats.shards, seconds: withTotal(stats.seconds) };
  }

  @FieldResolver(() => [VideoType], { description: 'Source videos by name.' })
  videos(@Root() speaker: Speaker, @Ctx() ctx: ApiContext): Promise<Video[]> {
    return ctx.services.db.videos.listBySpeaker(speaker.id);
  }

  @FieldResolver(() => SampleConnection, { description: 'Training windows, oldest first.' })
  samples(@Root() speaker: Speaker, @Args(() => SpeakerSamplesArgs) args: SpeakerSamplesArgs, @Ctx() ctx: ApiContext): Promise<Connection<Sample>> {
    return ctx.services.reads.samples(speaker.id, args.split, page(args));
  }

  @FieldResolver(() => TrainingRunConnection, { description: 'Training runs, newest first.' })
  trainingRuns(@Root() speaker: Speaker, @Args(() => StatusArgs) args: StatusArgs, @Ctx() ctx: ApiContext): Promise<Connection<TrainingRun>> {
    return ctx.services.reads.trainingRuns({ speakerId: speaker.id, status: args.status }, page(args));
  }

  @FieldResolver(() => TrainingRunType, { nullable: true, description: 'The most recently completed run: the default model for predictions.' })
  latestCompletedRun(@Root() speaker: Speaker, @Ctx() ctx: ApiContext): Promise<TrainingRun | null> {
    return ctx.services.db.trainingRuns.latestCompleted(speaker.id);
  }

  @FieldResolver(() => IngestJobConnection, { description: 'Ingest jobs, newest first.' })
  ingestJobs(@Root() speaker: Speaker, @Args(() => StatusArgs) args: StatusArgs, @Ctx() ctx: ApiContext): Promise<Connection<IngestJob>> {
    return ctx.services.reads.ingestJobs({ speakerId: speaker.id, status: args.status }, page(args));
  }
}

@Resolver(() => VideoType)
export class VideoResolver {
  @FieldResolver(() => SpeakerType)
  speaker(@Root() video: Video, @Ctx() ctx: ApiContext): Promise<Speaker> {
    return speakerOf(ctx, video.speakerId);
  }

  @FieldResolver(() => String, { nullable: true, description: 'Download URL of the extracted 16 kHz audio, when stored.' })
  audioUrl(@Root() video: Video, @Ctx() ctx: ApiContext): Promise<string | null> {
    return downloadUrl(ctx, video.audioKey);
  }

  @FieldResolver(() => String, { nullable: true, description: 'Download URL of the source media, when stored (keypoint-only datasets have none).' })
  sourceUrl(@Root() video: Video, @Ctx() ctx: ApiContext): Promise<string | null> {
    return downloadUrl(ctx, video.sourceKey);
  }
}

@Resolver(() => SampleType)
export class SampleResolver {
  @Query(() => SampleType, { nullable: true })
  sample(@Arg('id', () => ID) id: string, @Ctx() ctx: ApiContext): Promise<Sample | null> {
    return ctx.services.reads.sample(id);
  }

  @Query(() => SampleConnection, { description: 'A speaker\'s training windows, oldest first, optionally of one split.' })
  samples(@Args(() => SamplesArgs) args: SamplesArgs, @Ctx() ctx: ApiContext): Promise<Connection<Sample>> {
    return ctx.services.reads.samples(args.speakerId, args.split, page(args));
  }

  @FieldResolver(() => SpeakerType)
  speaker(@Root() sample: Sample, @Ctx() ctx: ApiContext): Promise<Speaker> {
    return speakerOf(ctx, sample.speakerId);
  }

  @FieldResolver(() => Float)
  durationSeconds(@Root() sample: Sample): number {
    return sample.endSeconds - sample.startSeconds;
  }

  @FieldResolver(() => ShardLocationType)
  shard(@Root() sample: Sample): ShardLocationType {
    return { key: sample.shardKey, index: sample.shardIndex };
  }

  @FieldResolver(() => VideoType, { nullable: true, description: 'The source video the window was cut from.' })
  async video(@Root() sample: Sample, @Ctx() ctx: ApiContext): Promise<Video | null> {
    const interval = await intervalById(ctx, sample.intervalId);
    return interval ? videoById(ctx, interval.videoId) : null;
  }

  @FieldResolver(() => String, { nullable: true, description: 'Download URL of the source video\'s audio; play it from startSeconds to endSeconds.' })
  async audioUrl(@Root() sample: Sample, @Ctx() ctx: ApiContext): Promise<string | null> {
    return downloadUrl(ctx, (await this.video(sample, ctx))?.audioKey);
  }

  @FieldResolver(() => String, { nullable: true, description: 'Download URL of the source video; play it from startSeconds to endSeconds.' })
  async videoUrl(@Root() sample: Sample, @Ctx() ctx: ApiContext): Promise<string | null> {
    return downloadUrl(ctx, (await this.video(sample, ctx))?.sourceKey);
  }
}
