import * as tf from '@tensorflow/tfjs';
import { NUM_MEL_BANDS, SPEC_FRAMES, WINDOW_FRAMES, detectOnsets, pooledLogMel } from '@s2g/audio';
import { ErrorCode, S2gError } from '@s2g/contracts';
import { type Generator, INFERENCE, deriveSeed } from '@s2g/model';
import {
  GaussianAccumulator,
  type SpeakerStats,
  beatConsistency,
  denormalize,
  diversity,
  frechetDistance,
  l1,
  medianPoseBaseline,
  motionBeats,
  nearestWindowBaseline,
  neckPositions,
  pck,
  poseFeatures,
} from '@s2g/pose';
import { type EvalSample, MEL_VALUES, POSE_VALUES, type PreparedSample } from './data';
import { SeededRng } from './rng';

/**
 * Scoring (ML-SPEC 7): L1 on normalised keypoints 1..48, PCK@0.1 and PCK@0.2 on pixels. Predictions
 * are de-normalised with the speaker's statistics and placed at the ground truth's neck, so PCK
 * measures the gesture, not where the speaker stood. The three baselines are scored the same way on
 * the same windows. The test split also gets the later literature's metrics (ML-SPEC 7, see
 * ExtendedMetrics).
 */

export interface Scores {
  l1: number;
  pck01: number;
  pck02: number;
  /** Further metrics by name, when the sum was extended (the test split): see ExtendedMetrics. */
  metrics?: Record<string, number>;
}

/** Windows whose pairwise diversity is measured: every pair, so the cost is quadratic. */
export const DIVERSITY_WINDOWS = 100;

/**
 * The metrics later work reports beside L1 and PCK, on normalised poses:
 * - `frechet`: Frechet distance between the per-frame pose statistics (the 96 trained values) of the
 *   real and the predicted windows, pooled over all windows. Lower is better; 0 for a perfect match.
 * - `beatConsistency`: mean over the prediction's motion beats (stops and turns of the joints) of
 *   exp(-d^2 / 2 sigma^2), d the distance to the nearest onset of the window's audio, sigma 0.1 s;
 *   `beatHitRate`: the share of motion beats within 0.1 s of an onset; `motionBeatsPerWindow`.
 *   A pose held still has no motion beats and scores 0.
 * - `diversity`: mean distance between the predictions of different windows (the first
 *   DIVERSITY_WINDOWS, every pair); `realDiversity`: the same for the real poses of those windows.
 *   Far below the real figure means the model collapsed to one motion.
 */
export class ExtendedMetrics {
  private real: GaussianAccumulator | null = null;
  private generated: GaussianAccumulator | null = null;
  private beats = 0;
  private beatScore = 0;
  private beatHits = 0;
  private windows = 0;
  private readonly predictions: Float32Array[] = [];
  private readonly truths: Float32Array[] = [];

  add(prediction: ArrayLike<number>, truth: EvalSample): void {
    const generated = poseFeatures(prediction);
    const real = poseFeatures(truth.pose);
    (this.generated ??= new GaussianAccumulator(generated.dim)).add(generated.data);
    (this.real ??= new GaussianAccumulator(real.dim)).add(real.data);
    const onsets = detectOnsets({ data: truth.mel, frames: SPEC_FRAMES, bands: NUM_MEL_BANDS });
    const beat = beatConsistency(motionBeats(prediction), onsets);
    this.beats += beat.motionBeats;
    this.beatScore += beat.score * beat.motionBeats;
    this.beatHits += beat.hitRate * beat.motionBeats;
    this.windows++;
    if (this.predictions.length < DIVERSITY_WINDOWS) {
      this.predictions.push(Float32Array.from(prediction));
      this.truths.push(truth.pose);
    }
  }

  result(): Record<string, number> {
    const out: Record<string, number> = {
      beatConsistency: this.beats > 0 ? this.beatScore / this.beats : 0,
      beatHitRate: this.beats > 0 ? this.beatHits / this.beats : 0,
      motionBeatsPerWindow: this.windows > 0 ? this.beats / this.windows : 0,
    };
    if (this.real && this.generated && this.real.count >= 2) out.frechet = frechetDistance(this.real.stats(), this.generated.stats());
    if (this.predictions.length >= 2) {
      out.diversity = diversity(this.predictions);
      out.realDiversity = diversity(this.truths);
    }
    return out;
  }
}

export const BASELINES = ['median', 'random', 'nearest'] as const;
export type Baseline = (typeof BASELINES)[number];

/** Running means of the three scores over windows. */
export class ScoreSum {
  private sums = { l1: 0, pck01: 0, pck02: 0 };
  private readonly extended: ExtendedMetrics | null;
  count = 0;

  /** `extended`: also the metrics of ExtendedMetrics (costlier: used on the test split). */
  constructor(
    private readonly stats: SpeakerStats,
    options: { extended?: boolean } = {},
  ) {
    this.extended = options.extended ? new ExtendedMetrics() : null;
  }

  /** Adds one window: `prediction` normalised, (64, 98). */
  add(prediction: ArrayLike<number>, truth: EvalSample): void {
    const pixels = denormalize(prediction, this.stats, { origin: neckPositions(truth.pixels) });
    this.sums.l1 += l1(prediction, truth.pose);
    this.sums.pck01 += pck(pixels, truth.pixels, 0.1);
    this.sums.pck02 += pck(pixels, truth.pixels, 0.2);
    this.extended?.add(prediction, truth);
    this.count++;
  }

  result(): Scores {
    if (this.count === 0) throw new Error('no windows scored');
    const scores: Scores = { l1: this.sums.l1 / this.count, pck01: this.sums.pck01 / this.count, pck02: this.sums.pck02 / this.count };
    if (this.extended) scores.metrics = this.extended.result();
    return scores;
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

export function baselineSums(stats: SpeakerStats, options: { extended?: boolean } = {}): Record<Baseline, ScoreSum> {
  return { median: new ScoreSum(stats, options), random: new ScoreSum(stats, options), nearest: new ScoreSum(stats, options) };
}
