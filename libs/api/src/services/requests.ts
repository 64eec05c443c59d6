/**
 * The write side of the API. The gateway writes only requests: each mutation checks its input,
 * writes the request record (status `queued`) and publishes the command whose deterministic message
 * id is derived from that record's id, so a re-sent command is dropped by the bus. When publishing
 * fails, the record is marked failed (UNAVAILABLE) before the error reaches the caller: no record
 * stays queued with no command behind it, and a command that did get through finds a final record
 * and is skipped by its worker.
 */
import {
  type CommandName,
  ErrorCode,
  type IngestLayout,
  type IngestSource,
  ingestOptionsSchema,
  type PayloadInput,
  renderOptionsSchema,
  trainingConfigSchema,
} from '@s2g/contracts';
import { type Database, type InferenceResult, type IngestJob, isUuid, type Render, Sample, type Speaker, type TrainingRun } from '@s2g/db';
import type { EventBus } from '@s2g/messaging';
import type { Logger } from '@s2g/service';
import { type ObjectStore, StorageKeys } from '@s2g/storage';
import { randomUUID } from 'node:crypto';
import type { z } from 'zod';
import { type AuthInfo, hasScope } from '../auth/tokens';
import type { ApiConfig } from '../config';
import { apiError, badInput, notFound } from '../errors';
import { isMediaFile, nonEmptyPrefix, uploadedFiles, validateUploadRequest } from './uploads';

/** Speaker handles: lower-case, URL- and path-safe. */
const SPEAKER_NAME = /^[a-z0-9][a-z0-9_-]{0,63}$/;

function zodIssues(error: z.ZodError): { path: string; message: string }[] {
  return error.issues.map((i) => ({ path: i.path.map(String).join('.') || '(root)', message: i.message }));
}

/** Parses with a contract schema; BAD_USER_INPUT listing every problem. */
function parseInput<S extends z.ZodType>(schema: S, value: unknown, what: string): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issues = zodIssues(result.error);
  throw badInput(`invalid ${what}: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`, { issues });
}

/** GraphQL sends absent optional fields as null; the contract schemas expect them left out (at any depth). */
function withoutNulls(value: object | null | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value ?? {})) {
    if (v === null || v === undefined) continue;
    out[k] = typeof v === 'object' && !Array.isArray(v) && !(v instanceof Date) ? withoutNulls(v as object) : v;
  }
  return out;
}

export interface UploadGrant {
  uploadId: string;
  key: string;
  url: string;
  method: 'PUT';
  contentType: string;
  maxBytes: number;
  expiresAt: Date;
}

export interface IngestRequest {
  speakerId: string;
  layout: IngestLayout;
  source?: { uploadId?: string | null; objectPrefix?: string | null; serverPath?: string | null } | null;
  options?: object | null;
}

export interface PredictRequest {
  audio: { uploadId?: string | null; sampleId?: string | null };
  model: { runId?: string | null; checkpointId?: string | null };
  render?: boolean | null;
  renderOptions?: RenderSettings | null;
}

export interface RenderSettings {
  width?: number | null;
  height?: number | null;
  fps?: number | null;
  groundTruthSampleId?: string | null;
  overVideo?: boolean | null;
}

export class ApiRequests {
  constructor(
    private readonly db: Database,
    private readonly store: ObjectStore,
    private readonly bus: EventBus,
    private readonly config: ApiConfig,
    private readonly logger: Logger,
  ) {}

  private async speaker(id: string): Promise<Speaker> {
    const speaker = await this.db.speakers.findById(id);
    if (!speaker) throw notFound('speaker', id);
    return speaker;
  }

  /** Publishes; on failure runs `undo` (marking the request failed) and throws UNAVAILABLE. */
  private async publish<N extends CommandName>(name: N, payload: PayloadInput<N>, undo: (reason: { code: ErrorCode; message: string }) => Promise<unknown>): Promise<void> {
    try {
      await this.bus.publishCommand(name, payload);
    } catch (e) {
      this.logger.error({ err: e, command: name }, 'publishing a command failed; marking its request failed');
      await undo({ code: ErrorCode.UNAVAILABLE, message: 'the request could not be queued (message bus unavailable); submit it again' }).catch((undoError: unknown) =>
        this.logger.error({ err: undoError, command: name }, 'marking an unqueued request failed did not work'),
      );
      throw apiError(ErrorCode.UNAVAILABLE, 'the request could not be queued: the message bus is unavailable; try again shortly');
    }
  }

  async createSpeaker(input: { name: string; displayName?: string | null }): Promise<Speaker> {
    if (!SPEAKER_NAME.test(input.name)) {
      throw badInput('name must be 1 to 64 characters: lower-case letters, digits, "-" or "_", starting with a letter or digit', { field: 'name' });
    }
    const displayName = input.displayName?.trim() || input.name;
    if (displayName.length > 200) throw badInput('displayName must be at most 200 characters', { field: 'displayName' });
    return this.db.speakers.create({ name: input.name, displayName });
  }

