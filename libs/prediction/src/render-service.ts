/**
 * The job behind `s2g.render.requested`: draw a result's pose sequence (beside a sample's ground
 * truth and/or over its source video when asked) into an H.264 mp4 with the result's audio, plus a
 * poster PNG, under `renders/<id>/`. A failure leaves nothing stored.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { type DeadLetter, describeError, ErrorCode, type ErrorInfo, type InferenceAudio, isS2gError, type Payload, S2gError } from '@s2g/contracts';
import type { Database, InferenceResult, Render } from '@s2g/db';
import { encodeVideo, extractFrames, probe } from '@s2g/media';
import type { EventBus } from '@s2g/messaging';
import { FRAME_VALUES, POSE_FPS } from '@s2g/pose';
import { type RenderSequence, renderVideo } from '@s2g/render';
import type { Logger } from '@s2g/service';
import { type ObjectStore, StorageKeys } from '@s2g/storage';
import type { RenderSettings } from './config';
import type { JobContext } from './inference-service';
import { deadLetterError, deadLetterPayload, isPermanent } from './jobs';
import { decodePosesBinary } from './pose-files';
import { meanNeck, moveNeckTo, poseFrameScale, resamplePoses } from './sequences';
import { loadSample, type LoadedSample } from './sources';

type RenderRequest = Payload<'s2g.render.requested'>;

export const RENDER_VIDEO_FILE = 'video.mp4';
export const RENDER_POSTER_FILE = 'poster.png';
export const PREDICTION_LABEL = 'prediction';
export const GROUND_TRUTH_LABEL = 'ground truth';

/** Database writes of progress at most this often. */
const PROGRESS_INTERVAL_MS = 1000;

export interface RenderServiceDeps {
  db: Database;
  store: ObjectStore;
  bus: EventBus;
  logger: Logger;
  settings: RenderSettings;
}

const FINAL = new Set(['completed', 'failed', 'cancelled']);

export class RenderService {
  constructor(private readonly deps: RenderServiceDeps) {}

  async handle(payload: RenderRequest, ctx: JobContext = {}): Promise<void> {
    const { db, logger } = this.deps;
    const existing = await db.renders.findById(payload.renderId);
    if (existing && FINAL.has(existing.status)) {
      if (existing.status === 'completed') await this.announce(existing);
      logger.info({ renderId: payload.renderId, status: existing.status }, 'render already finished');
      return;
    }
    try {
      await this.run(payload, existing, ctx);
    } catch (e) {
      if (!isPermanent(e)) throw e;
      await this.fail(payload.renderId, payload.resultId, describeError(e));
    }
  }

  /** The bus gave up on a command: fail its render. */
  async onDeadLetter(deadLetter: DeadLetter): Promise<void> {
    const payload = deadLetterPayload(deadLetter);
    const renderId = typeof payload?.renderId === 'string' ? payload.renderId : null;
    const resultId = typeof payload?.resultId === 'string' ? payload.resultId : null;
    if (!renderId || !resultId) return;
    await this.fail(renderId, resultId, deadLetterError(deadLetter));
  }

