import * as tf from '@tensorflow/tfjs';
import type { ModelPreset } from '@s2g/contracts';
import { ErrorCode, S2gError } from '@s2g/contracts';
import { NUM_MEL_BANDS, WINDOW_FRAMES } from '@s2g/audio';
import { FRAME_VALUES } from '@s2g/pose';
import type { ObjectStore } from '@s2g/storage';
import { Adam, DEFAULT_ADAM } from './adam';
import type { CheckpointManifest, NamedVariable, TrainerSettings } from './checkpoint';
import { assignTensors, readManifest, readTensors, trainerSettingsSchema, writeCheckpoint } from './checkpoint';
import { Discriminator } from './discriminator';
import { FRAME_MULTIPLE, Generator } from './generator';
import { l1, lsgan, motion, trainedValues } from './losses';
import type { Network } from './network';
import { INFERENCE } from './network';

/**
 * One batch of training windows. `audio` is log-mel, time-major: (B, T_spec, 64) values (418 frames
 * for a training window), as a Float32Array or a tensor of shape (B, T_spec, 64) or (B, T_spec, 64, 1)
 * (tensors stay the caller's). `pose` is normalised pose, (B, T, 98), T a multiple of 32 (64 in
 * training).
 */
export interface TrainingBatch {
  audio: Float32Array | tf.Tensor;
  pose: Float32Array;
  /** Pose frames per window; default WINDOW_FRAMES (64). */
  frames?: number;
}

export interface StepLosses {
  /** MSE(D(real), 1) + MSE(D(fake), 0) of the discriminator step. */
  lossD: number;
  /** l1 + ganWeight * gan of the generator step. */
  lossG: number;
  /** Mean absolute error on the 96 trained values of the generator step's batch. */
  l1: number;
  /** MSE(D(fake), 1) of the generator step. */
  gan: number;
}

export interface Evaluation {
  /** Mean absolute error on the 96 trained values, generator in inference mode. */
  l1: number;
  /** Predicted normalised pose, (B, T, 98). */
  predictions: Float32Array;
  batchSize: number;
  frames: number;
}

export interface TrainerOptions {
  preset: ModelPreset;
  /** Adam learning rate for both networks; default 1e-4. */
  learningRate?: number;
  /** Weight of the generator's GAN term; default 1.0. */
  ganWeight?: number;
  /** Seed of the weight initialisation; default 0. */
  seed?: number;
  beta1?: number;
  beta2?: number;
  epsilon?: number;
}

interface BatchTensors {
  audio: tf.Tensor4D;
  pose: tf.Tensor3D;
  frames: number;
}

function invalidBatch(message: string, details?: Record<string, unknown>): S2gError {
  return new S2gError(ErrorCode.TRAINING_CONFIG_INVALID, `invalid training batch: ${message}`, details);
}

/** Call inside tf.tidy: converts a batch to (B, T_spec, 64, 1) and (B, T, 98) tensors. */
function batchTensors(batch: TrainingBatch): BatchTensors {
  const frames = batch.frames ?? WINDOW_FRAMES;
  if (!Number.isInteger(frames) || frames <= 0 || frames % FRAME_MULTIPLE !== 0) {
    throw invalidBatch(`pose frames per window must be a positive multiple of ${FRAME_MULTIPLE}, got ${frames}`);
  }
  const b = batch.pose.length / (frames * FRAME_VALUES);
  if (!Number.isInteger(b) || b === 0) throw invalidBatch(`pose holds ${batch.pose.length} values, not a whole number of (${frames}, ${FRAME_VALUES}) windows`);
  let audio: tf.Tensor4D;
  if (batch.audio instanceof tf.Tensor) {
    const s = batch.audio.shape;
    if (s[0] !== b || !((s.length === 3 && s[2] === NUM_MEL_BANDS) || (s.length === 4 && s[2] === NUM_MEL_BANDS && s[3] === 1))) {
      throw invalidBatch(`audio tensor must be (${b}, T_spec, ${NUM_MEL_BANDS}[, 1]), got (${s.join(', ')})`);
    }
    audio = tf.reshape(batch.audio, [b, s[1], NUM_MEL_BANDS, 1]);
  } else {
    const specFrames = batch.audio.length / (b * NUM_MEL_BANDS);
    if (!Number.isInteger(specFrames) || specFrames === 0) {
      throw invalidBatch(`audio holds ${batch.audio.length} values, not a whole number of (T_spec, ${NUM_MEL_BANDS}) spectrograms for ${b} windows`);
    }
    audio = tf.tensor4d(batch.audio, [b, specFrames, NUM_MEL_BANDS, 1]);
  }
  return { audio, pose: tf.tensor3d(batch.pose, [b, frames, FRAME_VALUES]), frames };
}

