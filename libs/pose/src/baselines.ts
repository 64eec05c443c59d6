import { ErrorCode, S2gError } from '@s2g/contracts';
import { type PoseArray, validatePoses } from './frames';
import { FRAME_VALUES } from './skeleton';

/**
 * The three per-speaker baselines of the paper (ML-SPEC section 7), as pure functions over arrays so
 * the trainer can score them beside the model on the same held-out windows.
 */

/** Per-value median of all frames of the given sequences (98 values). */
export function medianPose(sequences: readonly PoseArray[]): Float64Array {
  const frames = sequences.reduce((n, s, i) => n + validatePoses(s, `training sequence ${i}`), 0);
  if (frames === 0) throw new S2gError(ErrorCode.NO_TRAINING_DATA, 'no training frames for the median pose');
  const out = new Float64Array(FRAME_VALUES);
  const column = new Float64Array(frames);
  for (let v = 0; v < FRAME_VALUES; v++) {
    let i = 0;
    for (const s of sequences) for (let t = 0; t < s.length / FRAME_VALUES; t++) column[i++] = s[t * FRAME_VALUES + v];
    column.sort();
    out[v] = frames % 2 === 1 ? column[(frames - 1) / 2] : 0.5 * (column[frames / 2 - 1] + column[frames / 2]);
  }
  return out;
}

/** One pose repeated for `frames` frames. */
export function holdPose(pose: PoseArray, frames: number): Float64Array {
  if (pose.length !== FRAME_VALUES) throw new S2gError(ErrorCode.KEYPOINTS_INVALID, `a pose has ${FRAME_VALUES} values, got ${pose.length}`);
  const out = new Float64Array(frames * FRAME_VALUES);
  for (let t = 0; t < frames; t++) for (let v = 0; v < FRAME_VALUES; v++) out[t * FRAME_VALUES + v] = pose[v];
  return out;
}

/** Baseline 1: the median training pose held still for `frames` frames. */
export function medianPoseBaseline(training: readonly PoseArray[], frames: number): Float64Array {
  return holdPose(medianPose(training), frames);
}

/** Deterministic uniform random numbers in [0, 1) (mulberry32), so baseline scores are reproducible. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Baseline 2: a training window drawn at random (returns its index and a copy of its poses). */
export function randomWindowBaseline(training: readonly PoseArray[], random: () => number): { index: number; poses: Float64Array } {
  if (training.length === 0) throw new S2gError(ErrorCode.NO_TRAINING_DATA, 'no training windows to draw from');
  const index = Math.min(training.length - 1, Math.floor(random() * training.length));
  return { index, poses: Float64Array.from(training[index]) };
}

/**
 * Baseline 3: the training window whose audio features are nearest (Euclidean) to the query's, e.g.
 * `pooledLogMel` of each window's log-mel. Returns its index, distance and a copy of its poses.
 */
export function nearestWindowBaseline(
  queryFeatures: ArrayLike<number>,
  trainingFeatures: readonly ArrayLike<number>[],
  trainingPoses: readonly PoseArray[],
): { index: number; distance: number; poses: Float64Array } {
  if (trainingFeatures.length === 0) throw new S2gError(ErrorCode.NO_TRAINING_DATA, 'no training windows to search');
  if (trainingFeatures.length !== trainingPoses.length) {
    throw new RangeError(`${trainingFeatures.length} feature vectors for ${trainingPoses.length} pose windows`);
  }
  let best = -1;
  let bestD = Infinity;
  trainingFeatures.forEach((f, i) => {
    if (f.length !== queryFeatures.length) throw new RangeError(`feature ${i} has ${f.length} values, the query ${queryFeatures.length}`);
    let d = 0;
    for (let j = 0; j < f.length && d < bestD; j++) d += (f[j] - queryFeatures[j]) ** 2;
    if (d < bestD) {
      bestD = d;
      best = i;
    }
  });
  if (best < 0) throw new RangeError('no training window has finite features');
  return { index: best, distance: Math.sqrt(bestD), poses: Float64Array.from(trainingPoses[best]) };
}
