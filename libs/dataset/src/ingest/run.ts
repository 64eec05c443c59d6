import { createReadStream } from 'node:fs';
import { mkdir, mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeError, ErrorCode, MAX_REPORTED_ISSUES, parseMessage, S2gError, type Split } from '@s2g/contracts';
import { isUuid } from '@s2g/db';
import { extractAudioToWav, type MediaInfo, probe } from '@s2g/media';
import { FRAME_VALUES, POSE_FPS } from '@s2g/pose';
import type { DatasetIssue, PoseFrame, SourceInterval, SourceVideo } from '../formats/types';
import { IssueLog } from '../formats/types';
import { DEFAULT_SHARD_MAX_BYTES } from '../formats/shard';
import { assignSplit, videoSamples } from '../windows';
import { commitIngest, type VideoRecord } from './commit';
import { failIngestJob, openJob, publishCompleted } from './job';
import { openLayout, type OpenedSource } from './layouts';
import { PoseMoments } from './moments';
import { discardJobObjects, JobKeys, ShardWriter, videoUuid } from './objects';
import { ProgressReporter } from './progress';
import { resolveSource } from './source';
import type { IngestContext, IngestDeps, IngestRequest, IngestRequestInput, IngestSummary, RunIngestOptions } from './types';
import { WavFile } from './wav-file';

/**
 * Audio may end this much before the last keypoint frame it should cover (encoders often cut the
 * last few milliseconds); the missing part of a window is zero-padded. Anything shorter is an error.
 */
export const AUDIO_SLACK_SECONDS = 0.25;
/** Matches videoSamples' tolerance when deciding whether a frame lies inside an interval. */
const TIME_EPSILON = 1e-3;

function interrupted(): S2gError {
  return new S2gError(ErrorCode.UNAVAILABLE, 'ingest interrupted (the worker is shutting down); nothing was recorded and the job can run again');
}

/** What the speaker already has, by video name: the row id and the ids of its recorded intervals. */
type Existing = Map<string, { id: string; intervals: Set<string> }>;

async function loadExisting(deps: IngestDeps, speakerId: string): Promise<Existing> {
  const out: Existing = new Map();
  const byId = new Map<string, Set<string>>();
  for (const v of await deps.db.videos.listBySpeaker(speakerId)) {
    const intervals = new Set<string>();
    out.set(v.name, { id: v.id, intervals });
    byId.set(v.id, intervals);
  }
  for (const i of await deps.db.intervals.listBySpeaker(speakerId)) byId.get(i.videoId)?.add(i.externalId);
  return out;
}

/** State of one run while it reads, cuts and writes. */
class Run {
  readonly issues: DatasetIssue[] = [];
  /** Problems that made a whole video (or window file) unusable, in order. */
  readonly failures: DatasetIssue[] = [];
  readonly videos: VideoRecord[] = [];
  readonly moments = new PoseMoments();
  /** Object keys written by this run, removed again if it fails. */
  readonly written: string[] = [];
  readonly writer: ShardWriter;
  imported = 0;
  unchanged = 0;
  samples = 0;
  sourceSeconds = 0;
  readonly perSplit: Record<Split, number> = { train: 0, dev: 0, test: 0 };
  limitReached = false;
  /** Rewrites local paths in messages to what the user gave (object keys, archive members). */
  display: (text: string) => string = (t) => t;

  constructor(
    readonly ctx: IngestContext,
    readonly speakerId: string,
    readonly progress: ProgressReporter,
    readonly tmp: string,
    readonly signal: AbortSignal | undefined,
    shardMaxBytes: number,
  ) {
    this.writer = new ShardWriter(ctx.deps.store, speakerId, ctx.job.jobId, shardMaxBytes, {
      writing: (key) => this.written.push(key),
      written: (bytes) => progress.add({ bytes }),
      packing: (active) => progress.stage(active ? 'packing' : 'cutting'),
    });
  }

  /** Records a per-file problem (with paths as the user knows them); returns it as recorded. */
  addIssue(issue: DatasetIssue): DatasetIssue {
    const shown = { code: issue.code, file: this.display(issue.file), message: this.display(issue.message) };
    this.issues.push(shown);
    return shown;
  }

