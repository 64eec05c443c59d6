import { z } from 'zod';
import {
  type CheckpointKind,
  type ErrorInfo,
  ErrorCode,
  type JobStatus,
  S2gError,
  type Split,
  type TensorBackend,
  type TrainingConfig,
  describeError,
  isS2gError,
  parseTrainingConfig,
} from '@s2g/contracts';
import type { Checkpoint, Database, TrainingRun } from '@s2g/db';
import type { BusLogger, EventBus } from '@s2g/messaging';
import { type Generator, type Trainer, createTrainer, loadGenerator, loadTrainer } from '@s2g/model';
import { isPermanent, speakerStats } from '@s2g/prediction';
import type { SpeakerStats } from '@s2g/pose';
import { type ObjectStore, StorageKeys } from '@s2g/storage';
import type { EvalSample, ShardRef } from './data';
import { BASELINES, type Baseline, BaselineModels, type Scores, ScoreSum, baselineSums, scoreGenerator } from './evaluate';
import { forEachShard, loadValidationSet } from './eval-set';
import { TrainingSampler, loaderStateSchema } from './sampler';

/**
 * One training run (ML-SPEC 6): each iteration a discriminator step on one random batch, then a
 * generator step on another; progress every `progressEvery` iterations; validation on the dev set
 * every `validateEvery` (default: every epoch) with the three baselines scored once per run beside
 * it; a `best` checkpoint whenever the validation L1 improves, a `periodic` one every
 * `checkpointEvery`, a `final` one at the end; then the model users get (the best checkpoint, else
 * the final one) and the baselines are scored on the test split.
 *
 * Crash safety: a checkpoint holds everything the next iteration depends on (weights, BatchNorm
 * statistics, both optimizers, the step, the sampler's state and the best validation loss so far),
 * so a run continued from one ends bit for bit where an uninterrupted run ends. A redelivered
 * command continues from the run's latest checkpoint; every record it writes again is written
 * idempotently (metric points, checkpoint rows, evaluations, events by message id).
 *
 * Cancel: the run's status in Postgres is the signal. Whichever replica handles
 * `s2g.training.cancel` marks the run cancelled; the replica running the loop reads the status before
 * every iteration, so it stops within one iteration, saves a checkpoint (a cancelled run can be
 * resumed) and publishes `s2g.training.cancelled`.
 */

export interface TrainingDeps {
  db: Database;
  store: ObjectStore;
  bus: EventBus;
  logger: BusLogger;
  /** The tensor backend this process trains on, as the API names it, and its device. */
  backend: { backend: TensorBackend; device: string };
}

export interface TrainingOptions {
  /** Budget of the training-window cache (see TrainingSampler); default 2 GiB. */
  cacheBytes?: number;
  /** Windows per forward pass when scoring; default 16. */
  evalBatchSize?: number;
  /** Aborted at shutdown: the run saves a checkpoint after the current iteration and throws. */
  signal?: AbortSignal;
}

export interface TrainingRequest {
  runId: string;
  speakerId: string;
  /** Validated here (TRAINING_CONFIG_INVALID) before anything else happens. */
  config: unknown;
  /** Continue a failed or cancelled run from its latest checkpoint. */
  resume?: boolean;
}

export type TrainingOutcome =
  | { status: 'completed'; steps: number }
  | { status: 'cancelled'; step: number }
  | { status: 'failed'; step: number | null; error: ErrorInfo }
  | { status: 'skipped'; reason: string };

export const DEFAULT_EVAL_BATCH = 16;

const lossSums = z.object({ steps: z.number().int().min(0), lossD: z.number(), lossG: z.number(), l1: z.number(), gan: z.number() });

/**
 * What a checkpoint carries besides the model: where the sampler is, the best validation so far, and
 * the loss sums of the iterations since the last progress report (so the next report averages the
 * same iterations whether or not the run was interrupted in between).
 */
export const trainingStateSchema = z.object({
  format: z.literal('s2g-training-state'),
  version: z.literal(1),
  loader: loaderStateSchema,
  best: z.object({ step: z.number().int().min(0), valLoss: z.number() }).nullable(),
  pending: lossSums,
});
export type TrainingState = z.infer<typeof trainingStateSchema>;

/** Failures another delivery cannot fix: the run fails at once. Anything else is retried. */
export function isPermanentTrainingError(e: unknown): boolean {
  return isPermanent(e) || (isS2gError(e) && (e.code === ErrorCode.TRAINING_DIVERGED || e.code === ErrorCode.DATASET_INVALID));
}