  async createUpload(input: { filename: string; contentType: string; size: number; uploadId?: string | null }): Promise<UploadGrant> {
    const contentType = validateUploadRequest(input, this.config.uploadMaxBytes);
    const uploadId = input.uploadId ?? randomUUID();
    const key = StorageKeys.upload(uploadId, input.filename);
    const ttl = this.config.uploadUrlTtlSeconds;
    const url = await this.store.presignedPut(key, ttl);
    return { uploadId, key, url, method: 'PUT', contentType, maxBytes: this.config.uploadMaxBytes, expiresAt: new Date(Date.now() + ttl * 1000) };
  }

  private async ingestSource(input: IngestRequest, jobId: string, auth: AuthInfo): Promise<IngestSource> {
    const given = Object.entries(input.source ?? {}).filter(([, v]) => v !== null && v !== undefined && v !== '');
    if (given.length === 0 && input.layout === 'synthetic') {
      // Synthetic data is generated by the ingest worker; the source names the job's own (empty) upload folder.
      return { kind: 'object', prefix: StorageKeys.uploadPrefix(jobId) };
    }
    if (given.length !== 1) throw badInput('source needs exactly one of uploadId, objectPrefix or serverPath', { field: 'source' });
    const source = input.source ?? {};
    if (source.uploadId) {
      await uploadedFiles(this.store, source.uploadId, this.config.uploadMaxBytes);
      return { kind: 'object', prefix: StorageKeys.uploadPrefix(source.uploadId) };
    }
    if (source.objectPrefix) {
      // Reading other owners' objects (speakers/, runs/...) is for administrators; checked before
      // listing, so the answer says nothing about what exists there.
      if (!source.objectPrefix.startsWith('uploads/') && !hasScope(auth.scopes, 'admin')) {
        throw apiError(ErrorCode.FORBIDDEN, 'objectPrefix outside uploads/ needs the admin scope');
      }
      return { kind: 'object', prefix: await nonEmptyPrefix(this.store, source.objectPrefix) };
    }
    const path = String(source.serverPath);
    // A path is read on the ingest workers' filesystem: only administrators choose what they read.
    if (!hasScope(auth.scopes, 'admin')) throw apiError(ErrorCode.FORBIDDEN, 'serverPath needs the admin scope');
    if (!path.startsWith('/') || path.includes('\0')) throw badInput('serverPath must be an absolute path', { field: 'serverPath' });
    return { kind: 'path', path };
  }

  async startIngest(input: IngestRequest, auth: AuthInfo): Promise<IngestJob> {
    const speaker = await this.speaker(input.speakerId);
    const options = parseInput(ingestOptionsSchema, withoutNulls(input.options), 'ingest options');
    if (input.layout === 'synthetic' && !options.synthetic) throw badInput('the synthetic layout needs options.synthetic (minutes of speech to generate)', { field: 'options.synthetic' });
    const id = randomUUID();
    const source = await this.ingestSource(input, id, auth);
    const job = await this.db.ingestJobs.create({
      id,
      speakerName: speaker.name,
      speakerId: speaker.id,
      layout: input.layout,
      source: source.kind === 'path' ? `path:${source.path}` : `object:${source.prefix}`,
      options,
    });
    await this.publish('s2g.ingest.requested', { jobId: id, speakerId: speaker.id, layout: input.layout, source, options }, (reason) => this.db.ingestJobs.markFailed(id, reason));
    return job;
  }

  async startTraining(input: { speakerId: string; config?: object | null }): Promise<TrainingRun> {
    const speaker = await this.speaker(input.speakerId);
    const config = parseInput(trainingConfigSchema, withoutNulls(input.config), 'training config');
    const counts = await this.db.samples.countBySplit(speaker.id);
    if (counts.train === 0) throw badInput(`speaker ${speaker.name} has no training samples yet: ingest data first`, { field: 'speakerId' });
    const id = randomUUID();
    const run = await this.db.trainingRuns.create({ id, speakerId: speaker.id, preset: config.preset, config });
    await this.publish('s2g.training.requested', { runId: id, speakerId: speaker.id, config }, (reason) => this.db.trainingRuns.markFailed(id, reason));
    return run;
  }

  /** Asks the trainer to stop the run; the run's status changes when the trainer has stopped it. */
  async cancelTraining(runId: string, reason?: string | null): Promise<TrainingRun> {
    const run = await this.db.trainingRuns.findById(runId);
    if (!run) throw notFound('training run', runId);
    if (run.status !== 'queued' && run.status !== 'running') throw apiError(ErrorCode.CONFLICT, `training run ${runId} is already ${run.status}`, { status: run.status });
    if (reason && reason.length > 500) throw badInput('reason must be at most 500 characters', { field: 'reason' });
    // No record to mark: the run itself is untouched and a failed cancel can simply be repeated.
    await this.publish('s2g.training.cancel', { runId, ...(reason ? { reason } : {}) }, async () => undefined);
    return run;
  }