  /** Records a problem that made a video (or file) unusable. */
  fail(issue: DatasetIssue): void {
    this.failures.push(issue);
    this.progress.add({ files: 1 });
  }

  get job(): IngestRequest {
    return this.ctx.job;
  }

  check(): void {
    if (this.signal?.aborted) throw interrupted();
  }

  /** True once `maxSamples` windows are cut. */
  full(): boolean {
    const max = this.job.options.maxSamples;
    if (max !== undefined && this.samples >= max) this.limitReached = true;
    return this.limitReached;
  }

  async put(key: string, file: string, contentType: string): Promise<void> {
    const size = (await stat(file)).size;
    this.written.push(key);
    await this.ctx.deps.store.put(key, createReadStream(file), size, { contentType });
    this.progress.add({ bytes: size });
  }
}

/** Probes the media, extracts the 16 kHz mono audio and checks it lasts as long as the keypoints it must cover. */
async function prepareAudio(video: SourceVideo & { mediaPath: string }, until: number, wavPath: string): Promise<{ media: MediaInfo; wav: WavFile; audioFile: string }> {
  const media = await probe(video.mediaPath);
  const audioFile = video.audioPath ?? video.mediaPath;
  const audioInfo = audioFile === video.mediaPath ? media : await probe(audioFile);
  if (!audioInfo.audio) throw new S2gError(ErrorCode.MEDIA_UNSUPPORTED, `${audioFile}: no audio stream`, { file: audioFile });
  await extractAudioToWav(audioFile, wavPath);
  const wav = await WavFile.open(wavPath);
  if (wav.durationSec + AUDIO_SLACK_SECONDS < until) {
    await wav.close();
    throw new S2gError(
      ErrorCode.AUDIO_TOO_SHORT,
      `${audioFile}: the audio lasts ${wav.durationSec.toFixed(2)} s but its keypoints run to ${until.toFixed(2)} s`,
      { file: audioFile, audioSeconds: wav.durationSec, keypointSeconds: until },
    );
  }
  return { media, wav, audioFile };
}

/** Pose rate from the gaps between consecutive frames of a run (15 nominal, 14.985 in the original dataset). */
class RateEstimate {
  private last = Number.NaN;
  private sum = 0;
  private n = 0;

  see(time: number): void {
    const d = time - this.last;
    if (d > 0 && d < 1.5 / POSE_FPS) {
      this.sum += d;
      this.n += 1;
    }
    this.last = time;
  }

  get fps(): number | null {
    return this.n > 0 ? Math.round((this.n / this.sum) * 1000) / 1000 : null;
  }
}

