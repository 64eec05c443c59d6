/**
 * The job behind `s2g.inference.requested`: find the model and the audio, predict with windows, store
 * the pose files, complete the result record, announce it (and request its render when asked).
 * A bad input fails the job at once with its code and leaves nothing stored; anything else is thrown
 * for the bus to retry, and fails the job when the bus gives up (`onDeadLetter`).
 */
import { encodeWav, SAMPLE_RATE } from '@s2g/audio';
import { type DeadLetter, describeError, ErrorCode, type ErrorInfo, isS2gError, type Payload } from '@s2g/contracts';
import type { Database, InferenceResult } from '@s2g/db';
import type { EventBus } from '@s2g/messaging';
import { type CheckpointManifest, type Generator, loadGenerator } from '@s2g/model';
import { denormalize, FRAME_VALUES, NECK, neckPositions, NUM_KEYPOINTS, POSE_FPS } from '@s2g/pose';
import type { Logger } from '@s2g/service';
import { type ObjectStore, StorageKeys } from '@s2g/storage';
import type { ActiveBackend } from './backend';
import type { InferenceSettings } from './config';
import { deadLetterError, deadLetterPayload, isPermanent } from './jobs';
import { ModelCache } from './model-cache';
import { encodePosesBinary, encodePosesJson, type NeckPlacement, POSES_BINARY_FILE, POSES_JSON_FILE, RESULT_AUDIO_FILE } from './pose-files';
import { type InputAudio, loadInputAudio, resolveModel, type ResolvedModel, speakerStats } from './sources';
import { predictWindowed } from './windows';

type InferenceRequest = Payload<'s2g.inference.requested'>;
type RenderFollowUp = NonNullable<InferenceRequest['render']>;

/**
 * Where the neck goes for audio that has no video to line up with (an upload): the middle of a
 * 1280x720 frame, 40 % down, where a talk-show speaker's neck usually is (and the synthetic
 * speakers' is).
 */
export const DEFAULT_NECK_ORIGIN: readonly [number, number] = [640, 288];

export interface LoadedModel {
  generator: Generator;
  manifest: CheckpointManifest;
}

export interface InferenceServiceDeps {
  db: Database;
  store: ObjectStore;
  bus: EventBus;
  logger: Logger;
  settings: InferenceSettings;
  /** The tensor backend in use (see startTensorBackend), recorded on every result. */
  backend: ActiveBackend;
}

export interface JobContext {
  /** Aborted at shutdown: a long prediction stops between windows and the command is redelivered. */
  signal?: AbortSignal;
}

const FINAL = new Set(['completed', 'failed', 'cancelled']);

export class InferenceService {
  /** Loaded generators by checkpoint prefix; `models.stats.loads` counts checkpoint reads. */
  readonly models: ModelCache<LoadedModel>;

  constructor(private readonly deps: InferenceServiceDeps) {
    this.models = new ModelCache<LoadedModel>({
      capacity: deps.settings.modelCacheSize,
      load: (prefix) => loadGenerator(deps.store, prefix),
      dispose: (model) => model.generator.dispose(),
    });
  }

  async handle(payload: InferenceRequest, ctx: JobContext = {}): Promise<void> {
    const { db, logger } = this.deps;
    const id = payload.resultId;
    const existing = await db.inferenceResults.findById(id);
    if (existing && FINAL.has(existing.status)) {
      // A redelivery after the work was done: say so again (the bus drops duplicates) and stop.
      if (existing.status === 'completed') await this.announce(existing, payload);
      logger.info({ resultId: id, status: existing.status }, 'inference already finished');
      return;
    }
    try {
      await this.run(payload, existing, ctx);
    } catch (e) {
      if (!isPermanent(e)) throw e;
      await this.fail(payload, describeError(e));
    }
  }

  /** The bus gave up on a command (deliveries exhausted, or it was unreadable): fail its job. */
  async onDeadLetter(deadLetter: DeadLetter): Promise<void> {
    const payload = deadLetterPayload(deadLetter);
    const resultId = typeof payload?.resultId === 'string' ? payload.resultId : null;
    if (!resultId) return;
    const render = payload?.render as { renderId?: unknown } | undefined;
    const renderId = typeof render?.renderId === 'string' ? render.renderId : undefined;
    await this.discard(resultId);
    await this.failJob(resultId, renderId, deadLetterError(deadLetter));
  }

