/**
 * Start-up recovery against a real Postgres: unfinished records come back as their commands, finished
 * ones do not, and a record that no longer makes a valid command is failed instead of left queued.
 */
import { type CommandName, type Payload } from '@s2g/contracts';
import { createDataSource, Database, migrate } from '@s2g/db';
import { createInProcessBus, type EventBus } from '@s2g/messaging';
import { testPostgres, type TestPostgres } from '@s2g/testing';
import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseIngestSource, requeueUnfinishedJobs } from '../src';

const quiet = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };
let postgres: TestPostgres;
let dataSource: DataSource;
let db: Database;

beforeAll(async () => {
  postgres = await testPostgres();
  dataSource = createDataSource(await postgres.createDatabase('stack_requeue'));
  await dataSource.initialize();
  await migrate(dataSource);
  db = Database.of(dataSource);
});

afterAll(async () => {
  await dataSource?.destroy();
  await postgres?.stop();
});

/** A bus whose consumers record every command they get. */
async function recordingBus(): Promise<{ bus: EventBus; received: { name: CommandName; payload: unknown }[]; settled: () => Promise<void> }> {
  const bus = createInProcessBus({ logger: quiet });
  const received: { name: CommandName; payload: unknown }[] = [];
  for (const name of ['s2g.ingest.requested', 's2g.training.requested', 's2g.inference.requested', 's2g.render.requested'] as const) {
    await bus.consumeCommands(name, 'test', (payload: Payload<typeof name>) => void received.push({ name, payload }));
  }
  // In-process delivery is asynchronous: wait until the queue is quiet.
  const settled = async (): Promise<void> => {
    let last = -1;
    while (last !== received.length) {
      last = received.length;
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  return { bus, received, settled };
}

describe('parseIngestSource', () => {
  it('reads the gateway\'s `object:` and `path:` forms and nothing else', () => {
    expect(parseIngestSource('object:uploads/abc/')).toEqual({ kind: 'object', prefix: 'uploads/abc/' });
    expect(parseIngestSource('path:/data/pats')).toEqual({ kind: 'path', path: '/data/pats' });
    expect(parseIngestSource('path:')).toBeNull();
    expect(parseIngestSource('s3:bucket/key')).toBeNull();
    expect(parseIngestSource('uploads/abc')).toBeNull();
  });
});

describe('requeueUnfinishedJobs', () => {
  it('publishes the command of every queued or running job, and fails records that make no command', async () => {
    const speaker = await db.speakers.create({ name: `requeue-${Date.now()}`, displayName: 'Requeue' });
    const ingest = await db.ingestJobs.create({
      id: randomUUID(),
      speakerName: speaker.name,
      speakerId: speaker.id,
      layout: 's2g',
      source: 'object:uploads/one/',
      options: { splitSeed: 3, replace: false },
    });
    const broken = await db.ingestJobs.create({ id: randomUUID(), speakerName: speaker.name, speakerId: speaker.id, layout: 's2g', source: 'ftp:elsewhere', options: {} });
    const running = await db.trainingRuns.create({ id: randomUUID(), speakerId: speaker.id, preset: 'tiny', config: { preset: 'tiny', iterations: 40, batchSize: 4 } });
    await db.trainingRuns.markRunning(running.id);
    const done = await db.trainingRuns.create({ id: randomUUID(), speakerId: speaker.id, preset: 'tiny', config: { preset: 'tiny', iterations: 10 } });
    await db.trainingRuns.markCompleted(done.id);

    const renderWithResult = randomUUID();
    const queuedResult = await db.inferenceResults.create({
      id: randomUUID(),
      speakerId: speaker.id,
      runId: done.id,
      input: { audio: { objectKey: 'uploads/x/speech.wav' }, model: { runId: done.id }, render: { width: 320, height: 240, fps: 15, overVideo: false, renderId: renderWithResult } },
      audioKey: 'uploads/x/speech.wav',
    });
    await db.renders.create({ id: renderWithResult, resultId: queuedResult.id, width: 320, height: 240, fps: 15, options: { width: 320, height: 240, fps: 15, overVideo: false } });
    const completedResult = await db.inferenceResults.create({ id: randomUUID(), speakerId: speaker.id, runId: done.id, input: { audio: { objectKey: 'uploads/y/a.wav' }, model: { runId: done.id } } });
    await db.inferenceResults.markCompleted(completedResult.id);
    const rerender = await db.renders.create({ id: randomUUID(), resultId: completedResult.id, width: 640, height: 480, fps: 25, options: { width: 640, height: 480, fps: 25, overVideo: false } });

    const { bus, received, settled } = await recordingBus();
    try {
      const counts = await requeueUnfinishedJobs(db, bus, ['ingest', 'training', 'inference', 'render'], quiet);
      await settled();
      expect(counts).toEqual({ ingest: 1, training: 1, inference: 1, render: 1 });
      const byName = (name: CommandName): Record<string, unknown>[] => received.filter((r) => r.name === name).map((r) => r.payload as Record<string, unknown>);

      expect(byName('s2g.ingest.requested')).toEqual([
        expect.objectContaining({ jobId: ingest.id, speakerId: speaker.id, layout: 's2g', source: { kind: 'object', prefix: 'uploads/one/' }, options: expect.objectContaining({ splitSeed: 3 }) }),
      ]);
      expect(byName('s2g.training.requested')).toEqual([expect.objectContaining({ runId: running.id, speakerId: speaker.id, config: expect.objectContaining({ preset: 'tiny', iterations: 40, batchSize: 4 }) })]);
      expect(byName('s2g.inference.requested')).toEqual([
        expect.objectContaining({ resultId: queuedResult.id, audio: { objectKey: 'uploads/x/speech.wav' }, render: expect.objectContaining({ renderId: renderWithResult, width: 320 }) }),
      ]);
      // The render of the queued result is left to its inference job; the re-render of a completed one is queued.
      expect(byName('s2g.render.requested')).toEqual([expect.objectContaining({ renderId: rerender.id, resultId: completedResult.id, width: 640, fps: 25 })]);

      const failed = await db.ingestJobs.getById(broken.id);
      expect(failed.status).toBe('failed');
      expect(failed.errorCode).toBe('MESSAGE_INVALID');
      expect((await db.trainingRuns.getById(done.id)).status).toBe('completed');
    } finally {
      await bus.close({ timeoutMs: 0 });
    }

    // Only the kinds asked for.
    const second = await recordingBus();
    try {
      const counts = await requeueUnfinishedJobs(db, second.bus, ['render'], quiet);
      await second.settled();
      expect(counts).toEqual({ ingest: 0, training: 0, inference: 0, render: 1 });
      expect(second.received.map((r) => r.name)).toEqual(['s2g.render.requested']);
    } finally {
      await second.bus.close({ timeoutMs: 0 });
    }
  });
});