  private async run(payload: RenderRequest, existing: Render | null, ctx: JobContext): Promise<void> {
    const { db, store, logger, settings } = this.deps;
    const id = payload.renderId;
    const started = performance.now();
    const result = await this.completedResult(payload.resultId);
    if (!existing) await this.createRecord(payload);
    if (!(await db.renders.markRunning(id))) return;

    const dir = await mkdtemp(join(tmpdir(), 's2g-render-'));
    let completed = false;
    try {
      const poses = decodePosesBinary(await readResultObject(result, result.posesBinKey, (key) => store.getBuffer(key)), result.posesBinKey ?? '');
      const input = (result.input as { audio?: InferenceAudio }).audio;
      const sourceSampleId = input && 'sampleId' in input ? input.sampleId : null;
      const fps = payload.fps;
      // As many frames as the audio needs at this rate (at 15 fps: exactly the predicted frames).
      const seconds = result.durationSeconds ?? poses.frames / poses.fps;
      const frames = Math.max(1, Math.ceil(seconds * fps - 1e-6));
      // Every panel at the video's rate and no longer than the audio (a longer ground truth is cut).
      const atRate = (seq: Float32Array, seqFps: number): Float32Array => {
        const count = seq.length / FRAME_VALUES;
        const n = Math.min(frames, Math.ceil((count * fps) / seqFps - 1e-6));
        if (seqFps !== fps) return resamplePoses(seq, seqFps, fps, n);
        return n === count ? seq : seq.subarray(0, n * FRAME_VALUES);
      };

      let prediction = poses.pixels;
      const sequences: RenderSequence[] = [];
      let truth: LoadedSample | null = null;
      if (payload.withGroundTruthSampleId) {
        truth = await loadSample(db, store, payload.withGroundTruthSampleId);
        // A prediction not placed by a sample's neck sits at a fixed point; put it where the truth is,
        // so the shared fit draws both at one scale without an empty margin between them.
        if (truth.row.id !== sourceSampleId) prediction = moveNeckTo(prediction, meanNeck(truth.pose));
      }
      sequences.push({ label: PREDICTION_LABEL, frames: atRate(prediction, poses.fps) });
      if (truth) sequences.push({ label: GROUND_TRUTH_LABEL, frames: atRate(truth.pose, POSE_FPS) });

      let background: { video: string; width: number; height: number } | undefined;
      if (payload.overVideo) background = await this.sourceClip(sourceSampleId, fps, frames, payload, dir);

      const audioFile = join(dir, `audio-${basename(result.audioKey ?? 'input')}`);
      await pipeline(await readResultObject(result, result.audioKey, (key) => store.get(key)), createWriteStream(audioFile));
      const speaker = await db.speakers.findById(result.speakerId);

      let lastProgress = 0;
      let progressWrites: Promise<unknown> = Promise.resolve();
      const out = join(dir, RENDER_VIDEO_FILE);
      const posterOut = join(dir, RENDER_POSTER_FILE);
      const rendered = await renderVideo({
        sequences,
        width: payload.width,
        height: payload.height,
        fps,
        audio: audioFile,
        ...(background ? { background } : {}),
        ...(speaker ? { title: speaker.displayName } : {}),
        out,
        posterOut,
        preset: settings.x264Preset,
        crf: settings.crf,
        onProgress: ({ frame, total }) => {
          if (ctx.signal?.aborted) throw new S2gError(ErrorCode.UNAVAILABLE, 'render stopped: the service is shutting down');
          const now = performance.now();
          if (now - lastProgress < PROGRESS_INTERVAL_MS && frame < total) return;
          lastProgress = now;
          progressWrites = progressWrites.then(() => db.renders.markProgress(id, { frame, total })).catch((e: unknown) => logger.warn({ renderId: id, err: describeError(e) }, 'progress not recorded'));
        },
      });
      await progressWrites;

      const videoKey = StorageKeys.render(id, RENDER_VIDEO_FILE);
      const posterKey = StorageKeys.render(id, RENDER_POSTER_FILE);
      await putFile(store, videoKey, out, 'video/mp4');
      await putFile(store, posterKey, posterOut, 'image/png');
      completed = await db.renders.markCompleted(id, {
        videoKey,
        posterKey,
        progress: { frame: rendered.frames, total: rendered.frames, posterFrame: rendered.posterFrame, durationMs: Math.round(performance.now() - started) },
      });
      if (!completed) {
        logger.info({ renderId: id }, 'render was finished elsewhere while drawing; its files were not kept');
        await this.discard(id);
        return;
      }
      const elapsed = performance.now() - started;
      logger.info(
        { renderId: id, resultId: result.id, frames: rendered.frames, width: payload.width, height: payload.height, fps, ms: Math.round(elapsed), framesPerSecond: Math.round((rendered.frames / elapsed) * 1000) },
        'render completed',
      );
    } catch (e) {
      if (!completed) await this.discard(id);
      throw e;
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
    await this.announce(await db.renders.getById(id));
  }

  /** The result to draw: RESULT_MISSING when it does not exist or failed; retried while it is still being predicted. */
  private async completedResult(resultId: string): Promise<InferenceResult> {
    const result = await this.deps.db.inferenceResults.findById(resultId);
    if (!result) throw new S2gError(ErrorCode.RESULT_MISSING, `result ${resultId} does not exist`, { resultId });
    if (result.status === 'queued' || result.status === 'running') {
      throw new S2gError(ErrorCode.UNAVAILABLE, `result ${resultId} is still ${result.status}`, { resultId });
    }
    if (result.status !== 'completed' || !result.posesBinKey) {
      throw new S2gError(ErrorCode.RESULT_MISSING, `result ${resultId} has no poses (it is ${result.status})`, { resultId, status: result.status });
    }
    return result;
  }

  private async createRecord(payload: RenderRequest): Promise<void> {
    const { renderId, resultId, width, height, fps, withGroundTruthSampleId, overVideo } = payload;
    try {
      await this.deps.db.renders.create({ id: renderId, resultId, width, height, fps, options: { ...(withGroundTruthSampleId ? { withGroundTruthSampleId } : {}), overVideo } });
    } catch (e) {
      if (!(isS2gError(e) && e.code === ErrorCode.CONFLICT)) throw e;
    }
  }

  /**
   * The stretch of the source video under the sample the result's audio came from, as a clip of
   * `frames` frames at `fps` (the renderer reads backgrounds from their first frame), no larger than
   * the render. Returns the clip and the size of the frame the poses are in.
   */
  private async sourceClip(sampleId: string | null, fps: number, frames: number, size: { width: number; height: number }, dir: string): Promise<{ video: string; width: number; height: number }> {
    const { db, store } = this.deps;
    if (!sampleId) throw new S2gError(ErrorCode.BAD_USER_INPUT, 'overVideo needs a result predicted from the audio of a sample (uploaded audio has no video)');
    const sample = await loadSample(db, store, sampleId);
    const interval = await db.intervals.findById(sample.row.intervalId);
    const video = interval ? await db.videos.findById(interval.videoId) : null;
    if (!video?.sourceKey) throw new S2gError(ErrorCode.BAD_USER_INPUT, `the video of sample ${sampleId} has no stored source media to draw over`, { sampleId });
    const source = join(dir, `source-${basename(video.sourceKey)}`);
    await pipeline(await store.get(video.sourceKey), createWriteStream(source));
    const info = await probe(source);
    if (!info.video) throw new S2gError(ErrorCode.MEDIA_UNSUPPORTED, `${video.sourceKey} has no video stream`, { key: video.sourceKey });
    const { width, height } = info.video;
    // Each panel shows the video smaller than the render, so a larger clip would only cost encoding time.
    const shrink = Math.min(1, size.width / width, size.height / height);
    const clipWidth = Math.max(2, 2 * Math.round((width * shrink) / 2));
    const clipHeight = Math.max(2, 2 * Math.round((height * shrink) / 2));
    // extractFrames cannot seek: the source is decoded from its start, which costs time for samples late in long videos.
    const skip = Math.round(sample.row.startSeconds * fps);
    async function* clipFrames(): AsyncGenerator<Uint8Array> {
      let i = 0;
      for await (const frame of extractFrames(source, fps, clipWidth, clipHeight)) {
        if (i >= skip + frames) return;
        if (i++ >= skip) yield frame;
      }
    }
    const clip = join(dir, 'background.mp4');
    // Near-lossless and fast: the clip is decoded again at once and thrown away.
    await encodeVideo({ width: clipWidth, height: clipHeight, fps, frames: clipFrames(), out: clip, preset: 'ultrafast', crf: 12 });
    const scale = poseFrameScale(meanNeck(sample.pose), width, height);
    return { video: clip, width: width * scale, height: height * scale };
  }

  private async announce(render: Render): Promise<void> {
    if (!render.videoKey) return;
    const progress = render.progress as { durationMs?: number };
    await this.deps.bus.publishEvent('s2g.render.completed', {
      renderId: render.id,
      resultId: render.resultId,
      objectKey: render.videoKey,
      ...(render.posterKey ? { previewKey: render.posterKey } : {}),
      durationMs: typeof progress.durationMs === 'number' ? progress.durationMs : 0,
    });
  }

  private async fail(renderId: string, resultId: string, error: ErrorInfo): Promise<void> {
    const { db, bus, logger } = this.deps;
    await this.discard(renderId);
    await db.renders.markFailed(renderId, { code: error.code as ErrorCode, message: error.message });
    await bus.publishEvent('s2g.render.failed', { renderId, resultId, error });
    logger.warn({ renderId, resultId, error }, 'render failed');
  }

  private async discard(renderId: string): Promise<void> {
    let prefix: string;
    try {
      prefix = StorageKeys.renderPrefix(renderId);
    } catch {
      return;
    }
    await this.deps.store.deletePrefix(prefix);
  }
}

/** An object a result points at; RESULT_MISSING when the pointer or the object is gone. */
async function readResultObject<T>(result: InferenceResult, key: string | null, read: (key: string) => Promise<T>): Promise<T> {
  if (!key) throw new S2gError(ErrorCode.RESULT_MISSING, `result ${result.id} has no stored file for this`, { resultId: result.id });
  try {
    return await read(key);
  } catch (e) {
    if (isS2gError(e) && e.code === ErrorCode.STORAGE_NOT_FOUND) throw new S2gError(ErrorCode.RESULT_MISSING, `result ${result.id}: ${key} is gone`, { resultId: result.id, key }, { cause: e });
    throw e;
  }
}

async function putFile(store: ObjectStore, key: string, file: string, contentType: string): Promise<void> {
  const { size } = await stat(file);
  await store.put(key, createReadStream(file), size, { contentType });
}
