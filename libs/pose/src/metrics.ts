import { ErrorCode, S2gError } from '@s2g/contracts';
import { type PoseArray, frameCount, validatePoses } from './frames';
import { traceSqrtProduct } from './linalg';
import { FRAME_VALUES, NUM_KEYPOINTS, POSE_FPS, TRAINED_VALUES } from './skeleton';

function sameShape(pred: PoseArray, truth: PoseArray): number {
  const frames = validatePoses(truth, 'truth');
  validatePoses(pred, 'prediction');
  if (pred.length !== truth.length) {
    throw new S2gError(ErrorCode.KEYPOINTS_INVALID, `prediction has ${frameCount(pred)} frames, truth has ${frames}`);
  }
  return frames;
}

/**
 * L1 (ML-SPEC section 7): mean absolute error over keypoints 1..48 (96 values per frame) of
 * normalised poses. The neck entries are ignored.
 */
export function l1(pred: PoseArray, truth: PoseArray): number {
  const frames = sameShape(pred, truth);
  let sum = 0;
  for (let t = 0; t < frames; t++) {
    const o = t * FRAME_VALUES;
    for (let k = 1; k < NUM_KEYPOINTS; k++) {
      sum += Math.abs(pred[o + k] - truth[o + k]) + Math.abs(pred[o + NUM_KEYPOINTS + k] - truth[o + NUM_KEYPOINTS + k]);
    }
  }
  return sum / (frames * TRAINED_VALUES);
}

/**
 * PCK of each frame: the fraction of keypoints 1..48 within `alpha * max(width, height)` of the
 * truth, where the box bounds that frame's truth keypoints 1..48 (as the reference `compute_pck`).
 * Both sequences in the same pixel coordinates.
 */
export function pckPerFrame(pred: PoseArray, truth: PoseArray, alpha: number): Float64Array {
  const frames = sameShape(pred, truth);
  const out = new Float64Array(frames);
  for (let t = 0; t < frames; t++) {
    const o = t * FRAME_VALUES;
    let minX = Infinity;
    let maxX = -Infinity;
    let minY = Infinity;
    let maxY = -Infinity;
    for (let k = 1; k < NUM_KEYPOINTS; k++) {
      const x = truth[o + k];
      const y = truth[o + NUM_KEYPOINTS + k];
      if (x < minX) minX = x;
      if (x > maxX) maxX = x;
      if (y < minY) minY = y;
      if (y > maxY) maxY = y;
    }
    const radius = alpha * Math.max(maxX - minX, maxY - minY);
    let hits = 0;
    for (let k = 1; k < NUM_KEYPOINTS; k++) {
      const dx = pred[o + k] - truth[o + k];
      const dy = pred[o + NUM_KEYPOINTS + k] - truth[o + NUM_KEYPOINTS + k];
      if (Math.hypot(dx, dy) <= radius) hits++;
    }
    out[t] = hits / (NUM_KEYPOINTS - 1);
  }
  return out;
}

/** PCK@alpha (ML-SPEC section 7): averaged over keypoints, then frames. Report alpha 0.1 and 0.2. */
export function pck(pred: PoseArray, truth: PoseArray, alpha: number): number {
  const per = pckPerFrame(pred, truth, alpha);
  let s = 0;
  for (const v of per) s += v;
  return s / per.length;
}

/** Mean and covariance of a set of feature vectors. */
export interface GaussianStats {
  dim: number;
  count: number;
  mean: Float64Array;
  /** dim x dim, row-major, unbiased (n - 1), as numpy's `np.cov` in the FID/FGD references. */
  cov: Float64Array;
}

