import type { JobKind } from '@s2g/contracts';
import type { Connection, IngestJob, JobRecord, Speaker } from '@s2g/db';
import { Arg, Args, Ctx, FieldResolver, ID, Mutation, Query, Resolver, Root } from 'type-graphql';
import type { ApiContext } from '../../context';
import { JobKindEnum } from '../enums';
import { SpeakerJobsArgs, StartIngestInput } from '../inputs';
import { JobErrorType, JobInterface, jobKindOf } from '../types/common';
import { IngestJobConnection, IngestJobType } from '../types/jobs';
import { SpeakerType } from '../types/speaker';
import { page } from './helpers';
import { speakerOf } from './speakers';

/** The fields every job type shares that are not columns. */
@Resolver(() => JobInterface)
export class JobFieldsResolver {
  @FieldResolver(() => JobKindEnum)
  kind(@Root() job: JobRecord): JobKind {
    return jobKindOf(job);
  }

  @FieldResolver(() => JobErrorType, { nullable: true })
  error(@Root() job: JobRecord): JobErrorType | null {
    return job.errorCode ? { code: job.errorCode, message: job.errorMessage ?? '' } : null;
  }

  @Query(() => JobInterface, { nullable: true, description: 'A job of any kind by id: where it is now (for example after reconnecting a subscription).' })
  async job(@Arg('id', () => ID) id: string, @Ctx() ctx: ApiContext): Promise<JobRecord | null> {
    return (await ctx.services.reads.job(id))?.record ?? null;
  }
}

@Resolver(() => IngestJobType)
export class IngestJobResolver {
  @Query(() => IngestJobType, { nullable: true })
  ingestJob(@Arg('id', () => ID) id: string, @Ctx() ctx: ApiContext): Promise<IngestJob | null> {
    return ctx.services.db.ingestJobs.findById(id);
  }

  @Query(() => IngestJobConnection, { description: 'Ingest jobs, newest first.' })
  ingestJobs(@Args(() => SpeakerJobsArgs) args: SpeakerJobsArgs, @Ctx() ctx: ApiContext): Promise<Connection<IngestJob>> {
    return ctx.services.reads.ingestJobs({ speakerId: args.speakerId, status: args.status }, page(args));
  }

  @Mutation(() => IngestJobType, { description: 'Queues an import of data for a speaker; follow it with jobUpdated(id).' })
  startIngest(@Arg('input', () => StartIngestInput) input: StartIngestInput, @Ctx() ctx: ApiContext): Promise<IngestJob> {
    return ctx.services.requests.startIngest(input, ctx.auth as NonNullable<ApiContext['auth']>);
  }

  @FieldResolver(() => SpeakerType, { nullable: true })
  speaker(@Root() job: IngestJob, @Ctx() ctx: ApiContext): Promise<Speaker> | null {
    return job.speakerId ? speakerOf(ctx, job.speakerId) : null;
  }
}
