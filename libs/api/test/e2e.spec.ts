/**
 * The whole product end to end, driven only through the gateway as a client would: GraphQL over HTTP
 * (fetch) and over WebSocket (graphql-ws), files PUT to and downloaded from presigned S3 URLs. Real
 * Postgres, NATS JetStream and S3 (s3rver) behind it, and the real worker handlers (ingest, trainer,
 * inference, renderer) consuming the gateway's commands, as the embedded mode runs them.
 *
 * A ~1.5-minute synthetic speaker is uploaded as a zip and ingested; a tiny model is trained on it
 * with its progress followed live; held-out synthetic speech is uploaded, predicted and rendered;
 * the mp4 is downloaded from its URL and probed.
 */
import { encodeWav, SAMPLE_RATE } from '@s2g/audio';
import { ErrorCode, isS2gError, parseTrainingConfig, type Split } from '@s2g/contracts';
import { assignSplit, generateSyntheticSpeaker, type GeneratedSpeaker, ingestCommandHandler, planSyntheticSpeaker, synthesizeVideo, windowCount } from '@s2g/dataset';
import { probe } from '@s2g/media';
import {
  DEFAULT_INFERENCE_SETTINGS,
  DEFAULT_RENDER_SETTINGS,
  inferenceCommandHandlers,
  InferenceService,
  renderCommandHandlers,
  RenderService,
  startTensorBackend,
} from '@s2g/prediction';
import { POSE_FPS } from '@s2g/pose';
import { tempDir, type TempDir, testNats, type TestNats, testPostgres, type TestPostgres, testS3, type TestS3 } from '@s2g/testing';
import { trainingCommandHandlers } from '@s2g/training';
import { zipSync } from 'fflate';
import { type Client, createClient } from 'graphql-ws';
import { randomBytes } from 'node:crypto';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { eventually, must, startTestGateway, type TestGateway, type TestSubscription } from './gateway';

/**
 * The synthetic speaker: its name in the dataset and in the API, and what is generated. A minute or
 * so of speech has only a handful of intervals; this seed gives every split some (89 train, 31 dev,
 * 31 test windows), which validation and the test scores need.
 */
const SPEAKER = 'e2e';
const SYNTHETIC = { seed: 13, minutes: 1.5, style: 'animated' } as const;
/**
 * The trainer's own end-to-end settings (a tiny network, small batches, a high learning rate), cut to
 * 200 iterations: enough for this speaker to beat the median pose, and about a minute on a free core.
 */
const TRAINING = { preset: 'tiny', batchSize: 4, learningRate: 2e-3, iterations: 200, epochIterations: 50, checkpointEvery: 100, progressEvery: 10, validationSize: 64, seed: 1 } as const;
/** Steps divisible by `every`, up to the end of the run. */
const everyStep = (every: number): number[] => Array.from({ length: Math.floor(TRAINING.iterations / every) }, (_, i) => (i + 1) * every);
/** Seconds of held-out speech sent to predict. */
const SPEECH_SECONDS = 6;
const RENDER = { width: 320, height: 240, fps: 15 } as const;

let pg: TestPostgres;
let nats: TestNats;
let s3: TestS3;
let dir: TempDir;
let gw: TestGateway;
let inference: InferenceService | undefined;
/** One long-lived WebSocket connection for every subscription, as a browser keeps one. */
let ws: Client;

beforeAll(async () => {
  [pg, nats, s3, dir] = await Promise.all([testPostgres(), testNats(), testS3(), tempDir('api-e2e')]);
  const backend = await startTensorBackend('wasm', { info: () => undefined });
  gw = await startTestGateway({
    databaseUrl: await pg.createDatabase('api_e2e'),
    dataDir: join(dir.path, 'data'),
    nats: { url: nats.url, namespace: `e2e${randomBytes(4).toString('hex')}` },
    s3,
    env: { TF_BACKEND: 'wasm' },
    // The workers as the embedded mode runs them: the feature libs' own handlers, on the gateway's platform.
    commandHandlers: (platform) => {
      const { db, store, bus, logger } = platform;
      inference = new InferenceService({ db, store, bus, logger, settings: DEFAULT_INFERENCE_SETTINGS, backend });
      const renderer = new RenderService({ db, store, bus, logger, settings: DEFAULT_RENDER_SETTINGS });
      return [
        ingestCommandHandler({ db, store, bus }, { progressIntervalMs: 200 }),
        ...trainingCommandHandlers({ db, store, bus, logger, backend }, { ackWaitMs: 120_000 }),
        ...inferenceCommandHandlers(inference),
        ...renderCommandHandlers(renderer),
      ];
    },
  });
  ws = createClient({ url: gw.wsUrl, webSocketImpl: WebSocket, lazy: false, retryAttempts: 0, connectionParams: { authorization: `Bearer ${gw.adminToken}` } });
}, 180_000);