/** Statistics of `count` feature vectors of length `dim`, given flat (count x dim). */
export function gaussianStats(features: ArrayLike<number>, dim: number): GaussianStats {
  const count = features.length / dim;
  if (!Number.isInteger(count) || count < 2) {
    throw new S2gError(ErrorCode.KEYPOINTS_INVALID, `need at least 2 feature vectors of ${dim} values, got ${features.length} values`);
  }
  const mean = new Float64Array(dim);
  for (let i = 0; i < count; i++) for (let d = 0; d < dim; d++) mean[d] += features[i * dim + d];
  for (let d = 0; d < dim; d++) mean[d] /= count;
  const cov = new Float64Array(dim * dim);
  const c = new Float64Array(dim);
  for (let i = 0; i < count; i++) {
    for (let d = 0; d < dim; d++) c[d] = features[i * dim + d] - mean[d];
    for (let a = 0; a < dim; a++) {
      const ca = c[a];
      if (ca === 0) continue;
      for (let b = a; b < dim; b++) cov[a * dim + b] += ca * c[b];
    }
  }
  for (let a = 0; a < dim; a++) {
    for (let b = a; b < dim; b++) {
      const v = cov[a * dim + b] / (count - 1);
      cov[a * dim + b] = v;
      cov[b * dim + a] = v;
    }
  }
  return { dim, count, mean, cov };
}

/**
 * Mean and covariance accumulated batch by batch (sums of values and of their products, in float64),
 * for sets too large to hold at once. `stats()` equals gaussianStats over everything added.
 */
export class GaussianAccumulator {
  private readonly sum: Float64Array;
  private readonly products: Float64Array;
  count = 0;

  constructor(readonly dim: number) {
    this.sum = new Float64Array(dim);
    this.products = new Float64Array(dim * dim);
  }

  /** Adds feature vectors given flat (n x dim). */
  add(features: ArrayLike<number>): void {
    const n = features.length / this.dim;
    if (!Number.isInteger(n)) throw new RangeError(`features must be a multiple of ${this.dim} values, got ${features.length}`);
    const d = this.dim;
    for (let i = 0; i < n; i++) {
      const o = i * d;
      for (let a = 0; a < d; a++) {
        const va = features[o + a];
        this.sum[a] += va;
        if (va === 0) continue;
        for (let b = a; b < d; b++) this.products[a * d + b] += va * features[o + b];
      }
    }
    this.count += n;
  }

  stats(): GaussianStats {
    const { dim, count } = this;
    if (count < 2) throw new S2gError(ErrorCode.KEYPOINTS_INVALID, `need at least 2 feature vectors of ${dim} values, got ${count}`);
    const mean = this.sum.map((v) => v / count);
    const cov = new Float64Array(dim * dim);
    for (let a = 0; a < dim; a++) {
      for (let b = a; b < dim; b++) {
        const v = (this.products[a * dim + b] - count * mean[a] * mean[b]) / (count - 1);
        cov[a * dim + b] = v;
        cov[b * dim + a] = v;
      }
    }
    return { dim, count, mean, cov };
  }
}

/**
 * Frechet distance between two Gaussians: |mu1 - mu2|^2 + tr(C1 + C2 - 2 sqrt(C1 C2)). Clamped at 0
 * (round-off can make identical sets come out at -1e-12).
 */
export function frechetDistance(a: GaussianStats, b: GaussianStats): number {
  if (a.dim !== b.dim) throw new RangeError(`feature sizes differ: ${a.dim} vs ${b.dim}`);
  const n = a.dim;
  let d2 = 0;
  for (let i = 0; i < n; i++) d2 += (a.mean[i] - b.mean[i]) ** 2;
  let tr = 0;
  for (let i = 0; i < n; i++) tr += a.cov[i * n + i] + b.cov[i * n + i];
  return Math.max(0, d2 + tr - 2 * traceSqrtProduct(a.cov, b.cov, n));
}

/**
 * Per-frame feature vectors for the Frechet pose distance: the 96 trained values of each frame
 * (`position`), their frame-to-frame change (`velocity`, T - 1 vectors), or both concatenated
 * (`both`, 192 values, frames 1..T-1). Use normalised poses so every speaker weighs the same.
 */
export type PoseFeatureKind = 'position' | 'velocity' | 'both';

