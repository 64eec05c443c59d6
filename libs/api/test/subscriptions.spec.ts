/**
 * Live updates as deployed: two gateway replicas on one NATS JetStream, one Postgres and one S3
 * (s3rver). Events a worker publishes on the bus reach the subscribers of both replicas over real
 * graphql-ws clients; uploads go straight to S3 through presigned URLs.
 */
import { ErrorCode } from '@s2g/contracts';
import { connectBus, type EventBus } from '@s2g/messaging';
import { tempDir, type TempDir, testNats, type TestNats, testPostgres, type TestPostgres, testS3, type TestS3 } from '@s2g/testing';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedSpeaker } from './fixtures';
import { eventually, must, startTestGateway, type TestGateway } from './gateway';

let pg: TestPostgres;
let nats: TestNats;
let s3: TestS3;
let dirs: TempDir[] = [];
let a: TestGateway;
let b: TestGateway;
/** The trainer's side of the bus: publishes events, takes training commands. */
let trainer: EventBus;
const requested: string[] = [];
const namespace = `api${randomBytes(4).toString('hex')}`;

beforeAll(async () => {
  [pg, nats, s3] = await Promise.all([testPostgres(), testNats(), testS3()]);
  dirs = [await tempDir('api-a'), await tempDir('api-b')];
  const databaseUrl = await pg.createDatabase('api_subscriptions');
  const common = { databaseUrl, nats: { url: nats.url, namespace }, s3 };
  a = await startTestGateway({ ...common, dataDir: dirs[0].path });
  b = await startTestGateway({ ...common, dataDir: dirs[1].path });
  trainer = await connectBus({ nats: { servers: [nats.url], namespace }, name: 'test-trainer' });
  await trainer.consumeCommands('s2g.training.requested', 'trainer', (p) => {
    requested.push(p.runId);
  });
});

afterAll(async () => {
  await Promise.all([a?.close(), b?.close()]);
  await trainer?.close({ timeoutMs: 0 });
  await Promise.all([pg?.stop(), nats?.stop(), s3?.stop(), ...dirs.map((d) => d.cleanup())]);
});

const TRAINING_PROGRESS = `subscription($runId: ID!) { trainingProgress(runId: $runId) {
  runId kind status step epoch totalSteps lossG lossD l1 samplesPerSec etaSeconds backend device
  checkpoint { id step kind validationLoss } evaluation { split step samples metrics baselines } error { code message } at } }`;

type TrainingEvent = { trainingProgress: Record<string, unknown> & { kind: string; step: number | null } };

async function queuedRun(gw: TestGateway, name: string): Promise<{ runId: string; speakerId: string }> {
  const seeded = await seedSpeaker(gw.platform.db, gw.platform.store, name);
  const res = await gw.request<{ startTraining: { id: string } }>('mutation($s: ID!) { startTraining(input: { speakerId: $s, config: { preset: tiny } }) { id } }', { s: seeded.speakerId });
  expect(res.errors).toBeUndefined();
  return { runId: must(res.data).startTraining.id, speakerId: seeded.speakerId };
}