afterAll(async () => {
  await ws?.dispose();
  await gw?.close();
  inference?.close();
  await Promise.all([pg?.stop(), nats?.stop(), s3?.stop()]);
  await dir?.cleanup();
});

// ---------------------------------------------------------------------------------------------
// Client helpers: only what any GraphQL client could do.

/** Data of a request that must succeed. */
async function query<T>(text: string, variables: Record<string, unknown> = {}): Promise<T> {
  const res = await gw.request<T>(text, variables);
  expect(res.errors, JSON.stringify(res.errors)).toBeUndefined();
  return must(res.data, 'response data');
}

/** createUpload, then PUT the bytes to the presigned URL. */
async function uploadFile(filename: string, contentType: string, bytes: Uint8Array): Promise<string> {
  const { createUpload } = await query<{ createUpload: { uploadId: string; url: string; method: string; key: string } }>(
    'mutation($input: CreateUploadInput!) { createUpload(input: $input) { uploadId url method key } }',
    { input: { filename, contentType, size: bytes.length } },
  );
  expect(createUpload.url.startsWith(s3.endpoint)).toBe(true);
  const put = await fetch(createUpload.url, { method: createUpload.method, body: bytes, headers: { 'content-type': contentType } });
  expect(put.status, await put.text()).toBe(200);
  return createUpload.uploadId;
}

type JobUpdate = { id: string; kind: string; status: string; event: string; stage: string | null; fraction: number | null; error: { code: string; message: string } | null; details: Record<string, unknown> };
const JOB_UPDATED = 'subscription($id: ID!) { jobUpdated(id: $id) { id kind status event stage fraction error { code message } details } }';
const FINAL = ['completed', 'failed', 'cancelled'];

/** Subscriptions this file has open: the gateway's count must match it once a change is live. */
let open = 0;

/**
 * Opens subscriptions on the shared connection and resolves once the gateway holds them all: from
 * then on, every event of their jobs reaches them (earlier ones are gone; the query side has them).
 */
async function subscribeAll<T>(text: string, variables: Record<string, unknown>[]): Promise<TestSubscription<T>[]> {
  const subs = variables.map((v) => gw.subscribe<T>(text, v, { client: ws }));
  open += subs.length;
  await eventually(() => gw.gateway.activeSubscriptions() === open || subs.some((s) => s.failure !== undefined || s.results.some((r) => r.errors)), 10_000);
  for (const s of subs) {
    expect(s.failure).toBeUndefined();
    expect(s.results.flatMap((r) => r.errors ?? [])).toEqual([]);
  }
  return subs;
}

async function subscribe<T>(text: string, variables: Record<string, unknown>): Promise<TestSubscription<T>> {
  return must((await subscribeAll<T>(text, [variables]))[0]);
}

async function unsubscribe(...subs: TestSubscription<unknown>[]): Promise<void> {
  for (const s of subs) s.unsubscribe();
  open -= subs.length;
  await eventually(() => gw.gateway.activeSubscriptions() === open, 10_000);
}

