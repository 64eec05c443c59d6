/**
 * Training runs end to end over real NATS, Postgres and an S3 server: a worker in this process
 * handles the training commands; a synthetic speaker provides the data.
 */
import { randomUUID } from 'node:crypto';
import { ErrorCode, type TrainingConfigInput } from '@s2g/contracts';
import { type CommandConsumer, silentLogger, startCommandHandlers } from '@s2g/messaging';
import { loadGenerator, loadTrainer, readManifest } from '@s2g/model';
import { startTensorBackend } from '@s2g/prediction';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TrainingDeps, runTraining, trainingCommandHandlers } from '../src';
import { type SeededSpeaker, ingestSyntheticSpeaker } from './fixture';
import { type Harness, present, startHarness } from './harness';

let h: Harness;
let deps: TrainingDeps;
let consumers: CommandConsumer[] = [];
let speaker: SeededSpeaker;

beforeAll(async () => {
  h = await startHarness();
  deps = { db: h.db, store: h.store, bus: h.bus, logger: silentLogger, backend: await startTensorBackend('wasm') };
  speaker = await ingestSyntheticSpeaker(h.db, h.store, { name: 'synth', seed: 1, minutes: 4 });
  consumers = await startCommandHandlers(h.bus, 'trainer', trainingCommandHandlers(deps, { ackWaitMs: 30_000, backoffMs: [100] }));
});

afterAll(async () => {
  await Promise.all(consumers.map((c) => c.stop({ timeoutMs: 5000 })));
  await h?.close();
});

/** Creates the run record as the gateway does, then requests it. */
async function request(speakerId: string, config: TrainingConfigInput): Promise<string> {
  const runId = randomUUID();
  await h.db.trainingRuns.create({ id: runId, speakerId, preset: config.preset ?? 'paper', config: config as Record<string, unknown> });
  await h.bus.publishCommand('s2g.training.requested', { runId, speakerId, config });
  return runId;
}