describe('subscriptions across gateway replicas', () => {
  it('delivers a run\'s events from the bus to trainingProgress subscribers on both replicas, in order', async () => {
    const { runId, speakerId } = await queuedRun(a, 'fanout');
    await eventually(() => requested.includes(runId));

    const onA = a.subscribe<TrainingEvent>(TRAINING_PROGRESS, { runId });
    const onB = b.subscribe<TrainingEvent>(TRAINING_PROGRESS, { runId });
    const jobOnB = b.subscribe<{ jobUpdated: { id: string; kind: string; status: string; fraction: number | null; stage: string | null } }>(
      'subscription($id: ID!) { jobUpdated(id: $id) { id kind status fraction stage event } }',
      { id: runId },
    );
    // Subscriptions are live once the gateway counts them.
    await eventually(() => a.gateway.activeSubscriptions() === 1 && b.gateway.activeSubscriptions() === 2);

    await trainer.publishEvent('s2g.training.started', { runId, speakerId, backend: 'wasm', device: 'cpu', totalSteps: 600 });
    for (const step of [100, 200, 300]) {
      await trainer.publishEvent('s2g.training.progress', { runId, step, epoch: Math.floor(step / 300), totalSteps: 600, lossG: 1 / step, lossD: 0.69, l1: 2 / step, samplesPerSec: 50, etaSeconds: (600 - step) / 10 });
    }
    await trainer.publishEvent('s2g.training.checkpoint', { runId, checkpointId: 'b5c9a1e2-0000-4000-8000-000000000001', step: 300, kind: 'best', prefix: `runs/${runId}/checkpoints/000000000300/`, valLoss: 0.5 });
    await trainer.publishEvent('s2g.training.evaluated', { runId, step: 300, split: 'dev', samples: 64, metrics: { l1: 0.4, pck02: 0.6 }, baselines: { median: { l1: 0.9, pck02: 0.2 } } });
    await trainer.publishEvent('s2g.training.completed', { runId, speakerId, steps: 600, finalCheckpointId: 'b5c9a1e2-0000-4000-8000-000000000002', durationMs: 60_000 });

    for (const sub of [onA, onB]) {
      const events = await sub.waitFor(7);
      expect(events.map((e) => e.errors)).toEqual(Array(7).fill(undefined));
      const kinds = events.map((e) => must(e.data).trainingProgress.kind);
      expect(kinds).toEqual(['started', 'progress', 'progress', 'progress', 'checkpoint', 'evaluated', 'completed']);
      expect(events.map((e) => must(e.data).trainingProgress['status'])).toEqual(['running', 'running', 'running', 'running', 'running', 'running', 'completed']);
      expect(must(events[0].data).trainingProgress).toMatchObject({ backend: 'wasm', device: 'cpu', totalSteps: 600, step: 0 });
      expect(must(events[2].data).trainingProgress).toMatchObject({ runId, step: 200, epoch: 0, lossD: 0.69, samplesPerSec: 50, etaSeconds: 40 });
      expect(must(events[4].data).trainingProgress['checkpoint']).toEqual({ id: 'b5c9a1e2-0000-4000-8000-000000000001', step: 300, kind: 'best', validationLoss: 0.5 });
      expect(must(events[5].data).trainingProgress['evaluation']).toEqual({ split: 'dev', step: 300, samples: 64, metrics: { l1: 0.4, pck02: 0.6 }, baselines: { median: { l1: 0.9, pck02: 0.2 } } });
    }
    const updates = await jobOnB.waitFor(7);
    expect(updates.map((u) => must(u.data).jobUpdated.status).at(-1)).toBe('completed');
    expect(must(updates[2].data).jobUpdated).toMatchObject({ id: runId, kind: 'training', status: 'running', fraction: 200 / 600, stage: 'progress', event: 's2g.training.progress' });
    const metrics = await (await fetch(`${b.baseUrl}/metrics`)).text();
    expect(metrics).toMatch(/s2g_graphql_operations_total\{[^}]*type="subscription",field="trainingProgress",code="OK"[^}]*\} 1/);
    expect(metrics).toMatch(/s2g_graphql_subscriptions_active[^\n]* 2\n/);
    for (const s of [onA, onB, jobOnB]) s.unsubscribe();
    await eventually(() => a.gateway.activeSubscriptions() === 0 && b.gateway.activeSubscriptions() === 0);
  });

  it('routes each run\'s events only to that run\'s subscribers, and job updates of other kinds by id', async () => {
    const one = await queuedRun(b, 'route-one');
    const two = await queuedRun(b, 'route-two');
    const subOne = a.subscribe<TrainingEvent>(TRAINING_PROGRESS, { runId: one.runId });
    const ingest = await a.platform.db.ingestJobs.create({ speakerName: 'route-one', speakerId: one.speakerId, layout: 'synthetic', source: 'object:uploads/x/' });
    const jobSub = b.subscribe<{ jobUpdated: { kind: string; status: string; stage: string; fraction: number | null; error: { code: string } | null } }>(
      'subscription($id: ID!) { jobUpdated(id: $id) { kind status stage fraction error { code message } } }',
      { id: ingest.id },
    );
    await eventually(() => a.gateway.activeSubscriptions() === 1 && b.gateway.activeSubscriptions() === 1);
    await trainer.publishEvent('s2g.training.progress', { runId: two.runId, step: 5, epoch: 0, totalSteps: 10, lossG: 1, lossD: 1, l1: 1, samplesPerSec: 1, etaSeconds: 5 });
    await trainer.publishEvent('s2g.training.failed', { runId: one.runId, speakerId: one.speakerId, step: 3, error: { code: ErrorCode.TRAINING_DIVERGED, message: 'loss became NaN at step 3' } });
    await trainer.publishEvent('s2g.ingest.progress', { jobId: ingest.id, speakerId: one.speakerId, stage: 'cutting', files: 1, totalFiles: 4, frames: 10, samples: 2, bytes: 100 });
    await trainer.publishEvent('s2g.ingest.failed', { jobId: ingest.id, speakerId: one.speakerId, error: { code: ErrorCode.DATASET_INVALID, message: 'no intervals' } });

    const [failed] = await subOne.waitFor(1);
    expect(must(failed.data).trainingProgress).toMatchObject({ kind: 'failed', status: 'failed', step: 3, error: { code: 'TRAINING_DIVERGED', message: 'loss became NaN at step 3' } });
    const jobs = await jobSub.waitFor(2);
    expect(jobs.map((j) => must(j.data).jobUpdated)).toEqual([
      { kind: 'ingest', status: 'running', stage: 'cutting', fraction: 0.25, error: null },
      { kind: 'ingest', status: 'failed', stage: null, fraction: null, error: { code: 'DATASET_INVALID', message: 'no intervals' } },
    ]);
    // Nothing of run two reached run one's subscriber.
    await new Promise((r) => setTimeout(r, 200));
    expect(subOne.results).toHaveLength(1);
  });

  it('requires a token to connect, the read scope, and a known run or job', async () => {
    const noToken = a.subscribe(TRAINING_PROGRESS, { runId: '00000000-0000-4000-8000-000000000000' }, { token: null });
    await noToken.ended();
    expect((noToken.failure as { code?: number }).code).toBe(4403);
    const badToken = a.subscribe(TRAINING_PROGRESS, { runId: '00000000-0000-4000-8000-000000000000' }, { token: `s2g_${'x'.repeat(43)}` });
    await badToken.ended();
    expect((badToken.failure as { code?: number }).code).toBe(4403);

    const read = await a.token(['read']);
    const unknown = a.subscribe<TrainingEvent>(TRAINING_PROGRESS, { runId: '00000000-0000-4000-8000-000000000000' }, { token: read });
    const [answer] = await unknown.waitFor(1);
    expect(answer.errors?.[0].extensions).toMatchObject({ code: ErrorCode.NOT_FOUND });
    const job = a.subscribe('subscription { jobUpdated(id: "nope") { id } }', {}, { token: read });
    expect((await job.waitFor(1))[0].errors?.[0].extensions).toMatchObject({ code: ErrorCode.NOT_FOUND });

    const invalid = a.subscribe('subscription { trainingProgress { runId } }', {}, { token: read });
    await invalid.ended();
    expect(JSON.stringify(invalid.failure)).toContain('BAD_USER_INPUT');
  });

  it('refuses a subscription over the depth limit with QUERY_TOO_COMPLEX', async () => {
    const { runId } = await queuedRun(a, 'deep-sub');
    const deep = a.subscribe(`subscription($id: ID!) { jobUpdated(id: $id) { id error { code message } } trainingProgress(runId: $id) { checkpoint { id } } }`, { id: runId });
    await deep.ended();
    expect(JSON.stringify(deep.failure)).toContain('GRAPHQL_VALIDATION_FAILED');

    const dir = await tempDir('api-limits');
    dirs.push(dir);
    const gw = await startTestGateway({ databaseUrl: await pg.createDatabase('api_limits'), dataDir: dir.path, nats: { url: nats.url, namespace }, s3, env: { API_MAX_DEPTH: '2' } });
    try {
      const { runId: id } = await queuedRun(gw, 'deep-sub-2');
      const tooDeep = gw.subscribe(`subscription($id: ID!) { trainingProgress(runId: $id) { checkpoint { id } } }`, { id });
      await tooDeep.ended();
      expect(JSON.stringify(tooDeep.failure)).toContain(ErrorCode.QUERY_TOO_COMPLEX);
    } finally {
      await gw.close();
    }
  });

  it('closes subscriptions when a replica shuts down; the other keeps serving', async () => {
    const dir = await tempDir('api-c');
    dirs.push(dir);
    const c = await startTestGateway({ databaseUrl: await pg.createDatabase('api_shutdown'), dataDir: dir.path, nats: { url: nats.url, namespace }, s3 });
    const { runId } = await queuedRun(c, 'goodbye');
    const sub = c.subscribe<TrainingEvent>(TRAINING_PROGRESS, { runId });
    await eventually(() => c.gateway.activeSubscriptions() === 1);
    const started = Date.now();
    expect(await c.service.shutdown('replica going away')).toBe(0);
    expect(Date.now() - started).toBeLessThan(5000);
    await sub.ended();
    await c.close();
    // 1001 Going Away: clients reconnect (to another replica behind the load balancer).
    expect((sub.failure as { code?: number }).code).toBe(1001);
    expect((await fetch(`${a.baseUrl}/readyz`)).status).toBe(200);
  });
});