export function poseFeatures(poses: PoseArray, kind: PoseFeatureKind = 'position'): { data: Float64Array; dim: number } {
  const frames = validatePoses(poses);
  const trained = (t: number, out: Float64Array, at: number): void => {
    for (let k = 1; k < NUM_KEYPOINTS; k++) {
      out[at + k - 1] = poses[t * FRAME_VALUES + k];
      out[at + NUM_KEYPOINTS - 1 + k - 1] = poses[t * FRAME_VALUES + NUM_KEYPOINTS + k];
    }
  };
  if (kind === 'position') {
    const data = new Float64Array(frames * TRAINED_VALUES);
    for (let t = 0; t < frames; t++) trained(t, data, t * TRAINED_VALUES);
    return { data, dim: TRAINED_VALUES };
  }
  const dim = kind === 'both' ? 2 * TRAINED_VALUES : TRAINED_VALUES;
  const data = new Float64Array(Math.max(0, frames - 1) * dim);
  const cur = new Float64Array(TRAINED_VALUES);
  const prev = new Float64Array(TRAINED_VALUES);
  for (let t = 1; t < frames; t++) {
    trained(t, cur, 0);
    trained(t - 1, prev, 0);
    const at = (t - 1) * dim;
    for (let i = 0; i < TRAINED_VALUES; i++) data[at + i] = cur[i] - prev[i];
    if (kind === 'both') data.set(cur, at + TRAINED_VALUES);
  }
  return { data, dim };
}

/**
 * Frechet distance between real and generated pose statistics over per-frame features of all the
 * given sequences (pooled). Lower is better; 0 for identical sets.
 */
export function frechetPoseDistance(real: readonly PoseArray[], generated: readonly PoseArray[], kind: PoseFeatureKind = 'position'): number {
  const pool = (seqs: readonly PoseArray[]): GaussianStats => {
    const parts = seqs.map((s) => poseFeatures(s, kind));
    const dim = parts[0]?.dim ?? TRAINED_VALUES;
    const total = parts.reduce((n, p) => n + p.data.length, 0);
    const all = new Float64Array(total);
    let o = 0;
    for (const p of parts) {
      all.set(p.data, o);
      o += p.data.length;
    }
    return gaussianStats(all, dim);
  };
  return frechetDistance(pool(real), pool(generated));
}

/**
 * Mean speed of keypoints 1..48 at each frame (central difference, pixels or normalised units per
 * frame); the first and last frames use one-sided differences.
 */
export function jointSpeed(poses: PoseArray): Float64Array {
  const frames = validatePoses(poses);
  const out = new Float64Array(frames);
  if (frames < 2) return out;
  for (let t = 0; t < frames; t++) {
    const a = Math.max(0, t - 1);
    const b = Math.min(frames - 1, t + 1);
    let s = 0;
    for (let k = 1; k < NUM_KEYPOINTS; k++) {
      const dx = poses[b * FRAME_VALUES + k] - poses[a * FRAME_VALUES + k];
      const dy = poses[b * FRAME_VALUES + NUM_KEYPOINTS + k] - poses[a * FRAME_VALUES + NUM_KEYPOINTS + k];
      s += Math.hypot(dx, dy) / (b - a);
    }
    out[t] = s / (NUM_KEYPOINTS - 1);
  }
  return out;
}

export interface MotionBeatOptions {
  fps?: number;
  /**
   * A minimum counts only if the speed rises by at least this fraction of the sequence's mean speed
   * on both sides within `windowFrames`, so jitter while holding still is not a beat.
   */
  minDrop?: number;
  windowFrames?: number;
}

/**
 * Motion beats: times (s) of local minima of the mean joint speed, where a gesture stroke stops or
 * turns (the kinematic beats of Li et al. 2021 and the co-speech gesture literature).
 */
export function motionBeats(poses: PoseArray, opts: MotionBeatOptions = {}): number[] {
  const fps = opts.fps ?? POSE_FPS;
  const minDrop = opts.minDrop ?? 0.1;
  const win = opts.windowFrames ?? 4;
  const speed = jointSpeed(poses);
  let mean = 0;
  for (const v of speed) mean += v;
  mean /= Math.max(1, speed.length);
  if (mean === 0) return [];
  const times: number[] = [];
  for (let t = 1; t < speed.length - 1; t++) {
    if (!(speed[t] < speed[t - 1] && speed[t] <= speed[t + 1])) continue;
    let left = 0;
    let right = 0;
    for (let j = Math.max(0, t - win); j < t; j++) left = Math.max(left, speed[j]);
    for (let j = t + 1; j <= Math.min(speed.length - 1, t + win); j++) right = Math.max(right, speed[j]);
    if (left - speed[t] >= minDrop * mean && right - speed[t] >= minDrop * mean) times.push(t / fps);
  }
  return times;
}

