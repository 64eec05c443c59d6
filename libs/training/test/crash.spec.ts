/**
 * Crash safety, with the trainer app itself (apps/trainer/src/main.ts run by tsx) as the worker
 * process: one killed with SIGKILL in the middle of a run, one stopped with SIGTERM. Each time the
 * command goes to a new worker, which continues from the latest checkpoint and must end exactly where
 * the same run ends without the interruption.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { silentLogger } from '@s2g/messaging';
import { readManifest } from '@s2g/model';
import { startTensorBackend } from '@s2g/prediction';
import { type TempDir, tempDir } from '@s2g/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TrainingDeps, runTraining } from '../src';
import { type SeededSpeaker, ingestSyntheticSpeaker } from './fixture';
import { type Harness, present, startHarness } from './harness';

const root = fileURLToPath(new URL('../../../', import.meta.url));
let h: Harness;
let deps: TrainingDeps;
let speaker: SeededSpeaker;
let dataDir: TempDir;
const workers: ChildProcess[] = [];

interface Worker {
  child: ChildProcess;
  ready: Promise<void>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  output: () => string;
}

/** The trainer app on the harness's database, bucket and bus, with a 2 s ack wait so a dead worker's run comes back fast. */
function startWorker(): Worker {
  const child = spawn(process.execPath, ['--import', 'tsx', 'apps/trainer/src/main.ts'], {
    cwd: root,
    env: {
      PATH: process.env.PATH,
      ...h.env,
      DATA_DIR: dataDir.path,
      HTTP_HOST: '127.0.0.1',
      HTTP_PORT: '0',
      LOG_LEVEL: 'info',
      TRAINER_ACK_WAIT_MS: '2000',
      // The entities' decorators need a tsconfig that covers every lib the app imports.
      TSX_TSCONFIG_PATH: 'libs/training/test/tsconfig.worker.json',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  workers.push(child);
  let output = '';
  child.stderr?.on('data', (c: Buffer) => (output += c.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  const ready = new Promise<void>((resolve, reject) => {
    child.stdout?.on('data', (c: Buffer) => {
      output += c.toString();
      if (output.includes('"msg":"trainer ready"')) resolve();
    });
    void exited.then(({ code, signal }) => reject(new Error(`trainer exited (${signal ?? code}) before it was ready: ${output}`)));
  });
  return { child, ready, exited, output: () => output };
}

beforeAll(async () => {
  h = await startHarness();
  dataDir = await tempDir('trainer-worker');
  deps = { db: h.db, store: h.store, bus: h.bus, logger: silentLogger, backend: await startTensorBackend('wasm') };
  speaker = await ingestSyntheticSpeaker(h.db, h.store, { name: 'crash', seed: 3, minutes: 3 });
  expect(speaker.windows.dev).toBeGreaterThan(0);
  expect(speaker.windows.test).toBeGreaterThan(0);
});

afterAll(async () => {
  for (const w of workers) if (w.exitCode === null && w.signalCode === null) w.kill('SIGKILL');
  await h?.close();
  await dataDir?.cleanup();
});

describe('an interrupted trainer', () => {
  const config = { preset: 'tiny', batchSize: 2, iterations: 16, epochIterations: 8, checkpointEvery: 4, progressEvery: 2, validationSize: 16, seed: 5 } as const;
  let runA = '';
  let survivor: Worker | undefined;

  async function create(): Promise<string> {
    const runId = randomUUID();
    await h.db.trainingRuns.create({ id: runId, speakerId: speaker.speakerId, preset: 'tiny', config });
    return runId;
  }

  /** Same weights, statistics, optimizer moments and sampler state, the same losses and scores at every step. */
  async function expectSameAsA(runId: string): Promise<void> {
    const finalA = await readManifest(h.store, present(await h.db.checkpoints.latest(runA, 'final'), 'the final checkpoint of A').storagePrefix);
    const final = await readManifest(h.store, present(await h.db.checkpoints.latest(runId, 'final'), 'the final checkpoint').storagePrefix);
    for (const group of ['generator', 'discriminator', 'optimizer'] as const) expect(final.files[group].sha256).toBe(finalA.files[group].sha256);
    expect(final.extra).toEqual(finalA.extra);
    const history = async (id: string) => (await h.db.trainingRuns.metricHistory(id)).map((m) => ({ step: m.step, phase: m.phase, values: m.values }));
    expect(await history(runId)).toEqual(await history(runA));
    expect((await history(runA)).filter((m) => m.phase === 'train')).toHaveLength(8);
    const scores = async (id: string) =>
      (await h.db.evaluations.listByRun(id))
        .map((e) => ({ split: e.split, method: e.method, step: e.step, l1: e.l1, pck01: e.pck01, pck02: e.pck02 }))
        .sort((a, b) => `${a.split}${a.method}${a.step}`.localeCompare(`${b.split}${b.method}${b.step}`));
    expect(await scores(runId)).toEqual(await scores(runA));
  }

  it('killed with SIGKILL: the run resumes on another worker from the latest checkpoint and ends bit for bit where an uninterrupted run ends', { timeout: 240_000 }, async () => {
    // A: the same run, uninterrupted, in this process.
    runA = await create();
    expect(await runTraining(deps, { runId: runA, speakerId: speaker.speakerId, config })).toEqual({ status: 'completed', steps: 16 });

    const first = startWorker();
    await first.ready;
    const runB = await create();
    await h.bus.publishCommand('s2g.training.requested', { runId: runB, speakerId: speaker.speakerId, config });
    await h.events.waitFor((e) => e.name === 's2g.training.checkpoint' && e.payload.runId === runB, 120_000, 'the first checkpoint of run B');
    first.child.kill('SIGKILL');
    expect(await first.exited).toEqual({ code: null, signal: 'SIGKILL' });
    const interrupted = await h.db.trainingRuns.getById(runB);
    expect(interrupted.status).toBe('running');
    expect(interrupted.step).toBeLessThan(16);

    survivor = startWorker();
    await survivor.ready;
    const end = await h.events.end(runB, 120_000);
    expect(end.name, survivor.output()).toBe('s2g.training.completed');
    const starts = h.events.of('s2g.training.started', runB).map((s) => s.startStep);
    expect(starts).toHaveLength(2);
    expect(starts[0]).toBe(0);
    // Periodic checkpoints are every 4 iterations: it continued from one, before the end.
    expect([4, 8, 12]).toContain(starts[1]);
    expect(await h.db.trainingRuns.getById(runB)).toMatchObject({ status: 'completed', step: 16, attempts: 2 });
    await expectSameAsA(runB);
  });

  it('stopped with SIGTERM: it checkpoints after its current iteration, exits 0, and the run continues from exactly there', { timeout: 240_000 }, async () => {
    const worker = present(survivor, 'the worker of the previous test');
    const runC = await create();
    await h.bus.publishCommand('s2g.training.requested', { runId: runC, speakerId: speaker.speakerId, config });
    const progress = await h.events.waitFor((e) => e.name === 's2g.training.progress' && e.payload.runId === runC && e.payload.step >= 5, 120_000, 'step 5 of run C');
    const stepAtStop = progress.name === 's2g.training.progress' ? progress.payload.step : 0;
    worker.child.kill('SIGTERM');
    expect(await worker.exited).toEqual({ code: 0, signal: null });
    expect(worker.output()).toContain('"msg":"command released at shutdown"');
    expect((await h.db.trainingRuns.getById(runC)).status).toBe('running');

    const next = startWorker();
    await next.ready;
    const end = await h.events.end(runC, 120_000);
    expect(end.name, next.output()).toBe('s2g.training.completed');
    const starts = h.events.of('s2g.training.started', runC).map((s) => s.startStep);
    // Not the periodic checkpoint before the stop (4): the one saved on the way out.
    expect(starts).toHaveLength(2);
    expect(starts[1]).toBeGreaterThanOrEqual(stepAtStop);
    expect(starts[1]).toBeLessThan(16);
    await expectSameAsA(runC);

    next.child.kill('SIGTERM');
    expect((await next.exited).code).toBe(0);
  });
});