/** Layouts 1, 2 and synthetic: per video, extract the audio, stream the frames through the window cutter. */
async function importVideos(run: Run, source: Extract<OpenedSource, { kind: 'videos' }>, existing: Existing): Promise<void> {
  const { job, deps } = run.ctx;
  const maxVideos = job.options.maxVideos ?? Infinity;
  const videos = source.videos.slice(0, maxVideos);
  run.progress.setTotalFiles(Math.min(source.expected, maxVideos));
  // Videos the reader could not open at all (their issue is already logged).
  for (let i = source.videos.length; i < source.expected; i++) run.progress.add({ files: 1 });
  for (const [n, video] of videos.entries()) {
    run.check();
    if (run.full()) break;
    const known = existing.get(video.name);
    const fresh = video.intervals.filter((i) => !known?.intervals.has(i.id));
    if (known && video.intervals.length > 0 && fresh.length === 0) {
      run.unchanged += 1;
      run.progress.add({ files: 1 });
      continue;
    }
    const usable = fresh.filter((i) => i.end > i.start);
    // The reader has usually reported why already (no usable frames, no media file): prefer its words.
    const reported = (): DatasetIssue | undefined => run.issues.find((i) => i.message.includes(video.name));
    if (usable.length === 0) {
      run.fail(reported() ?? run.addIssue({ code: ErrorCode.KEYPOINTS_INVALID, file: video.name, message: `${video.name}: no interval with keypoints to import` }));
      continue;
    }
    if (!video.mediaPath) {
      run.fail(reported() ?? run.addIssue({ code: ErrorCode.FILE_MISSING, file: video.name, message: `${video.name}: no video or audio file` }));
      continue;
    }
    run.progress.stage('extracting');
    const wavPath = join(run.tmp, 'audio', `${n}.wav`);
    let prepared: Awaited<ReturnType<typeof prepareAudio>>;
    try {
      prepared = await prepareAudio({ ...video, mediaPath: video.mediaPath }, Math.max(...usable.map((i) => i.end)), wavPath);
    } catch (e) {
      if (!(e instanceof S2gError)) throw e;
      const file = typeof e.details?.file === 'string' ? e.details.file : video.mediaPath;
      const log = new IssueLog();
      log.addError(file, e, ErrorCode.MEDIA_UNREADABLE);
      run.fail(run.addIssue(log.issues[0]));
      continue;
    }
    const { media, wav } = prepared;

    run.progress.stage('cutting');
    const intervals: (SourceInterval & { split: Split })[] = usable.map((i) => ({ ...i, split: i.split ?? assignSplit(source.speaker, video.name, i.id, job.options.splitSeed) }));
    const train = intervals.filter((i) => i.split === 'train');
    const moments = new Map(train.map((i) => [i.id, new PoseMoments()]));
    const rate = new RateEstimate();
    let frames = 0;
    const tapped = async function* (all: AsyncIterable<PoseFrame>): AsyncGenerator<PoseFrame> {
      for await (const f of all) {
        run.check();
        frames += 1;
        run.progress.add({ frames: 1 });
        rate.see(f.time);
        const inside = train.find((i) => f.time >= i.start - TIME_EPSILON && f.time <= i.end + TIME_EPSILON);
        if (inside) moments.get(inside.id)?.add(f.keypoints);
        yield f;
      }
    };
    const issuesBefore = run.issues.length;
    let lastStart = -Infinity;
    let windows = 0;
    try {
      const cut = videoSamples(source.speaker, { ...video, intervals, frames: () => tapped(video.frames()) }, (start, length) => wav.read(start, length));
      for await (const sample of cut) {
        run.check();
        if (run.full()) break;
        const startFrame = Number(sample.id.slice(sample.id.lastIndexOf('/') + 1));
        await run.writer.add(sample, { video: video.name, interval: sample.intervalId, startFrame, startSeconds: sample.startTime, endSeconds: sample.endTime });
        lastStart = sample.startTime;
        windows += 1;
        run.samples += 1;
        run.perSplit[sample.split] += 1;
        run.progress.add({ samples: 1 });
      }
    } finally {
      await wav.close();
    }
    if (frames === 0) {
      run.fail(run.issues[issuesBefore] ?? run.addIssue({ code: ErrorCode.KEYPOINTS_INVALID, file: video.name, message: `${video.name}: no keypoint frame could be read` }));
      continue;
    }
    // Cut short by maxSamples: keep the intervals reached (the last one partly cut); the rest can come with a later import.
    const recorded = run.limitReached ? intervals.filter((i) => i.start <= lastStart + TIME_EPSILON) : intervals;
    for (const i of recorded) {
      const m = moments.get(i.id);
      if (m) run.moments.merge(m);
    }
    run.progress.stage('extracting');
    const id = known?.id ?? videoUuid(run.speakerId, video.name);
    let audioKey: string | null = null;
    let sourceKey: string | null = null;
    if (!known) {
      audioKey = JobKeys.audio(run.speakerId, id, job.jobId);
      await run.put(audioKey, wavPath, 'audio/wav');
      if (job.options.storeMedia !== false && media.video && video.mediaPath !== wavPath) {
        sourceKey = JobKeys.source(run.speakerId, id, job.jobId, video.mediaPath);
        await run.put(sourceKey, video.mediaPath, 'application/octet-stream');
      }
    }
    await rm(wavPath, { force: true });
    run.videos.push({
      id,
      name: video.name,
      isNew: !known,
      sourceKey,
      audioKey,
      durationSeconds: media.durationSec || wav.durationSec,
      fps: rate.fps,
      width: media.video?.width ?? null,
      height: media.video?.height ?? null,
      frameCount: video.frameCount,
      intervals: recorded.map((i) => ({ externalId: i.id, startSeconds: i.start, endSeconds: i.end, split: i.split })),
    });
    run.sourceSeconds += media.durationSec || wav.durationSec;
    run.imported += 1;
    run.progress.add({ files: 1 });
    deps.logger?.debug({ jobId: job.jobId, video: video.name, frames, windows }, 'ingest: video cut');
  }
}

