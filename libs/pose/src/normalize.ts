import { ErrorCode, S2gError } from '@s2g/contracts';
import { type PoseArray, validatePoses } from './frames';
import { FRAME_VALUES, NECK, NUM_KEYPOINTS } from './skeleton';

const RIGHT_SHOULDER = 1;
const LEFT_SHOULDER = 4;

/**
 * Shoulder width (px) of the reference speaker all others are scaled to: jon's mean
 * (160.263 - -153.331), read from the speech2gesture release, whose per-speaker `scale_factor`
 * equals this width over the speaker's own.
 */
export const REFERENCE_SHOULDER_WIDTH = 313.594;

/** Per-speaker statistics of neck-relative coordinates over its training frames (ML-SPEC section 2). */
export interface SpeakerStats {
  /** Mean of each of the 98 neck-relative values; 0 for the neck. */
  mean: Float64Array;
  /** Population standard deviation of each value; 0 for the neck. */
  std: Float64Array;
  /** Median of each value: the "median pose" baseline. */
  median: Float64Array;
  frames: number;
}

/** Subtracts each frame's neck from all its points (the neck becomes 0, 0). */
export function toNeckRelative(poses: PoseArray): Float64Array {
  const frames = validatePoses(poses);
  const out = new Float64Array(poses.length);
  for (let t = 0; t < frames; t++) {
    const o = t * FRAME_VALUES;
    const nx = poses[o + NECK];
    const ny = poses[o + NUM_KEYPOINTS + NECK];
    for (let k = 0; k < NUM_KEYPOINTS; k++) {
      out[o + k] = poses[o + k] - nx;
      out[o + NUM_KEYPOINTS + k] = poses[o + NUM_KEYPOINTS + k] - ny;
    }
  }
  return out;
}

/** Neck position of every frame: T x 2 (x, y). */
export function neckPositions(poses: PoseArray): Float64Array {
  const frames = validatePoses(poses);
  const out = new Float64Array(frames * 2);
  for (let t = 0; t < frames; t++) {
    out[2 * t] = poses[t * FRAME_VALUES + NECK];
    out[2 * t + 1] = poses[t * FRAME_VALUES + NUM_KEYPOINTS + NECK];
  }
  return out;
}

function median(sorted: Float64Array): number {
  const n = sorted.length;
  return n % 2 === 1 ? sorted[(n - 1) / 2] : 0.5 * (sorted[n / 2 - 1] + sorted[n / 2]);
}

/** Mean, std and median of the neck-relative values over a speaker's training frames (pixels). */
export function computeSpeakerStats(poses: PoseArray): SpeakerStats {
  const rel = toNeckRelative(poses);
  const frames = rel.length / FRAME_VALUES;
  const mean = new Float64Array(FRAME_VALUES);
  const std = new Float64Array(FRAME_VALUES);
  const med = new Float64Array(FRAME_VALUES);
  const column = new Float64Array(frames);
  for (let v = 0; v < FRAME_VALUES; v++) {
    let s = 0;
    for (let t = 0; t < frames; t++) {
      column[t] = rel[t * FRAME_VALUES + v];
      s += column[t];
    }
    const m = s / frames;
    // Two-pass variance: exact zero for constant columns such as the neck.
    let ss = 0;
    for (let t = 0; t < frames; t++) ss += (column[t] - m) * (column[t] - m);
    mean[v] = m;
    std[v] = Math.sqrt(ss / frames);
    med[v] = median(column.sort());
  }
  return { mean, std, median: med, frames };
}

function checkStats(stats: SpeakerStats): void {
  if (stats.mean.length !== FRAME_VALUES || stats.std.length !== FRAME_VALUES) {
    throw new S2gError(ErrorCode.KEYPOINTS_INVALID, `speaker statistics must have ${FRAME_VALUES} means and stds`);
  }
}

/**
 * Pixel poses to the model's space: neck-relative, then z-scored per value with the speaker's
 * statistics. Values whose std is 0 (the neck) map to 0 instead of dividing by zero.
 */