  /** Frees every loaded model. */
  close(): void {
    this.models.clear();
  }

  private async run(payload: InferenceRequest, existing: InferenceResult | null, ctx: JobContext): Promise<void> {
    const { db, logger, settings, backend } = this.deps;
    const id = payload.resultId;
    const started = performance.now();
    const model = await resolveModel(db, payload.model);
    if (!existing) await this.createRecord(payload, model);
    if (!(await db.inferenceResults.markRunning(id))) return;

    let completed = false;
    try {
      const speaker = await db.speakers.getById(model.speakerId);
      const stats = speakerStats(speaker);
      const audio = await loadInputAudio(db, this.deps.store, payload.audio, settings.maxAudioSeconds);
      const decodedAt = performance.now();
      let loadedAt = 0;
      const { prediction, manifest } = await this.models.use(model.checkpoint.storagePrefix, async (loaded) => {
        loadedAt = performance.now();
        const windows = { windowFrames: settings.windowFrames, overlapFrames: settings.overlapFrames, signal: ctx.signal };
        return { prediction: await predictWindowed(loaded.generator, audio.wave, windows), manifest: loaded.manifest };
      });
      const predictedAt = performance.now();

      // The model's neck output carries no meaning (ML-SPEC 2: the neck is always 0); store it as such.
      for (let t = 0; t < prediction.frames; t++) {
        prediction.poses[t * FRAME_VALUES + NECK] = 0;
        prediction.poses[t * FRAME_VALUES + NUM_KEYPOINTS + NECK] = 0;
      }
      const { origin, neck } = placement(audio, prediction.frames);
      const pixels = Float32Array.from(denormalize(prediction.poses, stats, { origin }));
      const durationSeconds = audio.wave.length / SAMPLE_RATE;
      const sequences = { pixels, normalized: prediction.poses, frames: prediction.frames, fps: prediction.fps };
      const json = encodePosesJson(sequences, {
        resultId: id,
        durationSeconds,
        speaker: { id: speaker.id, name: speaker.name },
        model: { runId: model.runId, checkpointId: model.checkpoint.id, step: manifest.step, preset: manifest.settings.preset },
        input: payload.audio,
        neck,
        origin: neck === 'fixed' ? [DEFAULT_NECK_ORIGIN[0], DEFAULT_NECK_ORIGIN[1]] : null,
      });
      const jsonKey = StorageKeys.result(id, POSES_JSON_FILE);
      const binKey = StorageKeys.result(id, POSES_BINARY_FILE);
      const { store } = this.deps;
      let audioKey = audio.objectKey;
      if (!audioKey) {
        // A sample's audio lives inside a shard; the renderer needs it as a file to mux.
        audioKey = StorageKeys.result(id, RESULT_AUDIO_FILE);
        const wav = encodeWav(audio.wave, SAMPLE_RATE);
        await store.put(audioKey, wav, wav.length, { contentType: 'audio/wav' });
      }
      const binary = encodePosesBinary(sequences);
      await store.put(binKey, binary, binary.length, { contentType: 'application/octet-stream' });
      await store.put(jsonKey, json, json.length, { contentType: 'application/json' });

      const latencyMs = Math.round(performance.now() - started);
      completed = await db.inferenceResults.markCompleted(id, {
        // The checkpoint a run resolved to, so the result says exactly which model made it.
        runId: model.runId,
        checkpointId: model.checkpoint.id,
        frameCount: prediction.frames,
        durationSeconds,
        posesJsonKey: jsonKey,
        posesBinKey: binKey,
        audioKey,
        latencyMs,
        backend: backend.backend,
      });
      if (!completed) {
        logger.info({ resultId: id }, 'result was finished elsewhere while predicting; its files were not kept');
        await this.discard(id);
        return;
      }
      logger.info(
        {
          resultId: id,
          frames: prediction.frames,
          audioSeconds: Number(durationSeconds.toFixed(3)),
          latencyMs,
          decodeMs: Math.round(decodedAt - started),
          loadMs: Math.round(loadedAt - decodedAt),
          predictMs: Math.round(predictedAt - loadedAt),
          backend: backend.backend,
          device: backend.device,
          cache: this.models.stats,
        },
        'inference completed',
      );
    } catch (e) {
      if (!completed) await this.discard(id);
      throw e;
    }
    await this.announce(await db.inferenceResults.getById(id), payload);
  }