/** Layout 3: windows arrive cut; group them by video and interval, skip the ones recorded before. */
async function importWindows(run: Run, source: Extract<OpenedSource, { kind: 'windows' }>, existing: Existing): Promise<void> {
  const { job } = run.ctx;
  run.progress.setTotalFiles(source.npz.files.length);
  type Group = { start: number; end: number; split: Split; starts: Set<number>; frames: Set<number> };
  const groups = new Map<string, Map<string, Group>>();
  const unchangedVideos = new Set<string>();
  const maxVideos = job.options.maxVideos ?? Infinity;
  run.progress.stage('cutting');
  for await (const sample of source.npz.samples()) {
    run.check();
    run.progress.add({ files: 1 });
    if (run.full()) break;
    if (existing.get(sample.video)?.intervals.has(sample.intervalId)) {
      unchangedVideos.add(sample.video);
      continue;
    }
    if (!groups.has(sample.video) && groups.size >= maxVideos) continue;
    let video = groups.get(sample.video);
    if (!video) groups.set(sample.video, (video = new Map()));
    let interval = video.get(sample.intervalId);
    if (!interval) video.set(sample.intervalId, (interval = { start: sample.startTime, end: sample.endTime, split: sample.split, starts: new Set(), frames: new Set() }));
    // The video's frame index: windows of one interval are told apart by where they start.
    const startFrame = Math.round(sample.startTime * POSE_FPS);
    if (interval.starts.has(startFrame)) {
      run.addIssue({ code: ErrorCode.DATASET_INVALID, file: sample.id, message: `${sample.id}: a second window of interval ${sample.intervalId} starting at ${sample.startTime.toFixed(3)} s (skipped)` });
      continue;
    }
    interval.starts.add(startFrame);
    interval.start = Math.min(interval.start, sample.startTime);
    interval.end = Math.max(interval.end, sample.endTime);
    let added = 0;
    for (let t = 0; t < sample.pose.length / FRAME_VALUES; t++) {
      if (interval.frames.has(startFrame + t)) continue;
      interval.frames.add(startFrame + t);
      added += 1;
      if (sample.split === 'train') run.moments.add(sample.pose.subarray(t * FRAME_VALUES, (t + 1) * FRAME_VALUES));
    }
    run.progress.add({ frames: added, samples: 1 });
    await run.writer.add(sample, { video: sample.video, interval: sample.intervalId, startFrame, startSeconds: sample.startTime, endSeconds: sample.endTime });
    run.samples += 1;
    run.perSplit[sample.split] += 1;
  }
  for (const [name, intervals] of groups) {
    const known = existing.get(name);
    unchangedVideos.delete(name);
    const frames = [...intervals.values()].reduce((n, i) => n + i.frames.size, 0);
    run.sourceSeconds += frames / POSE_FPS;
    run.videos.push({
      id: known?.id ?? videoUuid(run.speakerId, name),
      name,
      isNew: !known,
      sourceKey: null,
      audioKey: null,
      durationSeconds: null,
      fps: POSE_FPS,
      width: null,
      height: null,
      frameCount: known ? null : frames,
      intervals: [...intervals].map(([id, i]) => ({ externalId: id, startSeconds: i.start, endSeconds: i.end, split: i.split })),
    });
  }
  run.imported = run.samples;
  run.unchanged = unchangedVideos.size;
}

