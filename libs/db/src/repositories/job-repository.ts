import type { EntityManager, EntityTarget, FindOptionsWhere, QueryDeepPartialEntity, Repository } from 'typeorm';
import type { ErrorCode, JobStatus } from '@s2g/contracts';
import type { JobRecord } from '../entities';
import { mapErrors } from '../errors';
import { paginate, type Connection, type PageArgs } from '../pagination';
import { defined, isUuid, notFound } from './util';

/** Statuses a job can still move from; completed, failed and cancelled are final. */
const OPEN: JobStatus[] = ['queued', 'running'];

/**
 * Status transitions shared by every job kind. Each is conditional on the current status, so a
 * redelivered command or a late message cannot resurrect a finished job: the methods return false
 * when the transition did not apply.
 */
export abstract class JobRepository<T extends JobRecord> {
  protected readonly repo: Repository<T>;

  protected constructor(
    protected readonly manager: EntityManager,
    target: EntityTarget<T>,
    protected readonly label: string,
  ) {
    this.repo = manager.getRepository(target);
  }

  async findById(id: string): Promise<T | null> {
    if (!isUuid(id)) return null;
    return this.repo.findOneBy({ id } as FindOptionsWhere<T>);
  }

  async getById(id: string): Promise<T> {
    const found = await this.findById(id);
    if (!found) throw notFound(this.label, id);
    return found;
  }

  /** Newest first; optionally only some statuses. */
  async list(args: PageArgs = {}, filter: { status?: JobStatus[] } = {}): Promise<Connection<T>> {
    const qb = this.repo.createQueryBuilder('job');
    if (filter.status) qb.andWhere('job.status IN (:...statuses)', { statuses: filter.status });
    return paginate(qb, args, { totalCount: true });
  }

  protected async transition(id: string, from: JobStatus[], set: Record<string, unknown>): Promise<boolean> {
    if (!isUuid(id)) return false;
    return mapErrors(`${this.label} ${id}`, async () => {
      const result = await this.repo
        .createQueryBuilder()
        .update()
        .set(set as QueryDeepPartialEntity<T>)
        .where('id = :id', { id })
        .andWhere('status IN (:...from)', { from })
        .execute();
      return (result.affected ?? 0) > 0;
    });
  }

  /**
   * queued|running -> running; counts the attempt. A job already running is taken over (its
   * previous worker died and the command was redelivered).
   */
  async markRunning(id: string): Promise<boolean> {
    return this.transition(id, OPEN, {
      status: 'running',
      attempts: () => 'attempts + 1',
      startedAt: () => 'COALESCE(started_at, now())',
      errorCode: null,
      errorMessage: null,
    });
  }

  /** queued|running -> completed, with the job's result fields. */
  async markCompleted(id: string, fields: Partial<T> = {}): Promise<boolean> {
    return this.transition(id, OPEN, { ...defined(fields), status: 'completed', finishedAt: () => 'now()', errorCode: null, errorMessage: null });
  }

  /** queued|running -> failed, with a stable code and a message for the user. */
  async markFailed(id: string, error: { code: ErrorCode; message: string }): Promise<boolean> {
    return this.transition(id, OPEN, { status: 'failed', finishedAt: () => 'now()', errorCode: error.code, errorMessage: error.message });
  }

  /** queued|running -> cancelled. */
  async markCancelled(id: string): Promise<boolean> {
    return this.transition(id, OPEN, { status: 'cancelled', finishedAt: () => 'now()' });
  }

  /** failed|cancelled -> queued, for an explicit retry by a user. */
  async requeue(id: string): Promise<boolean> {
    return this.transition(id, ['failed', 'cancelled'], { status: 'queued', finishedAt: null, errorCode: null, errorMessage: null });
  }
}