/** Runs (or continues) one training run to its end; see the module comment. */
export async function runTraining(deps: TrainingDeps, request: TrainingRequest, options: TrainingOptions = {}): Promise<TrainingOutcome> {
  return new TrainingSession(deps, request, options).run();
}

const yieldToLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

function toShardRefs(rows: readonly { key: string; split: Split; sampleCount: number }[]): ShardRef[] {
  return rows.map((r) => ({ key: r.key, split: r.split, sampleCount: r.sampleCount }));
}

function metricValues(scores: Scores): Record<string, number> {
  return { l1: scores.l1, pck01: scores.pck01, pck02: scores.pck02 };
}

type LossSums = z.infer<typeof lossSums>;
const NO_LOSSES: LossSums = { steps: 0, lossD: 0, lossG: 0, l1: 0, gan: 0 };

class TrainingSession {
  private readonly runId: string;
  private readonly log: BusLogger;
  private config!: TrainingConfig;
  private record!: TrainingRun;
  private stats!: SpeakerStats;
  private trainer: Trainer | null = null;
  private sampler: TrainingSampler | null = null;
  private best: TrainingState['best'] = null;
  /** Losses of the iterations since the last progress report. */
  private pending: LossSums = NO_LOSSES;
  /** Checkpoint files this session wrote, by step (kinds of one step share the files). */
  private readonly written = new Map<number, number>();
  /** Evaluations already recorded: `split/method/step`. */
  private readonly evaluated = new Set<string>();

  constructor(
    private readonly deps: TrainingDeps,
    private readonly request: TrainingRequest,
    private readonly options: TrainingOptions,
  ) {
    this.runId = request.runId;
    const { logger } = deps;
    const fields = { runId: request.runId };
    this.log = {
      debug: (o, m) => logger.debug({ ...fields, ...o }, m),
      info: (o, m) => logger.info({ ...fields, ...o }, m),
      warn: (o, m) => logger.warn({ ...fields, ...o }, m),
      error: (o, m) => logger.error({ ...fields, ...o }, m),
    };
  }

  private get step(): number {
    return this.trainer?.step ?? 0;
  }

  private epochOf(step: number): number {
    return Math.floor(step / this.config.epochIterations);
  }

  async run(): Promise<TrainingOutcome> {
    try {
      this.config = parseTrainingConfig(this.request.config);
      const run = await this.findOrCreateRun();
      const blocked = await this.claim(run);
      if (blocked) return blocked;
      return await this.train();
    } catch (e) {
      if (isPermanentTrainingError(e)) return this.fail(e);
      throw e;
    } finally {
      this.trainer?.dispose();
      this.sampler?.close();
    }
  }

  /** The run's record; created here when the requester did not (the command is then the request). */
  private async findOrCreateRun(): Promise<TrainingRun> {
    const { db } = this.deps;
    const existing = await db.trainingRuns.findById(this.runId);
    if (existing) return existing;
    try {
      return await db.trainingRuns.create({ id: this.runId, speakerId: this.request.speakerId, preset: this.config.preset, config: this.config });
    } catch (e) {
      if (isS2gError(e) && e.code === ErrorCode.CONFLICT) return db.trainingRuns.getById(this.runId);
      throw e;
    }
  }

  /** Moves the run to `running`, or says why this delivery has nothing to do. */
  private async claim(run: TrainingRun): Promise<TrainingOutcome | null> {
    const { db } = this.deps;
    this.record = run;
    if (run.status === 'completed') return { status: 'skipped', reason: 'the run already completed' };
    if (run.status === 'failed' || run.status === 'cancelled') {
      if (!this.request.resume) {
        // A cancel may have found the loop's replica dead: the cancelled event is still owed.
        if (run.status === 'cancelled') await this.publishCancelled(run.step, undefined);
        return { status: 'skipped', reason: `the run is ${run.status}` };
      }
      await db.trainingRuns.requeue(run.id);
    }
    if (!(await db.trainingRuns.markRunning(run.id))) return { status: 'skipped', reason: 'the run was finished or cancelled meanwhile' };
    this.record = await db.trainingRuns.getById(run.id);
    return null;
  }