function summaryOf(run: Run, speakerId: string, started: number, normalisation: IngestSummary['normalisation']): IngestSummary {
  const intervals = run.videos.reduce((n, v) => n + v.intervals.length, 0);
  const seconds = run.videos.reduce((n, v) => n + v.intervals.reduce((m, i) => m + (i.endSeconds - i.startSeconds), 0), 0);
  return {
    jobId: run.job.jobId,
    speakerId,
    layout: run.job.layout,
    replaced: run.job.options.replace,
    videos: run.videos.length,
    unchangedVideos: run.unchanged,
    intervals,
    frames: run.progress.counts.frames,
    samples: { ...run.perSplit },
    shards: run.writer.written.length,
    bytes: run.progress.counts.bytes,
    hours: seconds / 3600,
    sourceHours: run.sourceSeconds / 3600,
    durationMs: Math.round(performance.now() - started),
    stageMs: Object.fromEntries(Object.entries(run.progress.elapsed()).map(([k, v]) => [k, Math.round(v)])) as IngestSummary['stageMs'],
    issues: run.issues.slice(0, MAX_REPORTED_ISSUES),
    issueCount: run.issues.length,
    poseMoments: run.moments.frames > 0 ? run.moments.toJSON() : null,
    normalisation,
  };
}

/** When nothing at all could be imported, the job fails with the first problem's code. */
function nothingImported(run: Run): S2gError {
  const first = run.failures[0] ?? run.issues[0];
  if (!first) return new S2gError(ErrorCode.DATASET_INVALID, 'the source holds no videos or windows for this speaker');
  const more = run.issues.length > 1 ? ` (and ${run.issues.length - 1} more problem${run.issues.length > 2 ? 's' : ''})` : '';
  return new S2gError(first.code, `nothing could be imported: ${first.message}${more}`, { file: first.file, issues: run.issues.slice(0, MAX_REPORTED_ISSUES) });
}

/**
 * Runs one ingest job from start to end: resolves the source (a folder, or objects under a prefix,
 * possibly one archive), reads it with its layout's reader, extracts each video's 16 kHz audio,
 * cuts 64-frame windows (stride 5) inside the intervals not imported before, packs them into shards
 * and stores them, then records videos, intervals, shards, samples, the speaker's normalisation
 * and the job's completion in one transaction. Progress goes to `onProgress`, to the bus (when
 * `deps.bus` is set) and to the job row.
 *
 * All or nothing: on any failure the objects this run wrote are deleted and no row is written;
 * the failure is recorded (see `recordFailure`) and rethrown. Idempotent: a job already completed
 * is not run again (its completed event is re-sent), a re-run after a crash overwrites the same
 * keys, and data imported before (by video name and interval id) is skipped, so importing the same
 * data twice adds nothing.
 *
 * The job row is created when missing (direct calls); the speaker must exist (SPEAKER_UNKNOWN).
 */
