import * as tf from '@tensorflow/tfjs';
import { NUM_MEL_BANDS, SPEC_FRAMES, WINDOW_FRAMES, pooledLogMel } from '@s2g/audio';
import { ErrorCode, S2gError } from '@s2g/contracts';
import { type Generator, INFERENCE, deriveSeed } from '@s2g/model';
import { type SpeakerStats, denormalize, l1, medianPoseBaseline, nearestWindowBaseline, neckPositions, pck } from '@s2g/pose';
import { type EvalSample, MEL_VALUES, POSE_VALUES, type PreparedSample } from './data';
import { SeededRng } from './rng';

/**
 * Scoring (ML-SPEC 7): L1 on normalised keypoints 1..48, PCK@0.1 and PCK@0.2 on pixels. Predictions
 * are de-normalised with the speaker's statistics and placed at the ground truth's neck, so PCK
 * measures the gesture, not where the speaker stood. The three baselines are scored the same way on
 * the same windows.
 */

export interface Scores {
  l1: number;
  pck01: number;
  pck02: number;
}

export const BASELINES = ['median', 'random', 'nearest'] as const;
export type Baseline = (typeof BASELINES)[number];

/** Running means of the three scores over windows. */
export class ScoreSum {
  private sums = { l1: 0, pck01: 0, pck02: 0 };
  count = 0;

  constructor(private readonly stats: SpeakerStats) {}

  /** Adds one window: `prediction` normalised, (64, 98). */
  add(prediction: ArrayLike<number>, truth: EvalSample): void {
    const pixels = denormalize(prediction, this.stats, { origin: neckPositions(truth.pixels) });
    this.sums.l1 += l1(prediction, truth.pose);
    this.sums.pck01 += pck(pixels, truth.pixels, 0.1);
    this.sums.pck02 += pck(pixels, truth.pixels, 0.2);
    this.count++;
  }

  result(): Scores {
    if (this.count === 0) throw new Error('no windows scored');
    return { l1: this.sums.l1 / this.count, pck01: this.sums.pck01 / this.count, pck02: this.sums.pck02 / this.count };
  }
}

/** Normalised predictions of the generator in inference mode for some windows, one (64, 98) array each. */
export async function predictWindows(generator: Generator, windows: readonly PreparedSample[]): Promise<Float32Array[]> {
  const b = windows.length;
  const audio = new Float32Array(b * MEL_VALUES);
  windows.forEach((w, i) => audio.set(w.mel, i * MEL_VALUES));
  const out = tf.tidy(() => generator.apply(tf.tensor4d(audio, [b, SPEC_FRAMES, NUM_MEL_BANDS, 1]), WINDOW_FRAMES, INFERENCE));
  const values = (await out.data()) as Float32Array;
  out.dispose();
  for (let i = 0; i < values.length; i++) {
    if (!Number.isFinite(values[i])) throw new S2gError(ErrorCode.TRAINING_DIVERGED, 'the generator predicts non-finite poses');
  }
  return Array.from({ length: b }, (_, i) => values.slice(i * POSE_VALUES, (i + 1) * POSE_VALUES));
}

/** Adds the generator's scores on `windows` to `sum`, `batchSize` windows per forward pass. */
export async function scoreGenerator(generator: Generator, windows: readonly EvalSample[], sum: ScoreSum, batchSize: number): Promise<void> {
  for (let i = 0; i < windows.length; i += batchSize) {
    const chunk = windows.slice(i, i + batchSize);
    const predictions = await predictWindows(generator, chunk);
    chunk.forEach((w, k) => sum.add(predictions[k], w));
    await new Promise((resolve) => setImmediate(resolve));
  }
}

/**
 * The paper's per-speaker baselines, fitted on a reference set of training windows: the median
 * training pose held still; a random training window; the training window whose audio is nearest
 * (Euclidean distance of `pooledLogMel`, 8 x 64 band means).
 */
export class BaselineModels {
  private readonly median: Float64Array;
  private readonly features: Float32Array[];
  private readonly poses: Float32Array[];

  constructor(reference: readonly PreparedSample[]) {
    if (reference.length === 0) throw new S2gError(ErrorCode.NO_TRAINING_DATA, 'no training windows to fit the baselines on');
    this.poses = reference.map((w) => w.pose);
    this.median = medianPoseBaseline(this.poses, WINDOW_FRAMES);
    this.features = reference.map((w) => features(w));
  }

  /**
   * Adds each baseline's scores on `windows` to `sums`. `rng` draws the random baseline's windows
   * (pass the same one across calls to continue its sequence).
   */
  async score(windows: readonly EvalSample[], sums: Record<Baseline, ScoreSum>, rng: SeededRng): Promise<void> {
    for (let i = 0; i < windows.length; i++) {
      const w = windows[i];
      sums.median.add(this.median, w);
      sums.random.add(this.poses[rng.int(this.poses.length)], w);
      sums.nearest.add(nearestWindowBaseline(features(w), this.features, this.poses).poses, w);
      // The nearest-neighbour search scans every training window: let heartbeats through.
      if (i % 8 === 7) await new Promise((resolve) => setImmediate(resolve));
    }
  }

  /** The random baseline's generator for one split of one run. */
  static rng(seed: number, split: string): SeededRng {
    return new SeededRng(deriveSeed(seed, `random-baseline/${split}`));
  }
}

function features(w: PreparedSample): Float32Array {
  return pooledLogMel({ data: w.mel, frames: SPEC_FRAMES, bands: NUM_MEL_BANDS });
}

export function baselineSums(stats: SpeakerStats): Record<Baseline, ScoreSum> {
  return { median: new ScoreSum(stats), random: new ScoreSum(stats), nearest: new ScoreSum(stats) };
}