  private async train(): Promise<TrainingOutcome> {
    const { db, bus, backend } = this.deps;
    const config = this.config;
    await db.trainingRuns.setBackend(this.runId, backend.backend, backend.device);
    const speaker = await db.speakers.getById(this.record.speakerId);
    this.stats = speakerStats(speaker);
    const [trainShards, devShards, testShards] = await Promise.all(
      (['train', 'dev', 'test'] as const).map(async (split) => toShardRefs(await db.shards.listBySpeaker(speaker.id, split))),
    );

    const restored = await this.restore();
    this.trainer = restored.trainer;
    this.best = restored.state?.best ?? null;
    this.pending = restored.state?.pending ?? NO_LOSSES;
    if (this.step > config.iterations) {
      throw new S2gError(ErrorCode.TRAINING_CONFIG_INVALID, `the run is at iteration ${this.step}, past the ${config.iterations} its config asks for`);
    }
    await bus.publishEvent('s2g.training.started', {
      runId: this.runId,
      speakerId: this.record.speakerId,
      backend: backend.backend,
      device: backend.device,
      totalSteps: config.iterations,
      startStep: this.step,
    });

    const started = performance.now();
    this.sampler = await TrainingSampler.open({
      store: this.deps.store,
      shards: trainShards,
      stats: this.stats,
      batchSize: config.batchSize,
      seed: config.seed,
      ...(this.options.cacheBytes ? { cacheBytes: this.options.cacheBytes } : {}),
      ...(restored.state ? { state: restored.state.loader } : {}),
      onShardLoaded: (info) => this.log.debug(info, 'training shard loaded'),
    });
    const baselines = new BaselineModels(this.sampler.residentWindows());
    const devSet = await loadValidationSet(this.deps.store, devShards, this.stats, { limit: config.validationSize, seed: config.seed, split: 'dev' });
    this.log.info(
      { ...this.sampler.plan, dev: devSet.length, startStep: this.step, totalSteps: config.iterations, loadMs: Math.round(performance.now() - started) },
      'training data ready',
    );
    if (config.validationSize > 0 && devSet.length === 0) this.log.warn({}, 'the speaker has no dev windows: no validation, no best checkpoint');
    for (const e of await db.evaluations.listByRun(this.runId)) this.evaluated.add(`${e.split}/${e.method}/${e.step ?? '-'}`);
    const devBaselines = devSet.length > 0 ? await this.baselineScores('dev', devSet, baselines) : undefined;

    const stopped = await this.loop(devSet, devBaselines);
    if (stopped) return stopped;
    return this.finish(testShards, baselines);
  }

  /** The latest readable checkpoint of the run (older ones if it is damaged), or fresh weights. */
  private async restore(): Promise<{ trainer: Trainer; state: TrainingState | null }> {
    const { db, store } = this.deps;
    const config = this.config;
    const rows = (await db.checkpoints.listByRun(this.runId)).sort((a, b) => b.step - a.step);
    const tried = new Set<string>();
    for (const row of rows) {
      if (tried.has(row.storagePrefix)) continue;
      tried.add(row.storagePrefix);
      let loaded: Awaited<ReturnType<typeof loadTrainer>> | null = null;
      try {
        loaded = await loadTrainer(store, row.storagePrefix, { learningRate: config.learningRate, ganWeight: config.ganWeight });
        if (loaded.trainer.preset !== config.preset) {
          throw new S2gError(ErrorCode.TRAINING_CONFIG_INVALID, `the run's checkpoints are of preset '${loaded.trainer.preset}', its config asks for '${config.preset}'`);
        }
        const state = trainingStateSchema.safeParse(loaded.extra);
        if (!state.success) throw new S2gError(ErrorCode.CHECKPOINT_CORRUPT, `checkpoint at ${row.storagePrefix} has no readable training state`);
        this.log.info({ step: row.step, prefix: row.storagePrefix }, 'continuing from checkpoint');
        return { trainer: loaded.trainer, state: state.data };
      } catch (e) {
        loaded?.trainer.dispose();
        if (!isS2gError(e) || (e.code !== ErrorCode.CHECKPOINT_CORRUPT && e.code !== ErrorCode.CHECKPOINT_MISSING)) throw e;
        // A fresh start with the same seed reproduces the lost steps exactly; an older checkpoint is just quicker.
        this.log.warn({ step: row.step, prefix: row.storagePrefix, reason: e.message }, 'checkpoint unreadable; trying an older one');
      }
    }
    return { trainer: createTrainer({ preset: config.preset, learningRate: config.learningRate, ganWeight: config.ganWeight, seed: config.seed }), state: null };
  }