export interface BeatConsistency {
  /** Mean over motion beats of exp(-d^2 / (2 sigma^2)), d = distance to the nearest audio onset. */
  score: number;
  /** Fraction of motion beats within `tolerance` seconds of an audio onset. */
  hitRate: number;
  motionBeats: number;
  onsets: number;
}

/**
 * Beat consistency between motion beats and audio onsets (both in seconds from the same start; get
 * onsets with `detectOnsets` from @s2g/audio). Follows the beat-alignment score of Li et al. 2021 as
 * used for co-speech gestures: sigma 0.1 s by default; tolerance 0.1 s (a frame and a half at 15 fps).
 * With no motion beats or no onsets both numbers are 0.
 */
export function beatConsistency(
  motionBeatTimes: readonly number[],
  onsetTimes: readonly number[],
  opts: { sigma?: number; tolerance?: number } = {},
): BeatConsistency {
  const sigma = opts.sigma ?? 0.1;
  const tolerance = opts.tolerance ?? 0.1;
  const result = { score: 0, hitRate: 0, motionBeats: motionBeatTimes.length, onsets: onsetTimes.length };
  if (motionBeatTimes.length === 0 || onsetTimes.length === 0) return result;
  const onsets = [...onsetTimes].sort((a, b) => a - b);
  let score = 0;
  let hits = 0;
  for (const t of motionBeatTimes) {
    // Binary search for the nearest onset.
    let lo = 0;
    let hi = onsets.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (onsets[mid] < t) lo = mid + 1;
      else hi = mid;
    }
    let d = Math.abs(onsets[lo] - t);
    if (lo > 0) d = Math.min(d, Math.abs(onsets[lo - 1] - t));
    score += Math.exp(-(d * d) / (2 * sigma * sigma));
    if (d <= tolerance) hits++;
  }
  return { ...result, score: score / motionBeatTimes.length, hitRate: hits / motionBeatTimes.length };
}

/** Mean Euclidean distance over keypoints 1..48 and the first `frames` frames of two sequences. */
function meanPointDistance(a: PoseArray, b: PoseArray, frames: number): number {
  let s = 0;
  for (let t = 0; t < frames; t++) {
    const o = t * FRAME_VALUES;
    for (let k = 1; k < NUM_KEYPOINTS; k++) s += Math.hypot(a[o + k] - b[o + k], a[o + NUM_KEYPOINTS + k] - b[o + NUM_KEYPOINTS + k]);
  }
  return s / (frames * (NUM_KEYPOINTS - 1));
}

/**
 * Diversity across sequences: the mean over all pairs of the mean keypoint distance between them,
 * frame by frame over their common length. Generated for different inputs, higher means the model
 * does not collapse to one motion; compare with the same number for real sequences.
 */
export function diversity(sequences: readonly PoseArray[]): number {
  if (sequences.length < 2) throw new S2gError(ErrorCode.KEYPOINTS_INVALID, 'diversity needs at least 2 sequences');
  const lengths = sequences.map((s, i) => validatePoses(s, `sequence ${i}`));
  let sum = 0;
  let pairs = 0;
  for (let i = 0; i < sequences.length; i++) {
    for (let j = i + 1; j < sequences.length; j++) {
      sum += meanPointDistance(sequences[i], sequences[j], Math.min(lengths[i], lengths[j]));
      pairs++;
    }
  }
  return sum / pairs;
}

/**
 * Diversity within one sequence: the mean distance of keypoints 1..48 from their own average
 * position over the sequence. 0 for a pose held still (the median baseline).
 */
export function withinSequenceDiversity(poses: PoseArray): number {
  const frames = validatePoses(poses);
  const mean = new Float64Array(FRAME_VALUES);
  for (let t = 0; t < frames; t++) for (let v = 0; v < FRAME_VALUES; v++) mean[v] += poses[t * FRAME_VALUES + v] / frames;
  let s = 0;
  for (let t = 0; t < frames; t++) {
    const o = t * FRAME_VALUES;
    for (let k = 1; k < NUM_KEYPOINTS; k++) s += Math.hypot(poses[o + k] - mean[k], poses[o + NUM_KEYPOINTS + k] - mean[NUM_KEYPOINTS + k]);
  }
  return s / (frames * (NUM_KEYPOINTS - 1));
}
