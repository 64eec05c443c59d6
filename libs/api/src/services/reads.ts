/**
 * The read side of the API: the repositories of @s2g/db, plus the filtered lists and lookups the
 * API needs that no service writes through (filters across job tables, the backend in use).
 */
import type { JobKind, JobStatus, Split } from '@s2g/contracts';
import {
  type Connection,
  type Database,
  IngestJob,
  InferenceResult,
  isUuid,
  type JobRecord,
  type PageArgs,
  paginate,
  Render,
  Sample,
  TrainingRun,
} from '@s2g/db';
import type { EntityTarget, ObjectLiteral } from 'typeorm';

export interface JobFilter {
  status?: JobStatus[] | null;
}

/** One of the four job records, with its kind. */
export type AnyJob =
  | { kind: 'ingest'; record: IngestJob }
  | { kind: 'training'; record: TrainingRun }
  | { kind: 'inference'; record: InferenceResult }
  | { kind: 'render'; record: Render };

export interface BackendUse {
  backend: string;
  device: string | null;
  /** The record it was read from. */
  recordId: string;
  at: Date;
}

/** Equality filters on columns (property names); null/undefined values are left out. */
type Filters = Record<string, string | null | undefined>;

export class ApiReads {
  constructor(private readonly db: Database) {}

  private async list<T extends JobRecord & ObjectLiteral>(entity: EntityTarget<T>, filters: Filters, jobFilter: JobFilter, page: PageArgs): Promise<Connection<T>> {
    const qb = this.db.manager.getRepository(entity).createQueryBuilder('row');
    for (const [column, value] of Object.entries(filters)) {
      if (value === null || value === undefined) continue;
      // A malformed id matches nothing rather than failing the cast in Postgres.
      if (!isUuid(value)) qb.andWhere('false');
      else qb.andWhere(`row.${column} = :${column}`, { [column]: value });
    }
    if (jobFilter.status && jobFilter.status.length > 0) qb.andWhere('row.status IN (:...statuses)', { statuses: jobFilter.status });
    return paginate(qb, page, { totalCount: true });
  }

  ingestJobs(filter: { speakerId?: string | null } & JobFilter, page: PageArgs): Promise<Connection<IngestJob>> {
    return this.list(IngestJob, { speakerId: filter.speakerId }, filter, page);
  }

  trainingRuns(filter: { speakerId?: string | null } & JobFilter, page: PageArgs): Promise<Connection<TrainingRun>> {
    return this.list(TrainingRun, { speakerId: filter.speakerId }, filter, page);
  }

  inferenceResults(filter: { speakerId?: string | null; runId?: string | null } & JobFilter, page: PageArgs): Promise<Connection<InferenceResult>> {
    return this.list(InferenceResult, { speakerId: filter.speakerId, runId: filter.runId }, filter, page);
  }

  renders(filter: { resultId?: string | null } & JobFilter, page: PageArgs): Promise<Connection<Render>> {
    return this.list(Render, { resultId: filter.resultId }, filter, page);
  }

  samples(speakerId: string, split: Split | null | undefined, page: PageArgs): Promise<Connection<Sample>> {
    return this.db.samples.list(speakerId, split ? { split } : {}, page);
  }

  async sample(id: string): Promise<Sample | null> {
    return isUuid(id) ? this.db.manager.getRepository(Sample).findOneBy({ id }) : null;
  }

  /** The job of any kind with this id (ids are uuids, unique across kinds in practice). */
  async job(id: string): Promise<AnyJob | null> {
    if (!isUuid(id)) return null;
    const ingest = await this.db.ingestJobs.findById(id);
    if (ingest) return { kind: 'ingest', record: ingest };
    const run = await this.db.trainingRuns.findById(id);
    if (run) return { kind: 'training', record: run };
    const result = await this.db.inferenceResults.findById(id);
    if (result) return { kind: 'inference', record: result };
    const render = await this.db.renders.findById(id);
    return render ? { kind: 'render', record: render } : null;
  }

  /**
   * The backend the trainer and the inference service last reported: the newest training run and
   * inference result that recorded one. Null for a kind that has not run yet.
   */
  async backends(): Promise<Record<Extract<JobKind, 'training' | 'inference'>, BackendUse | null>> {
    const run = await this.db.manager
      .getRepository(TrainingRun)
      .createQueryBuilder('run')
      .where('run.backend IS NOT NULL')
      .orderBy('run.startedAt', 'DESC', 'NULLS LAST')
      .addOrderBy('run.updatedAt', 'DESC')
      .getOne();
    const result = await this.db.manager
      .getRepository(InferenceResult)
      .createQueryBuilder('result')
      .where('result.backend IS NOT NULL')
      .orderBy('result.finishedAt', 'DESC', 'NULLS LAST')
      .addOrderBy('result.updatedAt', 'DESC')
      .getOne();
    return {
      training: run?.backend ? { backend: run.backend, device: run.device, recordId: run.id, at: run.startedAt ?? run.updatedAt } : null,
      inference: result?.backend ? { backend: result.backend, device: null, recordId: result.id, at: result.finishedAt ?? result.updatedAt } : null,
    };
  }
}