  /** The iterations. Returns an outcome when the run stopped early, null when it reached its end. */
  private async loop(devSet: EvalSample[], devBaselines: Record<Baseline, Scores> | undefined): Promise<TrainingOutcome | null> {
    const trainer = this.trainer as Trainer;
    const sampler = this.sampler as TrainingSampler;
    const config = this.config;
    const total = config.iterations;
    const firstStep = trainer.step;
    const loopStarted = performance.now();
    let reportedAt = loopStarted;
    let ranSinceReport = 0;
    for (let step = trainer.step + 1; step <= total; step++) {
      if (this.options.signal?.aborted) {
        if (trainer.step > 0) await this.checkpoint('periodic', trainer.step);
        throw new S2gError(ErrorCode.UNAVAILABLE, `trainer shutting down at step ${trainer.step}; the run continues from there on the next delivery`);
      }
      const status = await this.status();
      if (status !== 'running') return this.stop(status);

      const batchD = await sampler.next();
      const batchG = await sampler.next();
      const losses = await trainer.trainStep(batchD, batchG);
      const p = this.pending;
      this.pending = { steps: p.steps + 1, lossD: p.lossD + losses.lossD, lossG: p.lossG + losses.lossG, l1: p.l1 + losses.l1, gan: p.gan + losses.gan };
      ranSinceReport++;

      if (step % config.progressEvery === 0 || step === total) {
        const now = performance.now();
        // Speed from the iterations this process ran (after a resume, the sums may include earlier ones).
        const samplesPerSec = (2 * ranSinceReport * config.batchSize) / Math.max(1e-3, (now - reportedAt) / 1000);
        await this.report(step, samplesPerSec, (now - loopStarted) / (step - firstStep));
        this.pending = NO_LOSSES;
        reportedAt = now;
        ranSinceReport = 0;
      }
      if (devSet.length > 0 && (step % config.validateEvery === 0 || step === total)) await this.validate(step, devSet, devBaselines);
      if (step % config.checkpointEvery === 0) await this.checkpoint('periodic', step);
      // Steps block the thread: let bus heartbeats and I/O through between them.
      await yieldToLoop();
    }
    return null;
  }

  private async status(): Promise<JobStatus | 'deleted'> {
    const run = await this.deps.db.trainingRuns.findById(this.runId);
    return run?.status ?? 'deleted';
  }

  /** The run left `running` under the loop: cancelled, or finished by someone else. */
  private async stop(status: JobStatus | 'deleted'): Promise<TrainingOutcome> {
    if (status !== 'cancelled') {
      this.log.warn({ status }, 'the run is no longer running here; stopping');
      return { status: 'skipped', reason: `the run became ${status}` };
    }
    const step = this.step;
    const checkpoint = step > 0 ? await this.checkpoint('periodic', step) : null;
    await this.publishCancelled(step, checkpoint?.id);
    this.log.info({ step }, 'training cancelled');
    return { status: 'cancelled', step };
  }

  private async publishCancelled(step: number, checkpointId: string | undefined): Promise<void> {
    await this.deps.bus.publishEvent('s2g.training.cancelled', { runId: this.runId, speakerId: this.record.speakerId, step, ...(checkpointId ? { checkpointId } : {}) });
  }

  /**
   * Progress: the mean losses since the last report, windows drawn per second (two batches an
   * iteration, one per network), ETA; as an event, on the run, and in the metric history.
   */
  private async report(step: number, samplesPerSec: number, msPerStep: number): Promise<void> {
    const { db, bus } = this.deps;
    const { steps: n, lossD, lossG, l1, gan } = this.pending;
    const losses = { lossG: lossG / n, lossD: lossD / n, l1: l1 / n, gan: gan / n };
    const etaSeconds = ((this.config.iterations - step) * msPerStep) / 1000;
    const epoch = this.epochOf(step);
    await bus.publishEvent('s2g.training.progress', {
      runId: this.runId,
      step,
      epoch,
      totalSteps: this.config.iterations,
      lossG: losses.lossG,
      lossD: losses.lossD,
      l1: losses.l1,
      samplesPerSec,
      etaSeconds,
    });
    await db.trainingRuns.markProgress(this.runId, { step, epoch, progress: { ...losses, samplesPerSec, etaSeconds, totalSteps: this.config.iterations } });
    await db.trainingRuns.appendMetric(this.runId, { step, epoch, phase: 'train', values: losses, elapsedMs: this.elapsedMs() });
    this.log.debug({ step, ...losses, samplesPerSec }, 'training progress');
  }

