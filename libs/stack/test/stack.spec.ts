/**
 * The stack as `s2g up` and the embedded gateway run it: every command handled in one process, the
 * API reachable with the token file it keeps, one service alone, and work left unfinished by a
 * stopped process picked up again by the next one.
 */
import { COMMAND_NAMES } from '@s2g/contracts';
import { loadConfig } from '@s2g/config';
import { createDataSource, Database, migrate } from '@s2g/db';
import { createLogger } from '@s2g/service';
import { tempDir, type TempDir, testNats, testPostgres, type TestPostgres, testS3 } from '@s2g/testing';
import { randomUUID } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Stack, stackConfig, startStack, type StackOptions } from '../src';

let postgres: TestPostgres;
let dir: TempDir;
let databaseUrl: string;
const logs: Record<string, unknown>[] = [];

const logger = createLogger({
  name: 'stack-test',
  level: 'info',
  destination: new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split('\n')) if (line.trim()) logs.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  }),
});

function start(options: Partial<StackOptions> = {}): Promise<Stack> {
  const config = loadConfig(stackConfig, { DATA_DIR: dir.path, DATABASE_URL: databaseUrl, HTTP_HOST: '127.0.0.1', HTTP_PORT: '0', SHUTDOWN_TIMEOUT_MS: '10000' });
  return startStack(config, { logger, ...options });
}

async function viewer(stack: Stack): Promise<unknown> {
  const res = await fetch(stack.url as string, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${stack.token}` },
    body: JSON.stringify({ query: '{ viewer { tokenName scopes } }' }),
  });
  return res.json();
}

beforeAll(async () => {
  postgres = await testPostgres();
  databaseUrl = await postgres.createDatabase('stack');
  dir = await tempDir('stack');
});

afterAll(async () => {
  await postgres?.stop();
  await dir?.cleanup();
});

describe('startStack', () => {
  it('serves the API with a local admin token and handles every command', async () => {
    const stack = await start();
    try {
      expect(stack.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/graphql$/);
      expect([...stack.commands].sort()).toEqual([...COMMAND_NAMES].sort());
      expect(stack.backend?.backend).toBeTruthy();
      expect(stack.token).toMatch(/^s2g_/);
      expect((await stat(stack.tokenFile as string)).mode & 0o777).toBe(0o600);
      expect(await viewer(stack)).toEqual({ data: { viewer: { tokenName: 'local-admin', scopes: ['admin'] } } });
      const ready = await fetch(`http://127.0.0.1:${stack.port}/readyz`);
      expect(ready.status).toBe(200);
    } finally {
      expect(await stack.stop()).toBe(0);
    }
  });

  it('runs one service alone, without the API', async () => {
    const stack = await start({ services: ['renderer'], gateway: false });
    try {
      expect(stack.url).toBeNull();
      expect(stack.token).toBeNull();
      expect(stack.backend).toBeNull();
      expect(stack.commands).toEqual(['s2g.render.requested']);
      expect((await fetch(`http://127.0.0.1:${stack.port}/readyz`)).status).toBe(200);
    } finally {
      expect(await stack.stop()).toBe(0);
    }
  });

  it('finishes, after a restart, a job the previous process had queued', async () => {
    // What a gateway leaves behind when the process stops right after queueing: the record, no command.
    const ds = createDataSource(databaseUrl, { poolSize: 2 });
    await ds.initialize();
    const db = Database.of(ds);
    const speaker = await db.speakers.create({ name: `restart-${Date.now()}`, displayName: 'Restart' });
    const jobId = randomUUID();
    await db.ingestJobs.create({
      id: jobId,
      speakerName: speaker.name,
      speakerId: speaker.id,
      layout: 'synthetic',
      source: `object:uploads/${jobId}/`,
      options: { synthetic: { minutes: 1, seed: 1, video: false }, splitSeed: 0, replace: false },
    });
    const stack = await start();
    try {
      expect(stack.requeued).toEqual({ ingest: 1, training: 0, inference: 0, render: 0 });
      let job = await db.ingestJobs.getById(jobId);
      const deadline = Date.now() + 120_000;
      while ((job.status === 'queued' || job.status === 'running') && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 500));
        job = await db.ingestJobs.getById(jobId);
      }
      expect(job.errorMessage).toBeNull();
      expect(job.status).toBe('completed');
      expect((await db.samples.countBySplit(speaker.id)).train, JSON.stringify(job.summary)).toBeGreaterThan(0);
    } finally {
      expect(await stack.stop()).toBe(0);
      await ds.destroy();
    }
    // Nothing is left to queue again on the next start.
    const again = await start();
    try {
      expect(again.requeued).toEqual({ ingest: 0, training: 0, inference: 0, render: 0 });
    } finally {
      await again.stop();
    }
  }, 180_000);

  it('runs as a single-process deployment on NATS, Postgres and S3', async () => {
    const [nats, s3] = await Promise.all([testNats(), testS3()]);
    const url = await postgres.createDatabase('stack_distributed');
    // Distributed deployments migrate with their migration job, not at start-up.
    const ds = createDataSource(url, { poolSize: 2 });
    await ds.initialize();
    await migrate(ds);
    await ds.destroy();
    const config = loadConfig(stackConfig, {
      S2G_MODE: 'distributed',
      DATA_DIR: `${dir.path}/distributed`,
      DATABASE_URL: url,
      NATS_URL: nats.url,
      NATS_NAMESPACE: `stack${Date.now()}`,
      S3_ENDPOINT: s3.endpoint,
      S3_ACCESS_KEY: s3.accessKey,
      S3_SECRET_KEY: s3.secretKey,
      S3_BUCKET: s3.bucket,
      HTTP_HOST: '127.0.0.1',
      HTTP_PORT: '0',
    });
    const stack = await startStack(config, { logger });
    try {
      expect(stack.platform.bus.driver).toBe('nats');
      expect(stack.platform.store.driver).toBe('s3');
      expect(stack.requeued).toEqual({ ingest: 0, training: 0, inference: 0, render: 0 });
      expect(await viewer(stack)).toEqual({ data: { viewer: { tokenName: 'local-admin', scopes: ['admin'] } } });
      // A job through the API, handled by this process's ingest consumer over NATS, stored in S3.
      const gql = async <T>(query: string, variables: Record<string, unknown>): Promise<T> => {
        const res = await fetch(stack.url as string, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${stack.token}` },
          body: JSON.stringify({ query, variables }),
        });
        const body = (await res.json()) as { data: T; errors?: unknown[] };
        expect(body.errors).toBeUndefined();
        return body.data;
      };
      const { createSpeaker } = await gql<{ createSpeaker: { id: string } }>('mutation($name: String!) { createSpeaker(input: { name: $name }) { id } }', { name: 'dist' });
      const { startIngest } = await gql<{ startIngest: { id: string } }>(
        'mutation($id: ID!) { startIngest(input: { speakerId: $id, layout: synthetic, options: { synthetic: { minutes: 1, seed: 2, video: false } } }) { id } }',
        { id: createSpeaker.id },
      );
      let status = 'queued';
      const deadline = Date.now() + 120_000;
      while ((status === 'queued' || status === 'running') && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 500));
        status = (await gql<{ ingestJob: { status: string } }>('query($id: ID!) { ingestJob(id: $id) { status } }', { id: startIngest.id })).ingestJob.status;
      }
      expect(status).toBe('completed');
    } finally {
      expect(await stack.stop()).toBe(0);
      await Promise.all([nats.stop(), s3.stop()]);
    }
  }, 180_000);
});