/** Waits for the subscription's first result that `done` accepts; fails on a GraphQL error. */
async function until<T>(sub: TestSubscription<T>, done: (data: T) => boolean, timeoutMs: number, what: string): Promise<T> {
  const started = Date.now();
  for (;;) {
    for (const r of sub.results) {
      expect(r.errors, `${what}: ${JSON.stringify(r.errors)}`).toBeUndefined();
      if (done(must(r.data, what))) return r.data as T;
    }
    if (sub.failure !== undefined) throw new Error(`${what}: the subscription failed: ${JSON.stringify(sub.failure)}`);
    if (sub.completed) throw new Error(`${what}: the subscription ended first`);
    if (Date.now() - started > timeoutMs) throw new Error(`${what}: not within ${timeoutMs} ms; got ${JSON.stringify(sub.results.map((r) => r.data))}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The job's final update, received over `jobUpdated`. */
async function jobEnd(sub: TestSubscription<{ jobUpdated: JobUpdate }>, timeoutMs: number, what: string): Promise<JobUpdate> {
  const { jobUpdated } = await until(sub, (d) => FINAL.includes(d.jobUpdated.status), timeoutMs, what);
  expect(jobUpdated.error, `${what} failed`).toBeNull();
  return jobUpdated;
}

/** Every file under `root` in a zip, under a top folder as people zip a dataset. */
async function zipDataset(root: string, top: string): Promise<Uint8Array> {
  const files: Record<string, Uint8Array> = {};
  const walk = async (d: string): Promise<void> => {
    for (const e of await readdir(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) await walk(p);
      else files[`${top}/${relative(root, p)}`] = await readFile(p);
    }
  };
  await walk(root);
  return zipSync(files, { level: 1 });
}

/** Windows per split the generated dataset must give (ML-SPEC 3: 64 frames, stride 5, inside intervals). */
function expectedWindows(generated: GeneratedSpeaker): Record<Split, number> {
  const counts: Record<Split, number> = { train: 0, dev: 0, test: 0 };
  for (const video of generated.videos) {
    for (const interval of video.intervals) {
      const split = interval.split ?? assignSplit(generated.speaker, video.videoFn, interval.id);
      counts[split] += windowCount(Math.round(interval.end * POSE_FPS) - Math.round(interval.start * POSE_FPS) + 1);
    }
  }
  return counts;
}

// ---------------------------------------------------------------------------------------------

const flow: { speakerId?: string; runId?: string; bestCheckpointId?: string } = {};

describe('end to end through the gateway', () => {
  it('creates a speaker, uploads a synthetic speaker as a zip and ingests it, followed over jobUpdated', { timeout: 120_000 }, async () => {
    const { createSpeaker } = await query<{ createSpeaker: { id: string; name: string; sampleCounts: { total: number }; normalisation: unknown } }>(
      'mutation($name: String!) { createSpeaker(input: { name: $name, displayName: "End To End" }) { id name sampleCounts { total } normalisation { poseMean } } }',
      { name: SPEAKER },
    );
    expect(createSpeaker).toMatchObject({ name: SPEAKER, sampleCounts: { total: 0 }, normalisation: null });
    const speakerId = createSpeaker.id;

    // Audio and keypoints only (no mp4s): layout 1 as docs/DATASETS.md describes it.
    const generated = await generateSyntheticSpeaker({ ...SYNTHETIC, name: SPEAKER, outDir: join(dir.path, 'dataset'), video: false });
    const want = expectedWindows(generated);
    expect(want.train).toBeGreaterThan(50);
    expect(want.dev).toBeGreaterThan(10);
    expect(want.test).toBeGreaterThan(10);
    const uploadId = await uploadFile('e2e-dataset.zip', 'application/zip', await zipDataset(generated.root, 'e2e-dataset'));

    const { startIngest } = await query<{ startIngest: { id: string; status: string; layout: string; source: string } }>(
      'mutation($input: StartIngestInput!) { startIngest(input: $input) { id status layout source } }',
      { input: { speakerId, layout: 's2g', source: { uploadId } } },
    );
    expect(startIngest).toMatchObject({ status: 'queued', layout: 's2g', source: `object:uploads/${uploadId}/` });
    const updates = await subscribe<{ jobUpdated: JobUpdate }>(JOB_UPDATED, { id: startIngest.id });
    const end = await jobEnd(updates, 100_000, 'the ingest job');
    await unsubscribe(updates);
    expect(end).toMatchObject({ id: startIngest.id, kind: 'ingest', status: 'completed', event: 's2g.ingest.completed', fraction: 1 });
    expect(end.details).toMatchObject({ speakerId, videos: 1, samples: want, issueCount: 0 });
    const progress = updates.results.map((r) => must(r.data).jobUpdated).filter((u) => u.event === 's2g.ingest.progress');
    expect(progress.length).toBeGreaterThan(0);
    expect(progress.every((u) => u.kind === 'ingest' && u.status === 'running' && typeof u.stage === 'string')).toBe(true);

    const { speaker, job, test } = await query<{
      speaker: {
        hours: number;
        sampleCounts: Record<Split | 'total', number>;
        normalisation: { poseMean: number[]; poseStd: number[] } | null;
        scaleFactor: number | null;
        stats: { videos: number; intervals: number; shards: number; seconds: Record<Split | 'total', number> };
        videos: { name: string; fps: number; durationSeconds: number; audioUrl: string | null; sourceUrl: string | null }[];
      };
      job: { status: string; attempts: number; summary: Record<string, unknown> };
      test: { totalCount: number };
    }>(
      `query($id: ID!, $job: ID!) {
        speaker(id: $id) {
          hours sampleCounts { train dev test total } normalisation { poseMean poseStd } scaleFactor
          stats { videos intervals shards seconds { train dev test total } }
          videos { name fps durationSeconds audioUrl sourceUrl }
        }
        job: ingestJob(id: $job) { status attempts summary }
        test: samples(speakerId: $id, split: test, first: 1) { totalCount }
      }`,
      { id: speakerId, job: startIngest.id },
    );
    expect(speaker.sampleCounts).toEqual({ ...want, total: want.train + want.dev + want.test });
    expect(test.totalCount).toBe(want.test);
    expect(job).toMatchObject({ status: 'completed', attempts: 1, summary: { samples: want } });
    expect(speaker.stats).toMatchObject({ videos: 1, intervals: generated.videos[0].intervals.length });
    expect(speaker.stats.shards).toBeGreaterThanOrEqual(3);
    expect(speaker.hours).toBeGreaterThan(0.5 / 60);
    expect(speaker.hours).toBeLessThan(SYNTHETIC.minutes / 60);
    expect(speaker.normalisation?.poseMean).toHaveLength(98);
    expect(speaker.normalisation?.poseStd).toHaveLength(98);
    expect(speaker.scaleFactor).toBeGreaterThan(0);
    expect(speaker.videos).toHaveLength(1);
    expect(speaker.videos[0]).toMatchObject({ name: generated.videos[0].videoFn, fps: POSE_FPS });
    expect(speaker.videos[0].durationSeconds).toBeCloseTo(SYNTHETIC.minutes * 60, 0);
    // The extracted 16 kHz audio is downloadable from its URL.
    const audio = await fetch(must(speaker.videos[0].audioUrl, 'an audio URL'));
    expect(audio.status).toBe(200);
    expect(Buffer.from(await audio.arrayBuffer()).subarray(0, 4).toString()).toBe('RIFF');
    flow.speakerId = speakerId;
  });

  it('refuses a bad training config with BAD_USER_INPUT, as the contracts\' parseTrainingConfig judges it, before queuing anything', async () => {
    const speakerId = must(flow.speakerId, 'the ingested speaker');
    const config = { preset: 'tiny', batchSize: 0, learningRate: 2, ganWeight: -1, iterations: 10, epochs: 2 };
    const res = await gw.request('mutation($input: StartTrainingInput!) { startTraining(input: $input) { id } }', { input: { speakerId, config } });
    expect(res.data).toBeNull();
    const [error] = must(res.errors, 'an error');
    expect(error.extensions?.['code']).toBe(ErrorCode.BAD_USER_INPUT);
    // The one owner of the rules: the gateway names exactly the problems the trainer would.
    let contract: { path: string; message: string }[] = [];
    try {
      parseTrainingConfig(config);
    } catch (e) {
      if (!isS2gError(e)) throw e;
      expect(e.code).toBe(ErrorCode.TRAINING_CONFIG_INVALID);
      contract = (e.details as { issues: { path: string; message: string }[] }).issues;
    }
    const sorted = (issues: { path: string; message: string }[]) => issues.map((i) => `${i.path}: ${i.message}`).sort();
    expect(contract.map((i) => i.path).sort()).toEqual(['batchSize', 'epochs', 'ganWeight', 'learningRate']);
    expect(sorted((error.extensions?.['details'] as { issues: { path: string; message: string }[] }).issues)).toEqual(sorted(contract));
    for (const line of sorted(contract)) expect(error.message).toContain(line);
    // Nothing was recorded, so nothing was queued (a run is written before its command is published).
    const { speaker } = await query<{ speaker: { trainingRuns: { totalCount: number } } }>('query($id: ID!) { speaker(id: $id) { trainingRuns { totalCount } } }', { id: speakerId });
    expect(speaker.trainingRuns.totalCount).toBe(0);
  });

  it('trains a tiny model, its progress live over trainingProgress; the run records evaluations, baselines, checkpoints and metric history', { timeout: 300_000 }, async () => {
    const speakerId = must(flow.speakerId, 'the ingested speaker');
    const { startTraining } = await query<{ startTraining: { id: string; status: string; config: Record<string, unknown> } }>(
      `mutation($input: StartTrainingInput!) { startTraining(input: $input) {
        id status config { preset batchSize iterations epochIterations learningRate ganWeight validationSize validateEvery checkpointEvery progressEvery seed } } }`,
      { input: { speakerId, config: TRAINING } },
    );
    expect(startTraining.status).toBe('queued');
    expect(startTraining.config).toEqual({ ...TRAINING, ganWeight: 1, validateEvery: TRAINING.epochIterations });
    const runId = startTraining.id;

    type Event = {
      kind: string;
      status: string;
      step: number | null;
      epoch: number | null;
      totalSteps: number | null;
      lossG: number | null;
      lossD: number | null;
      l1: number | null;
      samplesPerSec: number | null;
      backend: string | null;
      checkpoint: { id: string; step: number; kind: string } | null;
      evaluation: { split: string; step: number; samples: number; metrics: Record<string, number>; baselines: Record<string, Record<string, number>> | null } | null;
      error: { code: string; message: string } | null;
    };
    const sub = await subscribe<{ trainingProgress: Event }>(
      `subscription($runId: ID!) { trainingProgress(runId: $runId) {
        kind status step epoch totalSteps lossG lossD l1 samplesPerSec backend
        checkpoint { id step kind } evaluation { split step samples metrics baselines } error { code message } } }`,
      { runId },
    );
    await until(sub, (d) => FINAL.includes(d.trainingProgress.status), 280_000, 'the end of the training run');
    const events = sub.results.map((r) => must(r.data).trainingProgress);
    await unsubscribe(sub);
    expect(events.at(-1)).toMatchObject({ kind: 'completed', status: 'completed', step: TRAINING.iterations, error: null });
    expect(events.slice(0, -1).every((e) => e.status === 'running')).toBe(true);
    // `started` is published as soon as the trainer takes the run: a subscription opened after the
    // mutation may just miss it (the run's backend is checked from the query side below).
    if (events[0].kind === 'started') expect(events[0]).toMatchObject({ step: 0, totalSteps: TRAINING.iterations, backend: 'wasm' });
    expect(events.filter((e) => e.kind === 'started').length).toBeLessThanOrEqual(1);

    // Progress: every report, in increasing step order, with finite losses.
    const progress = events.filter((e) => e.kind === 'progress');
    expect(progress.map((p) => p.step)).toEqual(everyStep(TRAINING.progressEvery));
    for (const p of progress) {
      expect(p).toMatchObject({ totalSteps: TRAINING.iterations, epoch: Math.floor((p.step ?? 0) / TRAINING.epochIterations) });
      expect([p.lossG, p.lossD, p.l1].every((v) => typeof v === 'number' && Number.isFinite(v))).toBe(true);
      expect(p.samplesPerSec).toBeGreaterThan(0);
    }
    // Every event of the loop in step order (a checkpoint or validation shares its iteration's step);
    // the test-split evaluation after the loop scores the best checkpoint, at that checkpoint's step.
    const testEvaluation = events.filter((e) => e.kind === 'evaluated' && e.evaluation?.split === 'test');
    const steps = events.filter((e) => e.kind !== 'started' && !testEvaluation.includes(e)).map((e) => e.step ?? -1);
    expect(steps).toEqual([...steps].sort((a, b) => a - b));
    const validations = events.filter((e) => e.kind === 'evaluated' && e.evaluation?.split === 'dev');
    expect(validations.map((e) => e.step)).toEqual(everyStep(TRAINING.epochIterations));
    for (const v of validations) {
      expect(Object.keys(v.evaluation?.metrics ?? {}).sort()).toEqual(['l1', 'pck01', 'pck02']);
      expect(Object.keys(v.evaluation?.baselines ?? {}).sort()).toEqual(['median', 'nearest', 'random']);
    }
    expect(testEvaluation).toHaveLength(1);
    expect(events.indexOf(testEvaluation[0])).toBe(events.length - 2);
    expect(events.filter((e) => e.kind === 'checkpoint' && e.checkpoint?.kind === 'periodic').map((e) => e.step)).toEqual(everyStep(TRAINING.checkpointEvery));

    const { run } = await query<{
      run: {
        status: string;
        step: number;
        epoch: number;
        backend: string | null;
        device: string | null;
        progress: { step: number; totalSteps: number; fraction: number; lossG: number; lossD: number; l1: number; etaSeconds: number | null };
        checkpoints: { id: string; step: number; kind: string; storagePrefix: string; validationLoss: number | null }[];
        bestCheckpoint: { id: string; step: number; kind: string } | null;
        latestEvaluations: { method: string; split: string; l1: number; pck01: number; pck02: number; sampleCount: number; checkpointId: string | null }[];
        devEvaluations: { method: string; step: number | null }[];
        train: { step: number; epoch: number; phase: string; values: Record<string, number>; elapsedMs: number | null }[];
        validation: { step: number; phase: string; values: Record<string, number> }[];
      };
    }>(
      `query($id: ID!) { run: trainingRun(id: $id) {
        status step epoch backend device
        progress { step totalSteps fraction lossG lossD l1 etaSeconds }
        checkpoints { id step kind storagePrefix validationLoss }
        bestCheckpoint { id step kind }
        latestEvaluations(split: test) { method split l1 pck01 pck02 sampleCount checkpointId }
        devEvaluations: evaluations(split: dev) { method step }
        train: metricHistory(phase: train, limit: 100) { step epoch phase values elapsedMs }
        validation: metricHistory(phase: validation, limit: 100) { step phase values }
      } }`,
      { id: runId },
    );
    expect(run).toMatchObject({ status: 'completed', step: TRAINING.iterations, epoch: TRAINING.iterations / TRAINING.epochIterations, backend: 'wasm' });
    expect(run.device).toContain('wasm');
    expect(run.progress).toMatchObject({ step: TRAINING.iterations, totalSteps: TRAINING.iterations, fraction: 1, etaSeconds: null });

    // Metric history: the trainer's names, as the API exposes them, one point per report / validation.
    expect(run.train.map((m) => m.step)).toEqual(progress.map((p) => p.step));
    for (const m of run.train) expect(Object.keys(m.values).sort()).toEqual(['gan', 'l1', 'lossD', 'lossG']);
    const lastReport = must(progress.at(-1), 'a progress event');
    expect(run.train.at(-1)?.values).toMatchObject({ lossG: lastReport.lossG, lossD: lastReport.lossD, l1: lastReport.l1 });
    expect(run.progress).toMatchObject({ lossG: lastReport.lossG, lossD: lastReport.lossD, l1: lastReport.l1 });
    expect(run.train.every((m) => m.phase === 'train' && typeof m.elapsedMs === 'number')).toBe(true);
    expect(run.validation.map((m) => m.step)).toEqual(everyStep(TRAINING.epochIterations));
    for (const m of run.validation) expect(Object.keys(m.values).sort()).toEqual(['l1', 'pck01', 'pck02']);
    validations.forEach((v, i) => expect(run.validation[i].values).toEqual(v.evaluation?.metrics));

    // Checkpoints: periodic every 100, the final one, and the best by validation L1.
    const best = must(run.bestCheckpoint, 'a best checkpoint');
    expect(run.checkpoints.filter((c) => c.kind === 'periodic').map((c) => c.step)).toEqual(everyStep(TRAINING.checkpointEvery));
    expect(run.checkpoints.filter((c) => c.kind === 'final').map((c) => c.step)).toEqual([TRAINING.iterations]);
    expect(run.checkpoints.filter((c) => c.kind === 'best').map((c) => c.id)).toEqual([best.id]);
    const bestL1 = Math.min(...run.validation.map((m) => m.values['l1']));
    expect(run.checkpoints.find((c) => c.id === best.id)?.validationLoss).toBeCloseTo(bestL1, 9);
    for (const c of run.checkpoints) expect(c.storagePrefix).toBe(`runs/${runId}/checkpoints/${String(c.step).padStart(12, '0')}/`);

    // Evaluations: the model at every validation and the three baselines on dev; all four on test.
    expect(run.devEvaluations.filter((e) => e.method === 'model').map((e) => e.step).sort((a, b) => (a ?? 0) - (b ?? 0))).toEqual(everyStep(TRAINING.epochIterations));
    expect(run.devEvaluations.filter((e) => e.method !== 'model').map((e) => e.method).sort()).toEqual(['median', 'nearest', 'random']);
    const test = Object.fromEntries(run.latestEvaluations.map((e) => [e.method, e]));
    expect(Object.keys(test).sort()).toEqual(['median', 'model', 'nearest', 'random']);
    const { speaker } = await query<{ speaker: { sampleCounts: { test: number }; latestCompletedRun: { id: string } | null } }>(
      'query($id: ID!) { speaker(id: $id) { sampleCounts { test } latestCompletedRun { id } } }',
      { id: speakerId },
    );
    expect(speaker.latestCompletedRun?.id).toBe(runId);
    for (const e of run.latestEvaluations) expect(e).toMatchObject({ split: 'test', sampleCount: speaker.sampleCounts.test });
    expect(test['model'].checkpointId).toBe(best.id);
    expect(testEvaluation[0].step).toBe(best.step);
    expect(testEvaluation[0].evaluation?.metrics['l1']).toBeCloseTo(test['model'].l1, 9);
    expect(testEvaluation[0].evaluation?.baselines?.['median']['l1']).toBeCloseTo(test['median'].l1, 9);
    // The point of it all (ML-SPEC 7): the trained model beats the median pose on held-out windows.
    expect(test['model'].l1).toBeLessThan(test['median'].l1);
    expect(test['model'].pck02).toBeGreaterThan(test['median'].pck02);
    flow.runId = runId;
    flow.bestCheckpointId = best.id;
  });

  it('predicts gestures for uploaded speech with the trained model, renders them, and serves the mp4 for download', { timeout: 120_000 }, async () => {
    const runId = must(flow.runId, 'the trained run');
    // Speech the model has never heard: another synthetic video of the same style.
    const plan = planSyntheticSpeaker({ seed: 'held-out', name: 'speech', minutes: 0.25, style: SYNTHETIC.style });
    const wave = synthesizeVideo(plan, 0).audio.subarray(0, SPEECH_SECONDS * SAMPLE_RATE);
    expect(wave.length).toBe(SPEECH_SECONDS * SAMPLE_RATE);
    const uploadId = await uploadFile('speech.wav', 'audio/wav', encodeWav(wave, SAMPLE_RATE));

    const { predict } = await query<{ predict: { id: string; status: string; renders: { id: string; status: string; width: number; height: number }[] } }>(
      'mutation($input: PredictInput!) { predict(input: $input) { id status renders { id status width height } } }',
      { input: { audio: { uploadId }, model: { runId }, render: true, renderOptions: RENDER } },
    );
    expect(predict.status).toBe('queued');
    expect(predict.renders).toHaveLength(1);
    const renderId = predict.renders[0].id;
    expect(predict.renders[0]).toMatchObject({ status: 'queued', width: RENDER.width, height: RENDER.height });
    const [resultUpdates, renderUpdates] = await subscribeAll<{ jobUpdated: JobUpdate }>(JOB_UPDATED, [{ id: predict.id }, { id: renderId }]);
    // Six seconds of speech take the inference worker a few tens of milliseconds, about as long as
    // opening a subscription: its update may come before the subscription, so, as a client that
    // subscribes late must, read where the job is first. The render (after inference, through
    // ffmpeg) always ends well after.
    const { job } = await query<{ job: { status: string } | null }>('query($id: ID!) { job(id: $id) { status } }', { id: predict.id });
    if (!FINAL.includes(must(job, 'the inference result').status)) {
      const resultEnd = await jobEnd(resultUpdates, 60_000, 'the inference result');
      expect(resultEnd).toMatchObject({ id: predict.id, kind: 'inference', status: 'completed', event: 's2g.inference.completed' });
      expect(resultEnd.details).toMatchObject({ resultId: predict.id, renderId, fps: POSE_FPS });
    }
    const renderEnd = await jobEnd(renderUpdates, 90_000, 'the render');
    expect(renderEnd).toMatchObject({ id: renderId, kind: 'render', status: 'completed', event: 's2g.render.completed' });
    expect(renderEnd.details).toMatchObject({ renderId, resultId: predict.id });
    await unsubscribe(resultUpdates, renderUpdates);

    const { result } = await query<{
      result: {
        status: string;
        frameCount: number;
        durationSeconds: number;
        backend: string;
        runId: string;
        checkpointId: string;
        posesJsonUrl: string | null;
        renders: { id: string; status: string; fps: number; videoUrl: string | null; posterUrl: string | null }[];
      };
    }>(
      `query($id: ID!) { result: inferenceResult(id: $id) {
        status frameCount durationSeconds backend runId checkpointId posesJsonUrl renders { id status fps videoUrl posterUrl } } }`,
      { id: predict.id },
    );
    expect(result).toMatchObject({ status: 'completed', backend: 'wasm', runId, checkpointId: must(flow.bestCheckpointId, 'the best checkpoint') });
    expect(result.durationSeconds).toBeCloseTo(SPEECH_SECONDS, 6);
    expect(Math.abs(result.frameCount - SPEECH_SECONDS * POSE_FPS)).toBeLessThanOrEqual(1);
    const poses = (await (await fetch(must(result.posesJsonUrl, 'a poses URL'))).json()) as Record<string, unknown>;
    expect(JSON.stringify(poses)).toContain(predict.id);
    expect(result.renders.map((r) => r.id)).toEqual([renderId]);

    // The render's own query gives the same download URL; the mp4 downloads from it.
    const { render } = await query<{ render: { status: string; videoUrl: string | null; posterUrl: string | null } }>(
      'query($id: ID!) { render(id: $id) { status videoUrl posterUrl } }',
      { id: renderId },
    );
    expect(render.status).toBe('completed');
    const download = await fetch(must(render.videoUrl, 'a video URL'));
    expect(download.status).toBe(200);
    const mp4 = Buffer.from(await download.arrayBuffer());
    const file = join(dir.path, 'render.mp4');
    await writeFile(file, mp4);
    const info = await probe(file);
    expect(info.format).toContain('mp4');
    expect(info.video).toMatchObject({ codec: 'h264', width: RENDER.width, height: RENDER.height });
    expect(info.video?.fps).toBeCloseTo(RENDER.fps, 6);
    expect(info.audio?.codec).toBe('aac');
    // As long as the speech, rounded up to whole frames; the file up to one AAC packet (1024 samples at 48 kHz) longer.
    const videoSeconds = info.video?.durationSec ?? 0;
    expect(videoSeconds).toBeGreaterThanOrEqual(SPEECH_SECONDS - 1e-3);
    expect(videoSeconds - SPEECH_SECONDS).toBeLessThan(1 / RENDER.fps);
    expect(Math.abs(info.durationSec - SPEECH_SECONDS)).toBeLessThan(1 / RENDER.fps + 1024 / 48_000);
    const poster = await fetch(must(render.posterUrl, 'a poster URL'));
    expect(Buffer.from(await poster.arrayBuffer()).subarray(1, 4).toString()).toBe('PNG');
  });
});