  private elapsedMs(): number | null {
    return this.record.startedAt ? Date.now() - this.record.startedAt.getTime() : null;
  }

  private async validate(step: number, devSet: EvalSample[], baselines: Record<Baseline, Scores> | undefined): Promise<void> {
    const { db, bus } = this.deps;
    const sum = new ScoreSum(this.stats);
    await scoreGenerator((this.trainer as Trainer).generator, devSet, sum, this.options.evalBatchSize ?? DEFAULT_EVAL_BATCH);
    const scores = sum.result();
    await db.trainingRuns.appendMetric(this.runId, { step, epoch: this.epochOf(step), phase: 'validation', values: metricValues(scores), elapsedMs: this.elapsedMs() });
    let checkpoint: Checkpoint | null = null;
    if (!this.best || scores.l1 < this.best.valLoss) {
      const previous = this.best;
      // Set before saving: the best checkpoint's own state must know it is the best.
      this.best = { step, valLoss: scores.l1 };
      checkpoint = await this.checkpoint('best', step, scores.l1);
      if (previous) await this.pruneBest(checkpoint);
    }
    await this.recordEvaluation('dev', 'model', step, scores, devSet.length, checkpoint?.id ?? null);
    await bus.publishEvent('s2g.training.evaluated', {
      runId: this.runId,
      ...(checkpoint ? { checkpointId: checkpoint.id } : {}),
      step,
      split: 'dev',
      samples: devSet.length,
      metrics: metricValues(scores),
      ...(baselines ? { baselines: Object.fromEntries(BASELINES.map((b) => [b, metricValues(baselines[b])])) } : {}),
    });
    this.log.info({ step, ...scores, best: this.best }, 'validated');
  }

  /** The baselines' scores on a split: computed and stored once per run, read back on later deliveries. */
  private async baselineScores(split: Split, windows: EvalSample[], models: BaselineModels): Promise<Record<Baseline, Scores>> {
    const stored = (await this.deps.db.evaluations.listByRun(this.runId, { split })).filter((e) => e.method !== 'model');
    if (BASELINES.every((b) => stored.some((e) => e.method === b))) {
      return Object.fromEntries(BASELINES.map((b) => [b, stored.find((e) => e.method === b) as Scores])) as Record<Baseline, Scores>;
    }
    const sums = baselineSums(this.stats);
    await models.score(windows, sums, BaselineModels.rng(this.config.seed, split));
    const scores = Object.fromEntries(BASELINES.map((b) => [b, sums[b].result()])) as Record<Baseline, Scores>;
    for (const b of BASELINES) await this.recordEvaluation(split, b, null, scores[b], windows.length, null);
    return scores;
  }

  private async recordEvaluation(split: Split, method: 'model' | Baseline, step: number | null, scores: Scores, samples: number, checkpointId: string | null): Promise<void> {
    const key = `${split}/${method}/${step ?? '-'}`;
    if (this.evaluated.has(key)) return;
    await this.deps.db.evaluations.create({ runId: this.runId, split, method, step, checkpointId, sampleCount: samples, ...scores });
    this.evaluated.add(key);
  }

  /**
   * Saves the model and the training state under `runs/<runId>/checkpoints/<step>/` (once per step:
   * the kinds of one step share the files) and records the checkpoint row.
   */
  private async checkpoint(kind: CheckpointKind, step: number, valLoss?: number): Promise<Checkpoint> {
    const { db, store, bus } = this.deps;
    const trainer = this.trainer as Trainer;
    if (trainer.step !== step) throw new Error(`checkpoint of step ${step} requested at step ${trainer.step}`);
    const prefix = StorageKeys.checkpointPrefix(this.runId, step);
    let bytes = this.written.get(step);
    if (bytes === undefined) {
      const state: TrainingState = { format: 's2g-training-state', version: 1, loader: (this.sampler as TrainingSampler).state, best: this.best, pending: this.pending };
      const manifest = await trainer.save(store, prefix, state);
      bytes = Object.values(manifest.files).reduce((n, f) => n + f.bytes, 0);
      this.written.set(step, bytes);
    }
    const row = await db.checkpoints.upsert({
      runId: this.runId,
      step,
      epoch: this.epochOf(step),
      kind,
      storagePrefix: prefix,
      validationLoss: valLoss ?? null,
      byteSize: bytes,
    });
    await bus.publishEvent('s2g.training.checkpoint', { runId: this.runId, checkpointId: row.id, step, kind, prefix, ...(valLoss !== undefined ? { valLoss } : {}) });
    this.log.info({ step, kind, prefix, valLoss }, 'checkpoint saved');
    return row;
  }

