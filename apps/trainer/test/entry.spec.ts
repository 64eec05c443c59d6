/**
 * The built entry point as it runs in production: bundle it, start it as a child process, probe its
 * health endpoints, stop it with SIGTERM; then, deployed as in distributed mode (NATS, Postgres,
 * S3), let it take training requests and cancels off the bus. One file, so the bundle is built once.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AnyEvent } from '@s2g/contracts';
import { createDataSource, Database, migrate } from '@s2g/db';
import { type EventBus, NatsBus } from '@s2g/messaging';
import { type TempDir, type TestNats, type TestPostgres, type TestS3, tempDir, testNats, testPostgres, testS3, type AppRun, buildApp, runApp } from '@s2g/testing';
import type { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const APP = 'trainer';
const root = fileURLToPath(new URL('../../../', import.meta.url));
const entry = join(root, 'dist/apps', APP, 'main.js');
let dataDir: string;

function run(args: string[], env: Record<string, string>, whileRunning?: (ready: { port: number }) => Promise<void>): Promise<AppRun> {
  return runApp({ app: APP, args, env, dataDir, ...(whileRunning ? { whileRunning } : {}) });
}

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), `s2g-${APP}-entry-`));
  // mkdtemp makes the folder 0700; a DATA_DIR made with mkdir is 0755, which the embedded Postgres
  // needs when it runs as its own OS user (the service started as root).
  await chmod(dataDir, 0o755);
  await buildApp(APP);
});

afterAll(async () => {
  await rm(dataDir, { recursive: true, force: true });
});

describe(`${APP} entry point`, () => {
  it('prints usage with every environment variable for --help and exits 0', async () => {
    const r = await run(['--help'], {});
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`Usage: s2g-${APP}`);
    for (const name of ['S2G_MODE', 'DATA_DIR', 'DATABASE_URL', 'NATS_URL', 'S3_ENDPOINT', 'HTTP_PORT', 'LOG_LEVEL', 'TRAINER_CONCURRENCY', 'TRAINER_ACK_WAIT_MS', 'TRAINER_CACHE_MB']) expect(r.stdout).toContain(name);
  });

  it('serves /healthz and /readyz, then exits 0 within seconds of SIGTERM', async () => {
    const r = await run([], {}, async ({ port }) => {
      const health = await fetch(`http://127.0.0.1:${port}/healthz`);
      expect(health.status).toBe(200);
      expect(await health.json()).toMatchObject({ status: 'ok', service: APP });
      const ready = await fetch(`http://127.0.0.1:${port}/readyz`);
      expect(ready.status).toBe(200);
      expect(await ready.json()).toMatchObject({ status: 'ready', checks: { bus: { ok: true } } });
      expect((await fetch(`http://127.0.0.1:${port}/metrics`)).status).toBe(200);
    });
    expect(r.code).toBe(0);
    expect(r.stopMs).toBeLessThan(5000);
    expect(r.stdout).toContain(`"msg":"${APP} stopped"`);
  });

  it('refuses an invalid configuration with every problem and exit code 78', async () => {
    const r = await run([], { S2G_MODE: 'distributed', LOG_LEVEL: 'chatty', TRAINER_CONCURRENCY: '0' });
    expect(r.code).toBe(78);
    for (const name of ['LOG_LEVEL', 'DATABASE_URL', 'NATS_URL', 'S3_ENDPOINT', 'TRAINER_CONCURRENCY']) expect(r.stderr).toMatch(new RegExp(`^  ${name}: `, 'm'));
  });
});

let pg: TestPostgres;
let dataSource: DataSource;
let db: Database;
let nats: TestNats;
let s3: TestS3;
let bus: EventBus;
let serviceDir: TempDir;
let app: ChildProcess | undefined;
const events: AnyEvent[] = [];
let env: Record<string, string>;

function waitFor(match: (e: AnyEvent) => boolean, what: string, timeoutMs = 30_000): Promise<AnyEvent> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const poll = (): void => {
      const found = events.find(match);
      if (found) resolve(found);
      else if (Date.now() > deadline) reject(new Error(`timed out waiting for ${what}; saw ${events.map((e) => e.name).join(', ')}`));
      else setTimeout(poll, 50);
    };
    poll();
  });
}

describe(`${APP} service`, () => {
  beforeAll(async () => {
    pg = await testPostgres();
    const url = await pg.createDatabase('trainer_app');
    dataSource = createDataSource(url);
    await dataSource.initialize();
    await migrate(dataSource);
    db = Database.of(dataSource);
    nats = await testNats();
    s3 = await testS3();
    serviceDir = await tempDir('trainer-app');
    const namespace = `trainerapp${process.pid}x${Date.now().toString(36)}`;
    bus = await NatsBus.connect({ servers: nats.url, name: 'trainer-app-test', namespace });
    await bus.subscribeEvents('s2g.training.*', (e) => void events.push(e));
    env = {
      PATH: process.env.PATH ?? '',
      S2G_MODE: 'distributed',
      DATA_DIR: serviceDir.path,
      DATABASE_URL: url,
      NATS_URL: nats.url,
      NATS_NAMESPACE: namespace,
      S3_ENDPOINT: s3.endpoint,
      S3_ACCESS_KEY: s3.accessKey,
      S3_SECRET_KEY: s3.secretKey,
      S3_BUCKET: s3.bucket,
      TF_BACKEND: 'wasm',
      HTTP_HOST: '127.0.0.1',
      HTTP_PORT: '0',
      LOG_LEVEL: 'info',
    };
  });

  afterAll(async () => {
    if (app && app.exitCode === null && app.signalCode === null) app.kill('SIGKILL');
    await bus?.close({ timeoutMs: 1000 });
    await dataSource?.destroy();
    await pg?.stop();
    await nats?.stop();
    await s3?.stop();
    await serviceDir?.cleanup();
  });

  it('handles training requests and cancels from the bus and stops on SIGTERM', { timeout: 90_000 }, async () => {
    let stdout = '';
    const child = spawn(process.execPath, [entry], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    app = child;
    child.stdout?.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr?.on('data', (c: Buffer) => (stdout += c.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    await new Promise<void>((resolve, reject) => {
      const timer = setInterval(() => {
        if (stdout.includes('"msg":"trainer ready"')) {
          clearInterval(timer);
          resolve();
        } else if (child.exitCode !== null) {
          clearInterval(timer);
          reject(new Error(`trainer exited: ${stdout}`));
        }
      }, 50);
    });
    expect(stdout).toContain('"msg":"handling commands"');
    expect(stdout).toMatch(/"trainer":\{"concurrency":1,"ackWaitMs":300000,"cacheBytes":2147483648\}/);

    // A speaker nothing was ingested for: the run fails with NO_TRAINING_DATA, after recording the backend.
    const speaker = await db.speakers.create({ name: 'empty' });
    const failing = randomUUID();
    await db.trainingRuns.create({ id: failing, speakerId: speaker.id, preset: 'tiny', config: {} });
    await bus.publishCommand('s2g.training.requested', { runId: failing, speakerId: speaker.id, config: { preset: 'tiny' } });
    const failed = await waitFor((e) => e.name === 's2g.training.failed' && e.payload.runId === failing, 'the failed event');
    expect(failed.name === 's2g.training.failed' && failed.payload.error.code).toBe('NO_TRAINING_DATA');
    expect(await db.trainingRuns.getById(failing)).toMatchObject({ status: 'failed', errorCode: 'NO_TRAINING_DATA', backend: 'wasm', attempts: 1 });

    // A queued run cancelled before any trainer took it.
    const queued = randomUUID();
    await db.trainingRuns.create({ id: queued, speakerId: speaker.id, preset: 'tiny', config: {} });
    await bus.publishCommand('s2g.training.cancel', { runId: queued, reason: 'changed my mind' });
    await waitFor((e) => e.name === 's2g.training.cancelled' && e.payload.runId === queued, 'the cancelled event');
    expect(await db.trainingRuns.getById(queued)).toMatchObject({ status: 'cancelled' });

    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(stdout).toContain('"msg":"trainer stopped"');
  });
});