  private async createRecord(payload: InferenceRequest, model: ResolvedModel): Promise<void> {
    const { db } = this.deps;
    try {
      await db.inferenceResults.create({
        id: payload.resultId,
        speakerId: model.speakerId,
        runId: model.runId,
        checkpointId: model.checkpoint.id,
        input: { audio: payload.audio, model: payload.model, ...(payload.render ? { render: payload.render } : {}) },
        audioKey: 'objectKey' in payload.audio ? payload.audio.objectKey : null,
      });
    } catch (e) {
      // Created meanwhile by the gateway (or another delivery): that record is the one to use.
      if (!(isS2gError(e) && e.code === ErrorCode.CONFLICT)) throw e;
    }
  }

  /** Requests the follow-up render (if asked for), then publishes `completed`. */
  private async announce(result: InferenceResult, payload: InferenceRequest): Promise<void> {
    const { bus } = this.deps;
    const renderId = payload.render ? await this.requestRender(result.id, payload.render) : undefined;
    await bus.publishEvent('s2g.inference.completed', {
      resultId: result.id,
      frames: result.frameCount ?? 0,
      fps: POSE_FPS,
      objectKey: result.posesJsonKey ?? StorageKeys.result(result.id, POSES_JSON_FILE),
      durationMs: result.latencyMs ?? 0,
      ...(renderId ? { renderId } : {}),
    });
  }

  /** Creates the render record (unless the gateway did) and queues the render; undefined if it could not be. */
  private async requestRender(resultId: string, render: RenderFollowUp): Promise<string | undefined> {
    const { db, bus, logger } = this.deps;
    const { renderId, width, height, fps, withGroundTruthSampleId, overVideo } = render;
    const options = { ...(withGroundTruthSampleId ? { withGroundTruthSampleId } : {}), overVideo };
    try {
      await db.renders.create({ id: renderId, resultId, width, height, fps, options });
    } catch (e) {
      if (!(isS2gError(e) && e.code === ErrorCode.CONFLICT)) {
        if (!isPermanent(e)) throw e;
        logger.warn({ resultId, renderId, err: describeError(e) }, 'follow-up render could not be recorded');
        await bus.publishEvent('s2g.render.failed', { renderId, resultId, error: describeError(e) });
        return undefined;
      }
    }
    await bus.publishCommand('s2g.render.requested', { renderId, resultId, width, height, fps, overVideo, ...(withGroundTruthSampleId ? { withGroundTruthSampleId } : {}) });
    return renderId;
  }

  private async fail(payload: InferenceRequest, error: ErrorInfo): Promise<void> {
    await this.discard(payload.resultId);
    await this.failJob(payload.resultId, payload.render?.renderId, error);
  }

  private async failJob(resultId: string, renderId: string | undefined, error: ErrorInfo): Promise<void> {
    const { db, bus, logger } = this.deps;
    const code = error.code as ErrorCode;
    await db.inferenceResults.markFailed(resultId, { code, message: error.message });
    await bus.publishEvent('s2g.inference.failed', { resultId, error });
    logger.warn({ resultId, error }, 'inference failed');
    if (!renderId) return;
    // The render asked for with it can never run: it has no result to draw.
    const renderError = { code: ErrorCode.RESULT_MISSING, message: `result ${resultId} failed (${error.code}): ${error.message}` };
    await db.renders.markFailed(renderId, renderError);
    await bus.publishEvent('s2g.render.failed', { renderId, resultId, error: renderError });
  }

  /** Removes whatever this job stored under its result prefix. */
  private async discard(resultId: string): Promise<void> {
    let prefix: string;
    try {
      prefix = StorageKeys.resultPrefix(resultId);
    } catch {
      return;
    }
    await this.deps.store.deletePrefix(prefix);
  }
}

/** Neck positions to decode with: the sample's own (so the pose lines up with its video), else fixed. */
function placement(audio: InputAudio, frames: number): { origin: ArrayLike<number>; neck: NeckPlacement } {
  if (!audio.sample) return { origin: DEFAULT_NECK_ORIGIN, neck: 'fixed' };
  const truth = neckPositions(audio.sample.pose);
  const available = truth.length / 2;
  const origin = new Float64Array(frames * 2);
  for (let t = 0; t < frames; t++) {
    const s = Math.min(t, available - 1);
    origin[2 * t] = truth[2 * s];
    origin[2 * t + 1] = truth[2 * s + 1];
  }
  return { origin, neck: 'sample' };
}