export async function runIngest(input: IngestRequestInput, deps: IngestDeps, options: RunIngestOptions = {}): Promise<IngestSummary> {
  const job = parseMessage('s2g.ingest.requested', input);
  const started = performance.now();
  const ctx: IngestContext = { job, deps, ...(options.onProgress ? { onProgress: options.onProgress } : {}) };
  const progress = new ProgressReporter(ctx, options.progressIntervalMs ?? 500);
  const recordFailure = options.recordFailure ?? (() => true);
  let run: Run | undefined;
  let committed = false;
  let tmp: string | undefined;
  try {
    if (!isUuid(job.jobId)) throw new S2gError(ErrorCode.BAD_USER_INPUT, `ingest job id must be a UUID, got '${job.jobId}'`);
    const row = await openJob(deps.db, job);
    if (row.status === 'completed') {
      const summary = { ...(row.summary as unknown as IngestSummary), alreadyCompleted: true };
      await publishCompleted(deps, summary);
      return summary;
    }
    if (row.status !== 'queued' && row.status !== 'running') {
      throw new S2gError(ErrorCode.CONFLICT, `ingest job ${job.jobId} is already ${row.status}; requeue it to run it again`, { status: row.status });
    }
    const speaker = await deps.db.speakers.findById(job.speakerId);
    if (!speaker) throw new S2gError(ErrorCode.SPEAKER_UNKNOWN, `speaker ${job.speakerId} does not exist: create the speaker before importing data for it`, { speakerId: job.speakerId });
    if (row.speakerId !== speaker.id) await deps.db.ingestJobs.setSpeaker(job.jobId, speaker.id);
    if (!(await deps.db.ingestJobs.markRunning(job.jobId))) {
      throw new S2gError(ErrorCode.CONFLICT, `ingest job ${job.jobId} finished while starting`);
    }
    // An earlier attempt that died before cleaning up may have left objects; the keys are ours alone.
    if (row.attempts > 0) {
      const removed = await discardJobObjects(deps.store, speaker.id, job.jobId);
      if (removed > 0) deps.logger?.info({ jobId: job.jobId, removed }, 'ingest: removed objects of an interrupted attempt');
    }
    progress.report(true);

    tmp = await mkdtemp(join(deps.tmpDir ?? tmpdir(), 's2g-ingest-'));
    await mkdir(join(tmp, 'audio'));
    run = new Run(ctx, speaker.id, progress, tmp, options.signal, options.shardMaxBytes ?? DEFAULT_SHARD_MAX_BYTES);
    const local =
      job.layout === 'synthetic'
        ? null
        : await resolveSource(job.source, { store: deps.store, tmp, signal: options.signal, onBytes: (b) => (progress.counts.bytes = b) });
    if (local) run.display = local.display;
    const active = run;
    const onIssue = (issue: DatasetIssue): void => void active.addIssue(issue);
    progress.stage('reading');
    const existing = job.options.replace ? new Map() : await loadExisting(deps, speaker.id);
    const opened = await openLayout({ job, sourceSpeaker: job.options.sourceSpeaker ?? speaker.name, root: local?.root ?? null, tmp, onIssue });
    if (opened.kind === 'videos') await importVideos(run, opened, existing);
    else await importWindows(run, opened, existing);
    run.check();
    if (run.imported === 0 && run.unchanged === 0) throw nothingImported(run);
    await run.writer.finish();

    progress.stage('finishing');
    const done = run;
    const { summary, replacedKeys } = await commitIngest(
      deps.db,
      { jobId: job.jobId, speakerId: speaker.id, replace: job.options.replace, videos: run.videos, shards: run.writer.written, moments: run.moments, progress: { ...progress.counts } },
      (normalisation) => summaryOf(done, speaker.id, started, normalisation),
    );
    committed = true;
    for (const key of replacedKeys) {
      await deps.store.delete(key).catch((e: unknown) => deps.logger?.warn({ key, err: (e as Error).message }, 'ingest: could not delete an object of replaced data'));
    }
    await progress.settle();
    await publishCompleted(deps, summary);
    deps.logger?.info({ jobId: job.jobId, speakerId: speaker.id, samples: summary.samples, issues: summary.issueCount, ms: summary.durationMs }, 'ingest completed');
    return summary;
  } catch (e) {
    const error = options.signal?.aborted && !(e instanceof S2gError && e.code === ErrorCode.UNAVAILABLE) ? interrupted() : e;
    if (!committed && run) {
      // A write still in flight would recreate its object after the deletes.
      await run.writer.abandon();
      for (const key of run.written) await deps.store.delete(key).catch(() => undefined);
    }
    await progress.settle();
    if (!committed && recordFailure(error)) {
      try {
        await failIngestJob(deps, job, error);
      } catch (f) {
        // Unrecorded, the job would stay `running` for good: fail in a way that gets it retried.
        deps.logger?.error({ jobId: job.jobId, err: (f as Error).message }, 'ingest: could not record the failure');
        const { code, message } = describeError(error);
        throw new S2gError(ErrorCode.UNAVAILABLE, `${code}: ${message} (and recording the failure failed: ${(f as Error).message})`, { original: code }, { cause: f });
      }
    }
    throw error;
  } finally {
    if (tmp) await rm(tmp, { recursive: true, force: true });
  }
}
