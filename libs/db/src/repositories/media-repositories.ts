import type { EntityManager, Repository } from 'typeorm';
import { SPLITS, type Split } from '@s2g/contracts';
import { Interval, Shard, Video } from '../entities';
import { mapErrors } from '../errors';
import { chunks, defined, insertOne, isUuid, notFound } from './util';

export interface VideoInput {
  speakerId: string;
  name: string;
  sourceKey?: string | null;
  audioKey?: string | null;
  durationSeconds?: number | null;
  fps?: number | null;
  width?: number | null;
  height?: number | null;
  frameCount?: number | null;
  link?: string | null;
}

const VIDEO_FIELDS = ['sourceKey', 'audioKey', 'durationSeconds', 'fps', 'width', 'height', 'frameCount', 'link'] as const;

export class VideoRepository {
  private readonly repo: Repository<Video>;

  constructor(manager: EntityManager) {
    this.repo = manager.getRepository(Video);
  }

  /**
   * Inserts the video, or updates the given fields of the speaker's video of that name: re-running
   * an ingest refreshes rather than duplicates. Fields left undefined keep their stored value.
   */
  async upsert(input: VideoInput): Promise<Video> {
    const values = defined(input);
    const update = VIDEO_FIELDS.filter((f) => input[f] !== undefined).map((f) => this.repo.metadata.findColumnWithPropertyName(f)?.databaseName ?? f);
    await mapErrors(`video ${input.name}`, () => {
      const qb = this.repo.createQueryBuilder().insert().values(values);
      if (update.length > 0) qb.orUpdate(update, ['speaker_id', 'name']);
      else qb.orIgnore();
      return qb.execute();
    });
    const video = await this.findByName(input.speakerId, input.name);
    if (!video) throw notFound('video', input.name);
    return video;
  }

  async findById(id: string): Promise<Video | null> {
    return isUuid(id) ? this.repo.findOneBy({ id }) : null;
  }

  async findByName(speakerId: string, name: string): Promise<Video | null> {
    return isUuid(speakerId) ? this.repo.findOneBy({ speakerId, name }) : null;
  }

  async listBySpeaker(speakerId: string): Promise<Video[]> {
    if (!isUuid(speakerId)) return [];
    return this.repo.find({ where: { speakerId }, order: { name: 'ASC' } });
  }

  async update(id: string, patch: Partial<Omit<VideoInput, 'speakerId'>>): Promise<Video> {
    const changes = defined(patch);
    if (Object.keys(changes).length > 0) await mapErrors(`video ${id}`, () => this.repo.update({ id }, changes));
    const video = await this.findById(id);
    if (!video) throw notFound('video', id);
    return video;
  }
}

export interface IntervalInput {
  videoId: string;
  externalId: string;
  startSeconds: number;
  endSeconds: number;
  split: Split;
}

export class IntervalRepository {
  private readonly repo: Repository<Interval>;

  constructor(manager: EntityManager) {
    this.repo = manager.getRepository(Interval);
  }

  /** Inserts intervals, updating times and split of ones already known (by video and external id). */
  async upsertMany(inputs: readonly IntervalInput[]): Promise<Interval[]> {
    for (const batch of chunks(inputs, 1000)) {
      await mapErrors('intervals', () =>
        this.repo
          .createQueryBuilder()
          .insert()
          .values(batch.map((i) => ({ ...i })))
          .orUpdate(['start_seconds', 'end_seconds', 'split'], ['video_id', 'external_id'])
          .execute(),
      );
    }
    const out: Interval[] = [];
    const byVideo = new Map<string, string[]>();
    for (const i of inputs) byVideo.set(i.videoId, [...(byVideo.get(i.videoId) ?? []), i.externalId]);
    for (const [videoId, ids] of byVideo) {
      out.push(
        ...(await this.repo
          .createQueryBuilder('interval')
          .where('interval.videoId = :videoId', { videoId })
          .andWhere('interval.externalId IN (:...ids)', { ids })
          .orderBy('interval.startSeconds', 'ASC')
          .getMany()),
      );
    }
    return out;
  }

  async findById(id: string): Promise<Interval | null> {
    return isUuid(id) ? this.repo.findOneBy({ id }) : null;
  }

  async listByVideo(videoId: string): Promise<Interval[]> {
    if (!isUuid(videoId)) return [];
    return this.repo.find({ where: { videoId }, order: { startSeconds: 'ASC', id: 'ASC' } });
  }

  /** A speaker's intervals in video and time order, optionally of one split. */
  async listBySpeaker(speakerId: string, split?: Split): Promise<Interval[]> {
    if (!isUuid(speakerId)) return [];
    const qb = this.repo
      .createQueryBuilder('interval')
      .innerJoin('interval.video', 'video')
      .where('video.speakerId = :speakerId', { speakerId })
      .orderBy('video.name', 'ASC')
      .addOrderBy('interval.startSeconds', 'ASC')
      .addOrderBy('interval.id', 'ASC');
    if (split) qb.andWhere('interval.split = :split', { split });
    return qb.getMany();
  }
}

export interface ShardInput {
  speakerId: string;
  split: Split;
  key: string;
  sampleCount: number;
  byteSize: number;
}

export class ShardRepository {
  private readonly repo: Repository<Shard>;

  constructor(manager: EntityManager) {
    this.repo = manager.getRepository(Shard);
  }

  /** Throws CONFLICT when a shard with this key is already recorded. */
  async create(input: ShardInput): Promise<Shard> {
    return mapErrors(`shard ${input.key}`, () => insertOne(this.repo, this.repo.create({ ...input })));
  }

  async findByKey(key: string): Promise<Shard | null> {
    return this.repo.findOneBy({ key });
  }

  /** A speaker's shards in key order, optionally of one split. */
  async listBySpeaker(speakerId: string, split?: Split): Promise<Shard[]> {
    if (!isUuid(speakerId)) return [];
    return this.repo.find({ where: split ? { speakerId, split } : { speakerId }, order: { key: 'ASC' } });
  }

  /** Sample counts per split over the speaker's shards. */
  async countSamplesBySplit(speakerId: string): Promise<Record<Split, number>> {
    const out = Object.fromEntries(SPLITS.map((s) => [s, 0])) as Record<Split, number>;
    if (!isUuid(speakerId)) return out;
    const rows = await this.repo
      .createQueryBuilder('shard')
      .select('shard.split', 'split')
      .addSelect('coalesce(sum(shard.sampleCount), 0)::int', 'count')
      .where('shard.speakerId = :speakerId', { speakerId })
      .groupBy('shard.split')
      .getRawMany<{ split: Split; count: number }>();
    for (const row of rows) out[row.split] = row.count;
    return out;
  }

  /** Forgets a speaker's shards (before re-cutting them); returns how many rows went. */
  async deleteBySpeaker(speakerId: string): Promise<number> {
    if (!isUuid(speakerId)) return 0;
    return (await this.repo.delete({ speakerId })).affected ?? 0;
  }
}