  /** Only the newest best checkpoint is kept; its files go unless another row of the run uses them. */
  private async pruneBest(keep: Checkpoint): Promise<void> {
    const { db, store } = this.deps;
    const rows = await db.checkpoints.listByRun(this.runId);
    for (const old of rows.filter((r) => r.kind === 'best' && r.id !== keep.id)) {
      await db.checkpoints.delete(old.id);
      const shared = rows.some((r) => r.id !== old.id && r.storagePrefix === old.storagePrefix);
      if (!shared) await store.deletePrefix(old.storagePrefix);
    }
  }

  /** The final checkpoint, the test-split evaluation, and the completed record and event. */
  private async finish(testShards: ShardRef[], baselines: BaselineModels): Promise<TrainingOutcome> {
    const { db, bus, store } = this.deps;
    const config = this.config;
    const final = await this.checkpoint('final', config.iterations);
    const best = await db.checkpoints.best(this.runId);
    const scored = best ?? final;
    const testWindows = testShards.reduce((n, s) => n + s.sampleCount, 0);
    if (testWindows === 0) this.log.warn({}, 'the speaker has no test windows: no test evaluation');
    else if (!this.evaluated.has(`test/model/${scored.step}`)) {
      let generator: Generator = (this.trainer as Trainer).generator;
      let loaded: Generator | null = null;
      if (scored.step !== this.step) {
        loaded = (await loadGenerator(store, scored.storagePrefix)).generator;
        generator = loaded;
      }
      try {
        const model = new ScoreSum(this.stats, { extended: true });
        const sums = baselineSums(this.stats, { extended: true });
        const rng = BaselineModels.rng(config.seed, 'test');
        const count = await forEachShard(store, testShards, this.stats, async (windows) => {
          await scoreGenerator(generator, windows, model, this.options.evalBatchSize ?? DEFAULT_EVAL_BATCH);
          await baselines.score(windows, sums, rng);
        });
        const scores = model.result();
        const baselineScores = Object.fromEntries(BASELINES.map((b) => [b, sums[b].result()])) as Record<Baseline, Scores>;
        for (const b of BASELINES) await this.recordEvaluation('test', b, null, baselineScores[b], count, null);
        await this.recordEvaluation('test', 'model', scored.step, scores, count, scored.id);
        await bus.publishEvent('s2g.training.evaluated', {
          runId: this.runId,
          checkpointId: scored.id,
          step: scored.step,
          split: 'test',
          samples: count,
          metrics: metricValues(scores),
          baselines: Object.fromEntries(BASELINES.map((b) => [b, metricValues(baselineScores[b])])),
        });
        this.log.info({ step: scored.step, kind: scored.kind, ...scores, baselines: baselineScores }, 'test split scored');
      } finally {
        loaded?.dispose();
      }
    }
    await db.trainingRuns.markCompleted(this.runId, { step: config.iterations, epoch: this.epochOf(config.iterations) });
    const startedAt = this.record.startedAt?.getTime() ?? Date.now();
    await bus.publishEvent('s2g.training.completed', {
      runId: this.runId,
      speakerId: this.record.speakerId,
      steps: config.iterations,
      ...(best ? { bestCheckpointId: best.id } : {}),
      finalCheckpointId: final.id,
      durationMs: Math.max(0, Date.now() - startedAt),
    });
    this.log.info({ steps: config.iterations, best: best?.step ?? null }, 'training completed');
    return { status: 'completed', steps: config.iterations };
  }

  /** Records a permanent failure (once) and announces it. */
  private async fail(e: unknown): Promise<TrainingOutcome> {
    const error = describeError(e);
    const step = this.trainer ? this.step : null;
    const { db, bus } = this.deps;
    const exists = (await db.trainingRuns.findById(this.runId)) !== null;
    const marked = exists && (await db.trainingRuns.markFailed(this.runId, error));
    if (marked || !exists) {
      await bus.publishEvent('s2g.training.failed', { runId: this.runId, speakerId: this.request.speakerId, ...(step !== null ? { step } : {}), error });
    }
    this.log.error({ error, step }, 'training failed');
    return { status: 'failed', step, error };
  }
}