describe('uploads to S3', () => {
  it('grants a presigned S3 PUT URL; the stored file feeds an ingest request', async () => {
    const bytes = Buffer.from('PK\u0003\u0004 fake zip');
    const grant = must((await a.request<{ createUpload: { uploadId: string; url: string; key: string } }>(
      'mutation($size: Float!) { createUpload(input: { filename: "speaker.zip", contentType: "application/zip", size: $size }) { uploadId url key } }',
      { size: bytes.length },
    )).data).createUpload;
    expect(grant.url.startsWith(s3.endpoint)).toBe(true);
    const put = await fetch(grant.url, { method: 'PUT', body: bytes, headers: { 'content-type': 'application/zip' } });
    expect(put.status).toBe(200);
    expect(await b.platform.store.getBuffer(grant.key)).toEqual(bytes);

    const speaker = must((await b.request<{ createSpeaker: { id: string } }>('mutation { createSpeaker(input: { name: "s3-upload" }) { id } }')).data).createSpeaker;
    const job = await b.request<{ startIngest: { source: string; status: string } }>(
      'mutation($s: ID!, $u: ID!) { startIngest(input: { speakerId: $s, layout: npz, source: { uploadId: $u } }) { source status } }',
      { s: speaker.id, u: grant.uploadId },
    );
    expect(job.data?.startIngest).toEqual({ source: `object:uploads/${grant.uploadId}/`, status: 'queued' });
  });
});