describe('a training run', () => {
  it('trains a tiny model that beats the median pose on held-out data, reporting, validating and checkpointing as it goes', { timeout: 360_000 }, async () => {
    expect(speaker.windows.train).toBeGreaterThan(250);
    expect(speaker.shards.train.length).toBeGreaterThan(3);
    expect(speaker.windows.test).toBeGreaterThan(20);
    // The paper's losses and optimizer; a tiny network, small batches and a higher learning rate so that
    // 300 iterations (about a minute on one core) are enough to learn this speaker.
    const config = { preset: 'tiny', batchSize: 4, learningRate: 2e-3, iterations: 300, epochIterations: 50, checkpointEvery: 100, progressEvery: 10, validationSize: 64, seed: 1 } as const;
    const runId = await request(speaker.speakerId, config);
    const end = await h.events.end(runId, 330_000);
    expect(end.name).toBe('s2g.training.completed');

    const [started] = h.events.of('s2g.training.started', runId);
    expect(started).toMatchObject({ backend: 'wasm', totalSteps: 300, startStep: 0 });
    const progress = h.events.of('s2g.training.progress', runId);
    expect(progress.map((p) => p.step)).toEqual(Array.from({ length: 30 }, (_, i) => 10 * (i + 1)));
    expect(progress.at(-1)).toMatchObject({ epoch: 6, totalSteps: 300, etaSeconds: 0 });
    expect(progress.every((p) => p.samplesPerSec > 0 && Number.isFinite(p.lossG) && Number.isFinite(p.lossD))).toBe(true);

    const run = await h.db.trainingRuns.getById(runId);
    expect(run).toMatchObject({ status: 'completed', step: 300, epoch: 6, backend: 'wasm' });
    expect(run.device).toContain('wasm');
    const history = await h.db.trainingRuns.metricHistory(runId);
    expect(history.filter((m) => m.phase === 'train').map((m) => m.step)).toEqual(progress.map((p) => p.step));
    expect(history.filter((m) => m.phase === 'validation').map((m) => m.step)).toEqual([50, 100, 150, 200, 250, 300]);

    // Checkpoints: periodic every 100, the final one, and only the newest best; all loadable.
    const checkpoints = await h.db.checkpoints.listByRun(runId);
    const best = present(await h.db.checkpoints.best(runId), 'a best checkpoint');
    expect(checkpoints.filter((c) => c.kind === 'best')).toEqual([best]);
    expect(checkpoints.filter((c) => c.kind === 'periodic').map((c) => c.step)).toEqual([100, 200, 300]);
    expect(checkpoints.filter((c) => c.kind === 'final').map((c) => c.step)).toEqual([300]);
    for (const c of checkpoints) {
      expect(c.storagePrefix).toBe(`runs/${runId}/checkpoints/${String(c.step).padStart(12, '0')}/`);
      expect((await readManifest(h.store, c.storagePrefix)).step).toBe(c.step);
    }
    const { trainer, extra } = await loadTrainer(h.store, present(checkpoints.find((c) => c.kind === 'final'), 'a final checkpoint').storagePrefix);
    expect(trainer.step).toBe(300);
    expect(extra).toMatchObject({ format: 's2g-training-state', loader: { batches: 600 }, best: { step: best.step } });
    trainer.dispose();
    (await loadGenerator(h.store, best.storagePrefix)).generator.dispose();
    const checkpointEvents = h.events.of('s2g.training.checkpoint', runId);
    expect(checkpointEvents.filter((e) => e.kind === 'final').map((e) => e.checkpointId)).toEqual(checkpoints.filter((c) => c.kind === 'final').map((c) => c.id));

    // Evaluations: the model at every validation, the three baselines once, the test split at the end.
    const evaluations = await h.db.evaluations.listByRun(runId);
    const dev = evaluations.filter((e) => e.split === 'dev');
    expect(dev.filter((e) => e.method === 'model').map((e) => e.step).sort((a, b) => (a ?? 0) - (b ?? 0))).toEqual([50, 100, 150, 200, 250, 300]);
    expect(dev.filter((e) => e.method !== 'model').map((e) => e.method).sort()).toEqual(['median', 'nearest', 'random']);
    const devEvents = h.events.of('s2g.training.evaluated', runId).filter((e) => e.split === 'dev');
    expect(devEvents).toHaveLength(6);
    expect(Object.keys(devEvents[0].baselines ?? {}).sort()).toEqual(['median', 'nearest', 'random']);
    const test = Object.fromEntries(evaluations.filter((e) => e.split === 'test').map((e) => [e.method, e]));
    expect(Object.keys(test).sort()).toEqual(['median', 'model', 'nearest', 'random']);
    expect(test.model).toMatchObject({ checkpointId: best.id, step: best.step, sampleCount: speaker.windows.test });
    // The point of it all (ML-SPEC 7): the trained model beats the median pose on held-out windows.
    expect(test.model.l1).toBeLessThan(0.95 * test.median.l1);
    expect(test.model.pck02).toBeGreaterThan(test.median.pck02);
    // And the later literature's metrics, stored with every test row.
    for (const row of Object.values(test)) {
      expect(Object.keys(row.metrics).sort()).toEqual(['beatConsistency', 'beatHitRate', 'diversity', 'frechet', 'motionBeatsPerWindow', 'realDiversity']);
      for (const v of Object.values(row.metrics)) expect(Number.isFinite(v)).toBe(true);
    }
    // The median pose is held still: no motion beats, no diversity, far from the real statistics.
    expect(test.median.metrics).toMatchObject({ beatConsistency: 0, motionBeatsPerWindow: 0, diversity: 0 });
    expect(test.model.metrics.frechet).toBeLessThan(test.median.metrics.frechet);
    expect(test.model.metrics.diversity).toBeGreaterThan(0);
    expect(test.model.metrics.realDiversity).toBeCloseTo(test.median.metrics.realDiversity, 10);
    expect(dev.every((e) => Object.keys(e.metrics).length === 0)).toBe(true);
    const [testEvent] = h.events.of('s2g.training.evaluated', runId).filter((e) => e.split === 'test');
    expect(testEvent.metrics.l1).toBeCloseTo(test.model.l1, 10);
    expect(h.events.of('s2g.training.completed', runId)[0]).toMatchObject({ steps: 300, bestCheckpointId: best.id });
  });

  it('stops within one iteration of a cancel, keeps a checkpoint, and resumes from it on request', { timeout: 120_000 }, async () => {
    const config = { preset: 'tiny', batchSize: 2, iterations: 40, progressEvery: 1, checkpointEvery: 1000, validationSize: 8, epochIterations: 20, seed: 2 } as const;
    const runId = await request(speaker.speakerId, config);
    await h.events.waitFor((e) => e.name === 's2g.training.progress' && e.payload.runId === runId && e.payload.step >= 3, 60_000, 'step 3');
    await h.bus.publishCommand('s2g.training.cancel', { runId, reason: 'test' });
    const end = await h.events.end(runId, 30_000);
    expect(end.name).toBe('s2g.training.cancelled');
    const cancelled = h.events.of('s2g.training.cancelled', runId)[0];
    // The run row takes progress only while running: its step is the last one reported before the
    // cancel was recorded. At most the iteration already under way may follow.
    const lastBeforeCancel = (await h.db.trainingRuns.getById(runId)).step;
    expect(cancelled.step).toBeGreaterThanOrEqual(lastBeforeCancel);
    expect(cancelled.step).toBeLessThanOrEqual(lastBeforeCancel + 1);
    expect(cancelled.step).toBeLessThan(40);
    const saved = await h.db.checkpoints.latest(runId);
    expect(saved).toMatchObject({ id: cancelled.checkpointId, step: cancelled.step });
    await new Promise((r) => setTimeout(r, 1000));
    expect(Math.max(...h.events.of('s2g.training.progress', runId).map((p) => p.step))).toBe(cancelled.step);
    expect(await h.db.trainingRuns.getById(runId)).toMatchObject({ status: 'cancelled' });

    await h.bus.publishCommand('s2g.training.requested', { runId, speakerId: speaker.speakerId, config, resume: true });
    const resumedEnd = await h.events.waitFor((e) => e.name === 's2g.training.completed' && e.payload.runId === runId, 90_000, 'the resumed run to complete');
    expect(resumedEnd.name).toBe('s2g.training.completed');
    expect(h.events.of('s2g.training.started', runId).map((s) => s.startStep)).toEqual([0, cancelled.step]);
    expect(await h.db.trainingRuns.getById(runId)).toMatchObject({ status: 'completed', step: 40, attempts: 2 });
  });

  it('fails a run on a corrupt shard, a diverging loss or a bad config with a clear reason, and goes on to the next run', { timeout: 180_000 }, async () => {
    const tiny = { preset: 'tiny', batchSize: 2, iterations: 4, progressEvery: 2, validationSize: 8, seed: 3 } as const;

    const damaged = await ingestSyntheticSpeaker(h.db, h.store, { name: 'damaged', seed: 2, minutes: 1, shardBytes: 2 * 1024 * 1024 });
    const key = present(damaged.shards.train.at(-1), 'a training shard');
    const bytes = Buffer.from(await h.store.getBuffer(key));
    bytes[bytes.length - 1000] ^= 0x55;
    await h.store.put(key, bytes, bytes.length);
    const corruptRun = await request(damaged.speakerId, tiny);

    // Near-zero deviations scale the targets to ~1e37: finite, but any sum over them overflows float32.
    const diverging = await ingestSyntheticSpeaker(h.db, h.store, { name: 'diverging', seed: 3, minutes: 1 });
    const s = await h.db.speakers.getById(diverging.speakerId);
    await h.db.speakers.setNormalisation(s.id, {
      poseMean: present(s.poseMean, 'pose means'),
      poseStd: present(s.poseStd, 'pose deviations').map((v) => (v > 0 ? 1e-34 : 0)),
      scaleFactor: present(s.scaleFactor, 'a scale factor'),
      shoulderWidth: present(s.shoulderWidth, 'a shoulder width'),
    });
    const divergingRun = await request(diverging.speakerId, tiny);

    // A request the publisher's validation would have stopped, put on the bus anyway.
    const badRun = randomUUID();
    await h.db.trainingRuns.create({ id: badRun, speakerId: speaker.speakerId, preset: 'tiny', config: {} });
    await h.injectRaw('s2g.training.requested', JSON.stringify({ runId: badRun, speakerId: speaker.speakerId, config: { preset: 'tiny', batchSize: 0, learningRate: -1 } }));

    const goodRun = await request(speaker.speakerId, tiny);

    const failures = {
      [corruptRun]: { code: ErrorCode.SHARD_CORRUPT, message: new RegExp(`${key}: payload checksum mismatch`) },
      [divergingRun]: { code: ErrorCode.TRAINING_DIVERGED, message: /non-finite loss/ },
      [badRun]: { code: ErrorCode.TRAINING_CONFIG_INVALID, message: /batchSize: .*learningRate: / },
    };
    for (const [runId, expected] of Object.entries(failures)) {
      const end = await h.events.end(runId, 60_000);
      expect(end.name).toBe('s2g.training.failed');
      expect(h.events.of('s2g.training.failed', runId)[0].error).toMatchObject({ code: expected.code, message: expect.stringMatching(expected.message) });
      expect(await h.db.trainingRuns.getById(runId)).toMatchObject({ status: 'failed', errorCode: expected.code, errorMessage: expect.stringMatching(expected.message) });
    }
    expect((await h.events.end(goodRun, 120_000)).name).toBe('s2g.training.completed');
  });

  it('rejects a bad config before doing any work', async () => {
    const runId = randomUUID();
    await h.db.trainingRuns.create({ id: runId, speakerId: speaker.speakerId, preset: 'tiny', config: {} });
    const outcome = await runTraining(deps, { runId, speakerId: speaker.speakerId, config: { iterations: 10, epochs: 3, ganWeight: -1 } });
    expect(outcome).toMatchObject({ status: 'failed', step: null, error: { code: ErrorCode.TRAINING_CONFIG_INVALID } });
    expect(outcome.status === 'failed' && outcome.error.message).toMatch(/ganWeight/);
    const run = await h.db.trainingRuns.getById(runId);
    expect(run).toMatchObject({ status: 'failed', errorCode: ErrorCode.TRAINING_CONFIG_INVALID, attempts: 0, backend: null });
    expect(await h.db.checkpoints.listByRun(runId)).toEqual([]);
    await h.events.waitFor((e) => e.name === 's2g.training.failed' && e.payload.runId === runId, 10_000, 'the failed event');
  });
});