function resolveSettings(options: TrainerOptions): TrainerSettings {
  const parsed = trainerSettingsSchema.safeParse({
    preset: options.preset,
    learningRate: options.learningRate ?? DEFAULT_ADAM.learningRate,
    beta1: options.beta1 ?? DEFAULT_ADAM.beta1,
    beta2: options.beta2 ?? DEFAULT_ADAM.beta2,
    epsilon: options.epsilon ?? DEFAULT_ADAM.epsilon,
    ganWeight: options.ganWeight ?? 1,
    seed: options.seed ?? 0,
  });
  if (!parsed.success) {
    throw new S2gError(ErrorCode.TRAINING_CONFIG_INVALID, `invalid trainer options: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  }
  return parsed.data;
}

function networkVariables(network: Network, group: 'generator' | 'discriminator'): NamedVariable[] {
  return network.params.map((p) => ({ name: `${group}/${p.name}`, group, variable: p.variable }));
}

function optimizerVariables(network: Network, adam: Adam, group: 'generator' | 'discriminator'): NamedVariable[] {
  const names = network.params.filter((p) => p.trainable).map((p) => p.name);
  return names.flatMap((name, i) => [
    { name: `${group}/m/${name}`, group: 'optimizer' as const, variable: adam.firstMoments[i] },
    { name: `${group}/v/${name}`, group: 'optimizer' as const, variable: adam.secondMoments[i] },
  ]);
}

/**
 * The speech2gesture GAN training loop body (ML-SPEC section 6): per iteration one discriminator step
 * on one batch, then one generator step on another.
 *
 * BatchNorm moving statistics of a network are updated only in its own step (the generator's in the
 * generator step, the discriminator's in the discriminator step, once for the real and once for the
 * fake batch); every forward pass during training normalises with batch statistics.
 */
export class Trainer {
  readonly settings: TrainerSettings;
  readonly generator: Generator;
  readonly discriminator: Discriminator;
  private readonly adamG: Adam;
  private readonly adamD: Adam;
  /** Completed iterations (discriminator + generator step pairs). */
  step = 0;
  private disposed = false;

  constructor(options: TrainerOptions) {
    this.settings = resolveSettings(options);
    const { preset, seed, learningRate, beta1, beta2, epsilon } = this.settings;
    this.generator = new Generator(preset, seed);
    this.discriminator = new Discriminator(preset, seed);
    const adam = { learningRate, beta1, beta2, epsilon };
    this.adamG = new Adam(this.generator.network.trainableVariables, adam);
    this.adamD = new Adam(this.discriminator.network.trainableVariables, adam);
  }

  get preset(): ModelPreset {
    return this.settings.preset;
  }

  private checkAlive(): void {
    if (this.disposed) throw new Error('trainer was disposed');
  }

  /** Changes both optimizers' learning rate from the next step on (a schedule's job, not the trainer's). */
  setLearningRate(learningRate: number): void {
    if (!(learningRate > 0) || !Number.isFinite(learningRate)) {
      throw new S2gError(ErrorCode.TRAINING_CONFIG_INVALID, `learning rate must be a positive number, got ${learningRate}`);
    }
    this.settings.learningRate = learningRate;
    this.adamG.setLearningRate(learningRate);
    this.adamD.setLearningRate(learningRate);
  }

  /** One iteration: a discriminator step on `batchD`, then a generator step on `batchG`. */
  async trainStep(batchD: TrainingBatch, batchG: TrainingBatch): Promise<StepLosses> {
    this.checkAlive();
    const lossD = this.discriminatorStep(batchD);
    const [lossG, l1v, gan] = this.generatorStep(batchG);
    const values = await Promise.all([lossD.data(), lossG.data(), l1v.data(), gan.data()]);
    tf.dispose([lossD, lossG, l1v, gan]);
    this.step += 1;
    const [dv, gv, lv, av] = values.map((v) => v[0]);
    if (![dv, gv, lv, av].every(Number.isFinite)) {
      throw new S2gError(ErrorCode.TRAINING_DIVERGED, `training diverged at step ${this.step}: non-finite loss`, { step: this.step, lossD: dv, lossG: gv, l1: lv, gan: av });
    }
    return { lossD: dv, lossG: gv, l1: lv, gan: av };
  }

  private discriminatorStep(batch: TrainingBatch): tf.Scalar {
    const d = this.discriminator;
    const vars = d.network.trainableVariables;
    return tf.tidy(() => {
      const { audio, pose, frames } = batchTensors(batch);
      // The generator's output is only an input here: no tape, no statistics update.
      const fake = this.generator.apply(audio, frames, { training: true, updateStats: false, noGradient: true });
      const realMotion = motion(trainedValues(pose));
      const fakeMotion = motion(trainedValues(fake));
      const { value, grads } = tf.variableGrads(() => {
        const real = lsgan(d.apply(realMotion, { training: true, updateStats: true }), 1);
        const generated = lsgan(d.apply(fakeMotion, { training: true, updateStats: true }), 0);
        return tf.add(real, generated);
      }, vars);
      this.adamD.apply(vars.map((v) => grads[v.name]));
      return value;
    });
  }

  private generatorStep(batch: TrainingBatch): [tf.Scalar, tf.Scalar, tf.Scalar] {
    const g = this.generator;
    const vars = g.network.trainableVariables;
    const ganWeight = this.settings.ganWeight;
    let parts: [tf.Scalar, tf.Scalar] | undefined;
    const total = tf.tidy(() => {
      const { audio, pose, frames } = batchTensors(batch);
      const real = trainedValues(pose);
      const { value, grads } = tf.variableGrads(() => {
        const fake = trainedValues(g.apply(audio, frames, { training: true, updateStats: true }));
        const reg = l1(fake, real);
        const gan = lsgan(this.discriminator.apply(motion(fake), { training: true, updateStats: false }), 1);
        // Kept past the gradient scope to report them; disposed by trainStep.
        parts = [tf.keep(reg), tf.keep(gan)];
        return tf.add(reg, tf.mul(gan, ganWeight));
      }, vars);
      this.adamG.apply(vars.map((v) => grads[v.name]));
      return value;
    });
    if (!parts) throw new Error('generator step produced no losses');
    return [total, ...parts];
  }

  /**
   * Re-estimates the generator's BatchNorm moving statistics as the plain average of the batch
   * statistics over `batches`, with the current weights ("precise BN"). The moving averages
   * (momentum 0.99) lag the weights by about a hundred steps, which matters for short runs at high
   * learning rates; long runs at the paper's rate do not need this. Changes no weight.
   */
  async refreshBatchNormStatistics(batches: Iterable<TrainingBatch>): Promise<void> {
    this.checkAlive();
    const sums = new Map<string, { mean: tf.Tensor; variance: tf.Tensor }>();
    let count = 0;
    for (const batch of batches) {
      tf.tidy(() => {
        const { audio, frames } = batchTensors(batch);
        this.generator.apply(audio, frames, {
          training: true,
          updateStats: false,
          noGradient: true,
          statsSink: (layer, mean, variance) => {
            const prev = sums.get(layer);
            sums.set(layer, {
              mean: tf.keep(prev ? tf.add(prev.mean, mean) : tf.clone(mean)),
              variance: tf.keep(prev ? tf.add(prev.variance, variance) : tf.clone(variance)),
            });
            if (prev) tf.dispose([prev.mean, prev.variance]);
          },
        });
      });
      count += 1;
      // Let other work run between forward passes.
      await tf.nextFrame();
    }
    if (count === 0) throw new S2gError(ErrorCode.NO_TRAINING_DATA, 'refreshing BatchNorm statistics needs at least one batch');
    const n = this.generator.network;
    for (const [layer, { mean, variance }] of sums) {
      tf.tidy(() => {
        n.param(`${layer}/moving_mean`).variable.assign(tf.div(mean, count));
        n.param(`${layer}/moving_variance`).variable.assign(tf.div(variance, count));
      });
      tf.dispose([mean, variance]);
    }
  }

  /** L1 and predictions of the generator in inference mode (moving BatchNorm statistics). */
  async evaluate(batch: TrainingBatch): Promise<Evaluation> {
    this.checkAlive();
    const [l1t, pred, b, frames] = tf.tidy(() => {
      const { audio, pose, frames } = batchTensors(batch);
      const out = this.generator.apply(audio, frames, INFERENCE);
      return [l1(trainedValues(out), trainedValues(pose)), out, pose.shape[0], frames] as const;
    });
    const [l1v, predictions] = await Promise.all([l1t.data(), pred.data()]);
    tf.dispose([l1t, pred]);
    return { l1: l1v[0], predictions: predictions as Float32Array, batchSize: b, frames };
  }

  private variables(): NamedVariable[] {
    return [
      ...networkVariables(this.generator.network, 'generator'),
      ...networkVariables(this.discriminator.network, 'discriminator'),
      ...optimizerVariables(this.generator.network, this.adamG, 'generator'),
      ...optimizerVariables(this.discriminator.network, this.adamD, 'discriminator'),
    ];
  }

  /** Saves weights, BatchNorm statistics, both optimizers, the step and `extra` under `prefix`. */
  async save(store: ObjectStore, prefix: string, extra?: unknown): Promise<CheckpointManifest> {
    this.checkAlive();
    return writeCheckpoint(
      store,
      prefix,
      {
        step: this.step,
        settings: this.settings,
        optimizers: { generator: { iterations: this.adamG.iterations }, discriminator: { iterations: this.adamD.iterations } },
        extra,
      },
      this.variables(),
    );
  }

  /**
   * Restores a checkpoint saved by a trainer of the same preset; returns its `extra`. The learning
   * settings stay this trainer's (so a run may resume with, say, another learning rate).
   */
  async restore(store: ObjectStore, prefix: string): Promise<unknown> {
    this.checkAlive();
    const manifest = await readManifest(store, prefix);
    if (manifest.settings.preset !== this.preset) {
      throw new S2gError(ErrorCode.TRAINING_CONFIG_INVALID, `checkpoint at ${prefix} is for preset '${manifest.settings.preset}', this trainer is '${this.preset}'`, {
        prefix,
        checkpointPreset: manifest.settings.preset,
        preset: this.preset,
      });
    }
    const loaded = await readTensors(store, prefix, manifest, ['generator', 'discriminator', 'optimizer']);
    assignTensors(prefix, loaded, this.variables());
    this.step = manifest.step;
    this.adamG.iterations = manifest.optimizers.generator.iterations;
    this.adamD.iterations = manifest.optimizers.discriminator.iterations;
    return manifest.extra;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.generator.dispose();
    this.discriminator.dispose();
    this.adamG.dispose();
    this.adamD.dispose();
  }
}

/** A trainer with freshly initialised (seeded) weights. */
export function createTrainer(options: TrainerOptions): Trainer {
  return new Trainer(options);
}

/**
 * A trainer rebuilt from a checkpoint: settings from the checkpoint unless overridden, then every
 * weight, statistic and optimizer moment restored. Returns the checkpoint's `extra` too.
 */
export async function loadTrainer(
  store: ObjectStore,
  prefix: string,
  overrides: Partial<Omit<TrainerOptions, 'preset'>> = {},
): Promise<{ trainer: Trainer; extra: unknown; manifest: CheckpointManifest }> {
  const manifest = await readManifest(store, prefix);
  const trainer = new Trainer({ ...manifest.settings, ...overrides });
  try {
    const extra = await trainer.restore(store, prefix);
    return { trainer, extra, manifest };
  } catch (e) {
    trainer.dispose();
    throw e;
  }
}

/** Only the generator of a checkpoint, for inference: reads the manifest and generator.bin. */
export async function loadGenerator(store: ObjectStore, prefix: string): Promise<{ generator: Generator; manifest: CheckpointManifest }> {
  const manifest = await readManifest(store, prefix);
  const generator = new Generator(manifest.settings.preset, manifest.settings.seed);
  try {
    const loaded = await readTensors(store, prefix, manifest, ['generator']);
    assignTensors(prefix, loaded, networkVariables(generator.network, 'generator'));
    return { generator, manifest };
  } catch (e) {
    generator.dispose();
    throw e;
  }
}
