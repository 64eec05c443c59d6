import { DateTimeResolver, JSONObjectResolver } from 'graphql-scalars';
import { type ClassType, Field, Float, ID, Int, InterfaceType, ObjectType } from 'type-graphql';
import { JobKindEnum, JobStatusEnum } from '../enums';
import type { ErrorCode, JobKind, JobStatus } from '@s2g/contracts';
import { InferenceResult, IngestJob, type JobRecord, Render, TrainingRun } from '@s2g/db';

export const JOB_TYPE_NAMES: Record<JobKind, string> = { ingest: 'IngestJob', training: 'TrainingRun', inference: 'InferenceResult', render: 'Render' };

/** The kind of a job record, from its entity class. */
export function jobKindOf(record: JobRecord): JobKind {
  if (record instanceof IngestJob) return 'ingest';
  if (record instanceof TrainingRun) return 'training';
  if (record instanceof InferenceResult) return 'inference';
  if (record instanceof Render) return 'render';
  throw new Error(`not a job record: ${record.constructor.name}`);
}

export const DateTime = DateTimeResolver;
export const JSONObject = JSONObjectResolver;

@ObjectType('PageInfo', { description: 'Relay page information.' })
export class PageInfoType {
  @Field(() => Boolean)
  hasNextPage!: boolean;

  @Field(() => Boolean)
  hasPreviousPage!: boolean;

  @Field(() => String, { nullable: true })
  startCursor!: string | null;

  @Field(() => String, { nullable: true })
  endCursor!: string | null;
}

/**
 * `<Name>Connection` and `<Name>Edge` for a node type. Lists are ordered by creation time and id
 * (newest first, except samples), so pages neither repeat nor skip items.
 */
export function connectionType<T extends object>(name: string, node: ClassType<T>) {
  @ObjectType(`${name}Edge`)
  class Edge {
    @Field(() => String, { description: 'Opaque cursor: pass it as `after` or `before`.' })
    cursor!: string;

    @Field(() => node)
    node!: T;
  }

  @ObjectType(`${name}Connection`)
  class Connection {
    @Field(() => [Edge])
    edges!: Edge[];

    @Field(() => PageInfoType)
    pageInfo!: PageInfoType;

    @Field(() => Int, { description: 'Items matching the filters, over all pages.' })
    totalCount!: number;
  }
  return Connection;
}

@ObjectType('JobError', { description: 'Why a job failed: a stable code and a message for people.' })
export class JobErrorType {
  @Field(() => String, { description: 'A code from the ErrorCode list (docs/API.md).' })
  code!: ErrorCode | string;

  @Field(() => String)
  message!: string;
}

@ObjectType('SplitCounts', { description: 'A count per split.' })
export class SplitCountsType {
  @Field(() => Int)
  train!: number;

  @Field(() => Int)
  dev!: number;

  @Field(() => Int)
  test!: number;

  @Field(() => Int)
  total!: number;
}

@ObjectType('SplitSeconds', { description: 'A duration per split, in seconds.' })
export class SplitSecondsType {
  @Field(() => Float)
  train!: number;

  @Field(() => Float)
  dev!: number;

  @Field(() => Float)
  test!: number;

  @Field(() => Float)
  total!: number;
}

/** The record columns every job kind has (see JobFieldsResolver for `kind` and `error`). */
@InterfaceType('Job', {
  description: 'Any queued piece of work: an ingest job, a training run, an inference result or a render.',
  resolveType: (value: JobRecord) => JOB_TYPE_NAMES[jobKindOf(value)],
})
export abstract class JobInterface {
  @Field(() => ID)
  id!: string;

  @Field(() => JobKindEnum)
  kind!: JobKind;

  @Field(() => JobStatusEnum)
  status!: JobStatus;

  @Field(() => Int, { description: 'Deliveries that started running (more than 1 after a worker died or a retry).' })
  attempts!: number;

  @Field(() => JobErrorType, { nullable: true, description: 'Set when the job failed.' })
  error!: JobErrorType | null;

  @Field(() => DateTime)
  createdAt!: Date;

  @Field(() => DateTime)
  updatedAt!: Date;

  @Field(() => DateTime, { nullable: true })
  startedAt!: Date | null;

  @Field(() => DateTime, { nullable: true })
  finishedAt!: Date | null;
}
