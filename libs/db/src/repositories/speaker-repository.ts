import type { EntityManager, Repository } from 'typeorm';
import { ErrorCode, S2gError, SPLITS, type Split } from '@s2g/contracts';
import { Interval, Sample, Shard, Speaker, Video } from '../entities';
import { mapErrors } from '../errors';
import { paginate, type Connection, type PageArgs } from '../pagination';
import { defined, insertOne, isUuid } from './util';

/** Length of the flattened pose vector the normalisation statistics describe (ML-SPEC 2). */
export const POSE_VALUES = 98;

export interface SpeakerNormalisation {
  poseMean: number[];
  poseStd: number[];
  scaleFactor: number;
  shoulderWidth: number;
}

export interface SpeakerStats {
  videos: number;
  intervals: number;
  /** Window counts per split (all splits present, zero when empty). */
  samples: Record<Split, number>;
  /** Seconds of interval footage per split. */
  seconds: Record<Split, number>;
  shards: number;
}

function perSplit(): Record<Split, number> {
  return Object.fromEntries(SPLITS.map((s) => [s, 0])) as Record<Split, number>;
}

export class SpeakerRepository {
  private readonly repo: Repository<Speaker>;

  constructor(private readonly manager: EntityManager) {
    this.repo = manager.getRepository(Speaker);
  }

  /** Throws CONFLICT when the name is taken. */
  async create(input: { name: string; displayName?: string }): Promise<Speaker> {
    return mapErrors(`speaker ${input.name}`, () => insertOne(this.repo, this.repo.create({ name: input.name, displayName: input.displayName ?? input.name })));
  }

  async findById(id: string): Promise<Speaker | null> {
    return isUuid(id) ? this.repo.findOneBy({ id }) : null;
  }

  async findByName(name: string): Promise<Speaker | null> {
    return this.repo.findOneBy({ name });
  }

  /** Throws SPEAKER_UNKNOWN when absent. */
  async getById(id: string): Promise<Speaker> {
    const speaker = await this.findById(id);
    if (!speaker) throw new S2gError(ErrorCode.SPEAKER_UNKNOWN, `speaker not found: ${id}`, { id });
    return speaker;
  }

  /** Throws SPEAKER_UNKNOWN when absent. */
  async getByName(name: string): Promise<Speaker> {
    const speaker = await this.findByName(name);
    if (!speaker) throw new S2gError(ErrorCode.SPEAKER_UNKNOWN, `speaker not found: ${name}`, { name });
    return speaker;
  }

  /** The speaker of this name, created if missing (concurrent callers get the same row). */
  async findOrCreate(input: { name: string; displayName?: string }): Promise<Speaker> {
    await this.repo
      .createQueryBuilder()
      .insert()
      .values({ name: input.name, displayName: input.displayName ?? input.name })
      .orIgnore()
      .execute();
    return this.getByName(input.name);
  }

  async list(args: PageArgs = {}): Promise<Connection<Speaker>> {
    return paginate(this.repo.createQueryBuilder('speaker'), args, { totalCount: true });
  }

  async update(id: string, patch: { name?: string; displayName?: string; hours?: number }): Promise<Speaker> {
    await this.getById(id);
    const changes = defined(patch);
    if (Object.keys(changes).length > 0) {
      await mapErrors(`speaker ${id}`, () => this.repo.update({ id }, changes));
    }
    return this.getById(id);
  }

  /** Stores the statistics computed over the speaker's training frames. */
  async setNormalisation(id: string, stats: SpeakerNormalisation): Promise<Speaker> {
    for (const [name, values] of [['poseMean', stats.poseMean], ['poseStd', stats.poseStd]] as const) {
      if (values.length !== POSE_VALUES || values.some((v) => !Number.isFinite(v))) {
        throw new S2gError(ErrorCode.BAD_USER_INPUT, `${name} must be ${POSE_VALUES} finite numbers`);
      }
    }
    if (!(stats.scaleFactor > 0) || !(stats.shoulderWidth > 0)) {
      throw new S2gError(ErrorCode.BAD_USER_INPUT, 'scaleFactor and shoulderWidth must be positive');
    }
    await this.getById(id);
    await mapErrors(`speaker ${id}`, () =>
      this.repo.update({ id }, { poseMean: stats.poseMean, poseStd: stats.poseStd, scaleFactor: stats.scaleFactor, shoulderWidth: stats.shoulderWidth }),
    );
    return this.getById(id);
  }

  /** Deletes the speaker and, by cascade, its videos, samples, jobs, runs and results. */
  async delete(id: string): Promise<boolean> {
    if (!isUuid(id)) return false;
    const result = await this.repo.delete({ id });
    return (result.affected ?? 0) > 0;
  }

  async stats(id: string): Promise<SpeakerStats> {
    await this.getById(id);
    // Sequential on purpose: inside a transaction all queries share one connection.
    const videos = await this.manager.getRepository(Video).countBy({ speakerId: id });
    const shards = await this.manager.getRepository(Shard).countBy({ speakerId: id });
    const intervalRows = await this.manager
      .getRepository(Interval)
      .createQueryBuilder('interval')
      .innerJoin('interval.video', 'video')
      .select('interval.split', 'split')
      .addSelect('count(*)::int', 'count')
      .addSelect('coalesce(sum(interval.endSeconds - interval.startSeconds), 0)::float8', 'seconds')
      .where('video.speakerId = :id', { id })
      .groupBy('interval.split')
      .getRawMany<{ split: Split; count: number; seconds: number }>();
    const sampleRows = await this.manager
      .getRepository(Sample)
      .createQueryBuilder('sample')
      .select('sample.split', 'split')
      .addSelect('count(*)::int', 'count')
      .where('sample.speakerId = :id', { id })
      .groupBy('sample.split')
      .getRawMany<{ split: Split; count: number }>();
    const samples = perSplit();
    for (const row of sampleRows) samples[row.split] = row.count;
    const seconds = perSplit();
    let intervals = 0;
    for (const row of intervalRows) {
      seconds[row.split] = row.seconds;
      intervals += row.count;
    }
    return { videos, intervals, samples, seconds, shards };
  }
}
