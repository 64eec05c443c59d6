import { ErrorCode, S2gError, SPLITS, type Split } from '@s2g/contracts';
import { type Database, IngestJob, type SampleInput, Speaker, Video } from '@s2g/db';
import { PoseMoments } from './moments';
import type { WrittenShard } from './objects';
import type { IngestSummary } from './types';

/** One video as the commit records it; intervals are only those this job adds. */
export interface VideoRecord {
  id: string;
  name: string;
  /** No row yet: the row is inserted with `id`. Otherwise the row is left as it is. */
  isNew: boolean;
  sourceKey: string | null;
  audioKey: string | null;
  durationSeconds: number | null;
  fps: number | null;
  width: number | null;
  height: number | null;
  frameCount: number | null;
  intervals: { externalId: string; startSeconds: number; endSeconds: number; split: Split }[];
}

export interface CommitPlan {
  jobId: string;
  speakerId: string;
  replace: boolean;
  videos: VideoRecord[];
  shards: WrittenShard[];
  /** Training frames this job adds. */
  moments: PoseMoments;
  /** The final progress counts, kept on the job row. */
  progress: Record<string, unknown>;
}

export interface CommitResult {
  summary: IngestSummary;
  /** Objects of the data a `replace` removed: delete them once the transaction has committed. */
  replacedKeys: string[];
}

/** Another job changed the speaker's data while this one ran: retrying sees the new state. */
function raced(what: string): S2gError {
  return new S2gError(ErrorCode.CONFLICT, `${what} was imported by another job while this one ran; the job will be retried`);
}

/**
 * The moments of the speaker's completed imports since (and including) the last one that replaced
 * its data, in completion order.
 */
async function previousMoments(tx: Database, speakerId: string): Promise<PoseMoments> {
  const jobs = await tx.manager.getRepository(IngestJob).find({ where: { speakerId, status: 'completed' }, order: { finishedAt: 'ASC', id: 'ASC' } });
  let total = new PoseMoments();
  for (const job of jobs) {
    const summary = job.summary as Partial<IngestSummary> | null;
    if (summary?.replaced) total = new PoseMoments();
    const m = PoseMoments.fromJSON(summary?.poseMoments);
    if (m) total.merge(m);
  }
  return total;
}

/**
 * Records everything a job produced in one transaction: videos, intervals, shards, samples, the
 * speaker's recomputed normalisation and hours, and the job's completion. Either all of it is
 * stored or none. Commits of one speaker are serialised by an advisory lock, and what the job
 * planned is checked again under it, so two jobs importing the same data cannot both record it.
 *
 * Samples are inserted with `'error'` on a duplicate: ingest skips every interval already recorded
 * before cutting windows, so a duplicate can only come from a concurrent job, and the job is then
 * retried (CONFLICT) rather than leaving shards whose windows have no rows, or rows twice in shards.
 */
export async function commitIngest(db: Database, plan: CommitPlan, summarise: (normalisation: IngestSummary['normalisation']) => IngestSummary): Promise<CommitResult> {
  const { speakerId, jobId } = plan;
  return db.withTransaction(async (tx) => {
    await tx.manager.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [`s2g.ingest:${speakerId}`]);
    const job = await tx.ingestJobs.findById(jobId);
    if (job?.status !== 'running') throw new S2gError(ErrorCode.CONFLICT, `ingest job ${jobId} is ${job?.status ?? 'gone'}, no longer running; nothing was recorded`);

    const replacedKeys: string[] = [];
    const videosNow = new Map((await tx.videos.listBySpeaker(speakerId)).map((v) => [v.name, v]));
    if (plan.replace) {
      for (const s of await tx.shards.listBySpeaker(speakerId)) replacedKeys.push(s.key);
      for (const v of videosNow.values()) for (const key of [v.audioKey, v.sourceKey]) if (key) replacedKeys.push(key);
      // Intervals and samples go with their videos (ON DELETE CASCADE).
      await tx.manager.delete(Video, { speakerId });
      await tx.shards.deleteBySpeaker(speakerId);
      videosNow.clear();
    } else {
      const known = new Set((await tx.intervals.listBySpeaker(speakerId)).map((i) => `${i.videoId}\u0000${i.externalId}`));
      for (const v of plan.videos) {
        const row = videosNow.get(v.name);
        if (v.isNew && row) throw raced(`video ${v.name}`);
        for (const i of v.intervals) if (known.has(`${v.id}\u0000${i.externalId}`)) throw raced(`interval ${i.externalId} of ${v.name}`);
      }
    }

    for (const v of plan.videos) {
      if (!v.isNew) {
        if (!videosNow.has(v.name)) throw raced(`video ${v.name} (deleted meanwhile)`);
        continue;
      }
      await tx.manager.insert(Video, {
        id: v.id,
        speakerId,
        name: v.name,
        sourceKey: v.sourceKey,
        audioKey: v.audioKey,
        durationSeconds: v.durationSeconds,
        fps: v.fps,
        width: v.width,
        height: v.height,
        frameCount: v.frameCount,
      });
    }
    const intervalInputs = plan.videos.flatMap((v) => v.intervals.map((i) => ({ videoId: v.id, ...i })));
    const intervals = intervalInputs.length > 0 ? await tx.intervals.upsertMany(intervalInputs) : [];
    const intervalId = new Map(intervals.map((i) => [`${i.videoId}\u0000${i.externalId}`, i.id]));
    const videoId = new Map(plan.videos.map((v) => [v.name, v.id]));

    const samples: SampleInput[] = [];
    for (const shard of plan.shards) {
      await tx.shards.create({ speakerId, split: shard.split, key: shard.key, sampleCount: shard.samples.length, byteSize: shard.byteSize });
      shard.samples.forEach((s, shardIndex) => {
        const id = intervalId.get(`${videoId.get(s.video)}\u0000${s.interval}`);
        if (!id) throw new Error(`ingest: window of ${s.video}/${s.interval} has no recorded interval`);
        samples.push({ speakerId, intervalId: id, split: shard.split, startSeconds: s.startSeconds, endSeconds: s.endSeconds, startFrame: s.startFrame, shardKey: shard.key, shardIndex });
      });
    }
    await tx.samples.insertMany(samples, 'error');

    const total = plan.replace ? new PoseMoments() : await previousMoments(tx, speakerId);
    total.merge(plan.moments);
    let normalisation: IngestSummary['normalisation'] = null;
    if (total.frames > 0) {
      const values = total.normalisation();
      await tx.speakers.setNormalisation(speakerId, values);
      normalisation = { frames: total.frames, shoulderWidth: values.shoulderWidth, scaleFactor: values.scaleFactor };
    } else if (plan.replace) {
      await tx.manager.update(Speaker, { id: speakerId }, { poseMean: null, poseStd: null, scaleFactor: null, shoulderWidth: null });
    }
    const stats = await tx.speakers.stats(speakerId);
    await tx.speakers.update(speakerId, { hours: SPLITS.reduce((s, k) => s + stats.seconds[k], 0) / 3600 });

    const summary = summarise(normalisation);
    const done = await tx.ingestJobs.markCompleted(jobId, { summary: { ...summary }, progress: plan.progress });
    if (!done) throw new S2gError(ErrorCode.CONFLICT, `ingest job ${jobId} finished elsewhere meanwhile`);
    return { summary, replacedKeys };
  });
}
