import { ErrorCode, S2gError } from '@s2g/contracts';
import { FRAME_VALUES, KEYPOINT_NAMES, NUM_KEYPOINTS } from './skeleton';

/**
 * Pose sequences are flat arrays of T frames x 98 values, each frame `x0..x48, y0..y48`
 * (ML-SPEC section 2). Functions accept any numeric array (Float32Array from a model, number[] from
 * JSON) and return Float64Array.
 */
export type PoseArray = ArrayLike<number>;

/** Number of frames in a flat pose array; throws KEYPOINTS_INVALID when the length is not T * 98. */
export function frameCount(poses: PoseArray, what = 'poses'): number {
  if (poses.length % FRAME_VALUES !== 0) {
    throw new S2gError(ErrorCode.KEYPOINTS_INVALID, `${what}: length ${poses.length} is not a multiple of ${FRAME_VALUES} (49 keypoints x 2)`, {
      length: poses.length,
    });
  }
  return poses.length / FRAME_VALUES;
}

/** Human-readable location of flat index `i`: frame, joint name and axis. */
export function describeIndex(i: number): string {
  const frame = Math.floor(i / FRAME_VALUES);
  const v = i % FRAME_VALUES;
  const axis = v < NUM_KEYPOINTS ? 'x' : 'y';
  return `frame ${frame}, keypoint ${v % NUM_KEYPOINTS} (${KEYPOINT_NAMES[v % NUM_KEYPOINTS]}) ${axis}`;
}

/**
 * Checks shape and that every value is finite; returns the frame count.
 * Throws KEYPOINTS_INVALID naming the first bad value.
 */
export function validatePoses(poses: PoseArray, what = 'poses'): number {
  const frames = frameCount(poses, what);
  if (frames === 0) throw new S2gError(ErrorCode.KEYPOINTS_INVALID, `${what}: no frames`);
  for (let i = 0; i < poses.length; i++) {
    if (!Number.isFinite(poses[i])) {
      throw new S2gError(ErrorCode.KEYPOINTS_INVALID, `${what}: ${String(poses[i])} at ${describeIndex(i)}`, { index: i });
    }
  }
  return frames;
}

/** Frame `t` of a flat sequence, copied. */
export function frameAt(poses: PoseArray, t: number): Float64Array {
  const out = new Float64Array(FRAME_VALUES);
  for (let v = 0; v < FRAME_VALUES; v++) out[v] = poses[t * FRAME_VALUES + v];
  return out;
}

/** Concatenates frames (each 98 values) into one flat sequence. */
export function stackFrames(frames: readonly PoseArray[]): Float64Array {
  const out = new Float64Array(frames.length * FRAME_VALUES);
  frames.forEach((f, t) => {
    if (f.length !== FRAME_VALUES) throw new S2gError(ErrorCode.KEYPOINTS_INVALID, `frame ${t} has ${f.length} values, expected ${FRAME_VALUES}`);
    for (let v = 0; v < FRAME_VALUES; v++) out[t * FRAME_VALUES + v] = f[v];
  });
  return out;
}

/** Frames `start .. start + count - 1` of a flat sequence, copied. */
export function sliceFrames(poses: PoseArray, start: number, count: number): Float64Array {
  const frames = frameCount(poses);
  if (start < 0 || count < 0 || start + count > frames) throw new RangeError(`frames ${start}..${start + count} outside 0..${frames}`);
  const out = new Float64Array(count * FRAME_VALUES);
  for (let i = 0; i < out.length; i++) out[i] = poses[start * FRAME_VALUES + i];
  return out;
}