export function normalize(poses: PoseArray, stats: SpeakerStats): Float64Array {
  checkStats(stats);
  const out = toNeckRelative(poses);
  const frames = out.length / FRAME_VALUES;
  for (let t = 0; t < frames; t++) {
    const o = t * FRAME_VALUES;
    for (let v = 0; v < FRAME_VALUES; v++) {
      const sd = stats.std[v];
      out[o + v] = sd > 0 ? (out[o + v] - stats.mean[v]) / sd : 0;
    }
  }
  return out;
}

export interface DenormalizeOptions {
  /** Multiply the neck-relative pixels by this (e.g. `scaleFactor(stats)`) before placing them. */
  scale?: number;
  /** Where to put the neck: one (x, y) for every frame, or T x 2 values. Default (0, 0). */
  origin?: ArrayLike<number>;
}

/**
 * Inverse of `normalize`: z-scores back to pixels, neck at `origin`. The neck entries of the input
 * are ignored (the model's neck output carries no meaning), as in the reference decoder.
 */
export function denormalize(normalized: PoseArray, stats: SpeakerStats, opts: DenormalizeOptions = {}): Float64Array {
  checkStats(stats);
  const frames = validatePoses(normalized, 'normalized poses');
  const scale = opts.scale ?? 1;
  const origin = opts.origin;
  if (origin && origin.length !== 2 && origin.length !== 2 * frames) {
    throw new S2gError(ErrorCode.KEYPOINTS_INVALID, `origin must have 2 or ${2 * frames} values, got ${origin.length}`);
  }
  const out = new Float64Array(normalized.length);
  for (let t = 0; t < frames; t++) {
    const o = t * FRAME_VALUES;
    const ox = origin ? origin[origin.length === 2 ? 0 : 2 * t] : 0;
    const oy = origin ? origin[origin.length === 2 ? 1 : 2 * t + 1] : 0;
    for (let k = 0; k < NUM_KEYPOINTS; k++) {
      const zx = k === NECK ? 0 : normalized[o + k];
      const zy = k === NECK ? 0 : normalized[o + NUM_KEYPOINTS + k];
      out[o + k] = ox + scale * (zx * stats.std[k] + stats.mean[k]);
      out[o + NUM_KEYPOINTS + k] = oy + scale * (zy * stats.std[NUM_KEYPOINTS + k] + stats.mean[NUM_KEYPOINTS + k]);
    }
  }
  return out;
}

/** Mean shoulder width (px): mean x of the left shoulder minus mean x of the right shoulder. */
export function shoulderWidth(stats: SpeakerStats): number {
  return stats.mean[LEFT_SHOULDER] - stats.mean[RIGHT_SHOULDER];
}

/**
 * Factor that scales this speaker to the reference speaker's size (reference width / own width),
 * like the reference's `scale_factor`. A non-positive width means left and right are swapped.
 */
export function scaleFactor(stats: SpeakerStats, referenceWidth: number = REFERENCE_SHOULDER_WIDTH): number {
  const width = shoulderWidth(stats);
  if (!(width > 0)) {
    throw new S2gError(
      ErrorCode.KEYPOINTS_INVALID,
      `shoulder width ${width.toFixed(2)} px is not positive: the right shoulder (point 1) must lie left of the left shoulder (point 4) in the image`,
    );
  }
  return referenceWidth / width;
}

/** Multiplies neck-relative coordinates by `factor` around each frame's neck. */
export function scalePoses(poses: PoseArray, factor: number): Float64Array {
  const frames = validatePoses(poses);
  const out = Float64Array.from(poses);
  for (let t = 0; t < frames; t++) {
    const o = t * FRAME_VALUES;
    const nx = poses[o + NECK];
    const ny = poses[o + NUM_KEYPOINTS + NECK];
    for (let k = 0; k < NUM_KEYPOINTS; k++) {
      out[o + k] = nx + factor * (poses[o + k] - nx);
      out[o + NUM_KEYPOINTS + k] = ny + factor * (poses[o + NUM_KEYPOINTS + k] - ny);
    }
  }
  return out;
}