  private renderOptions(settings: RenderSettings | null | undefined) {
    return parseInput(
      renderOptionsSchema,
      withoutNulls({ width: settings?.width, height: settings?.height, fps: settings?.fps, withGroundTruthSampleId: settings?.groundTruthSampleId, overVideo: settings?.overVideo }),
      'render options',
    );
  }

  private async sample(id: string): Promise<Sample> {
    const sample = isUuid(id) ? await this.db.manager.getRepository(Sample).findOneBy({ id }) : null;
    if (!sample) throw notFound('sample', id);
    return sample;
  }

  private async checkGroundTruth(sampleId: string | undefined, speakerId: string): Promise<void> {
    if (!sampleId) return;
    const sample = await this.sample(sampleId);
    if (sample.speakerId !== speakerId) throw badInput('groundTruthSampleId must be a sample of the same speaker', { field: 'groundTruthSampleId' });
  }

  async predict(input: PredictRequest): Promise<InferenceResult> {
    const audioGiven = [input.audio.uploadId, input.audio.sampleId].filter(Boolean).length;
    if (audioGiven !== 1) throw badInput('audio needs exactly one of uploadId or sampleId', { field: 'audio' });
    const modelGiven = [input.model.runId, input.model.checkpointId].filter(Boolean).length;
    if (modelGiven !== 1) throw badInput('model needs exactly one of runId or checkpointId', { field: 'model' });

    let runId: string;
    if (input.model.checkpointId) {
      const checkpoint = await this.db.checkpoints.findById(input.model.checkpointId);
      if (!checkpoint) throw notFound('checkpoint', input.model.checkpointId);
      runId = checkpoint.runId;
    } else {
      runId = input.model.runId as string;
      if (!(await this.db.trainingRuns.findById(runId))) throw notFound('training run', runId);
      if (!(await this.db.checkpoints.latest(runId))) throw badInput(`training run ${runId} has no checkpoint yet`, { field: 'model.runId' });
    }
    const run = (await this.db.trainingRuns.findById(runId)) as TrainingRun;

    let audio: { objectKey: string } | { sampleId: string };
    if (input.audio.uploadId) {
      const media = (await uploadedFiles(this.store, input.audio.uploadId, this.config.uploadMaxBytes)).filter((f) => isMediaFile(f.key));
      if (media.length !== 1) throw badInput(`upload ${input.audio.uploadId} must hold exactly one audio or video file (found ${media.length})`, { field: 'audio.uploadId' });
      audio = { objectKey: media[0].key };
    } else {
      const sample = await this.sample(input.audio.sampleId as string);
      audio = { sampleId: sample.id };
    }

    const render = input.render ? this.renderOptions(input.renderOptions) : null;
    if (render) await this.checkGroundTruth(render.withGroundTruthSampleId, run.speakerId);
    const resultId = randomUUID();
    const renderId = render ? randomUUID() : null;
    const model = input.model.checkpointId ? { checkpointId: input.model.checkpointId } : { runId };
    const result = await this.db.withTransaction(async (tx) => {
      const created = await tx.inferenceResults.create({
        id: resultId,
        speakerId: run.speakerId,
        runId,
        checkpointId: input.model.checkpointId ?? null,
        input: { audio, model, ...(render && renderId ? { render: { ...render, renderId } } : {}) },
        audioKey: 'objectKey' in audio ? audio.objectKey : null,
      });
      if (render && renderId) await tx.renders.create({ id: renderId, resultId, width: render.width, height: render.height, fps: render.fps, options: render });
      return created;
    });
    await this.publish('s2g.inference.requested', { resultId, audio, model, ...(render && renderId ? { render: { ...render, renderId } } : {}) }, async (reason) => {
      await this.db.inferenceResults.markFailed(resultId, reason);
      if (renderId) await this.db.renders.markFailed(renderId, reason);
    });
    return result;
  }

  async render(input: RenderSettings & { resultId: string }): Promise<Render> {
    const result = await this.db.inferenceResults.findById(input.resultId);
    if (!result) throw notFound('inference result', input.resultId);
    if (result.status !== 'completed') {
      throw apiError(ErrorCode.CONFLICT, `inference result ${input.resultId} is ${result.status}; it can be rendered once completed (or ask predict for a render)`, { status: result.status });
    }
    const options = this.renderOptions(input);
    await this.checkGroundTruth(options.withGroundTruthSampleId, result.speakerId);
    const id = randomUUID();
    const render = await this.db.renders.create({ id, resultId: result.id, width: options.width, height: options.height, fps: options.fps, options });
    await this.publish('s2g.render.requested', { ...options, renderId: id, resultId: result.id }, (reason) => this.db.renders.markFailed(id, reason));
    return render;
  }
}
