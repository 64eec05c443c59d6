import type { EntityManager, Repository } from 'typeorm';
import { SPLITS, type Split } from '@s2g/contracts';
import { Sample } from '../entities';
import { mapErrors } from '../errors';
import { paginate, type Connection, type PageArgs } from '../pagination';
import { chunks, isUuid } from './util';

export interface SampleInput {
  speakerId: string;
  intervalId: string;
  split: Split;
  startSeconds: number;
  endSeconds: number;
  startFrame: number;
  shardKey: string;
  shardIndex: number;
}

/**
 * What to do with a window already recorded (same speaker, interval and start frame):
 * `error` throws CONFLICT and inserts nothing, `ignore` keeps the old row, `update` points the
 * old row at the new shard position (ingest re-cut its shards).
 */
export type OnDuplicate = 'error' | 'ignore' | 'update';

/** 8 columns per row: well under Postgres' 65535 parameters per statement. */
const INSERT_BATCH = 2000;

export class SampleRepository {
  private readonly repo: Repository<Sample>;

  constructor(private readonly manager: EntityManager) {
    this.repo = manager.getRepository(Sample);
  }

  /**
   * Inserts windows in batches inside one transaction (joins the caller's transaction if there is
   * one): all are recorded or none. Returns how many rows were inserted or updated.
   */
  async insertMany(samples: readonly SampleInput[], onDuplicate: OnDuplicate = 'error'): Promise<number> {
    if (samples.length === 0) return 0;
    const run = async (manager: EntityManager): Promise<number> => {
      let written = 0;
      for (const batch of chunks(samples, INSERT_BATCH)) {
        const qb = manager
          .getRepository(Sample)
          .createQueryBuilder()
          .insert()
          .values(batch.map((s) => ({ ...s })));
        if (onDuplicate === 'ignore') qb.orIgnore();
        if (onDuplicate === 'update') qb.orUpdate(['split', 'start_seconds', 'end_seconds', 'shard_key', 'shard_index'], ['speaker_id', 'interval_id', 'start_frame']);
        const result = await qb.returning('id').execute();
        written += (result.raw as unknown[]).length;
      }
      return written;
    };
    return mapErrors('samples', () => (this.manager.queryRunner?.isTransactionActive ? run(this.manager) : this.manager.transaction(run)));
  }

  /** Window counts per split; every split is present. */
  async countBySplit(speakerId: string): Promise<Record<Split, number>> {
    const out = Object.fromEntries(SPLITS.map((s) => [s, 0])) as Record<Split, number>;
    if (!isUuid(speakerId)) return out;
    const rows = await this.repo
      .createQueryBuilder('sample')
      .select('sample.split', 'split')
      .addSelect('count(*)::int', 'count')
      .where('sample.speakerId = :speakerId', { speakerId })
      .groupBy('sample.split')
      .getRawMany<{ split: Split; count: number }>();
    for (const row of rows) out[row.split] = row.count;
    return out;
  }

  /** A speaker's windows, oldest first, optionally of one split. */
  async list(speakerId: string, filter: { split?: Split } = {}, args: PageArgs = {}): Promise<Connection<Sample>> {
    const qb = this.repo.createQueryBuilder('sample').where('sample.speakerId = :speakerId', { speakerId: isUuid(speakerId) ? speakerId : null });
    if (filter.split) qb.andWhere('sample.split = :split', { split: filter.split });
    return paginate(qb, args, { order: 'ASC', totalCount: true });
  }

  /** The windows packed in one shard, in shard order. */
  async listByShard(shardKey: string): Promise<Sample[]> {
    return this.repo.find({ where: { shardKey }, order: { shardIndex: 'ASC' } });
  }

  /** Removes a speaker's windows (before a full re-ingest); returns how many. */
  async deleteBySpeaker(speakerId: string): Promise<number> {
    if (!isUuid(speakerId)) return 0;
    return (await this.repo.delete({ speakerId })).affected ?? 0;
  }
}
