/** Small operations on flattened pose sequences (frames x 98, x0..x48, y0..y48) used before drawing. */
import { ErrorCode, S2gError } from '@s2g/contracts';
import { FRAME_VALUES, NECK, NUM_KEYPOINTS } from '@s2g/pose';

function frameCountOf(poses: ArrayLike<number>): number {
  const frames = poses.length / FRAME_VALUES;
  if (!Number.isInteger(frames) || frames < 1) throw new S2gError(ErrorCode.KEYPOINTS_INVALID, `a pose sequence must be whole frames of ${FRAME_VALUES} values, got ${poses.length}`);
  return frames;
}

/**
 * `frames` frames at `toFps` from a sequence at `fromFps`, each linearly interpolated between the
 * two source frames around its time (k / toFps); past the last source frame it holds that frame.
 */
export function resamplePoses(poses: ArrayLike<number>, fromFps: number, toFps: number, frames: number): Float32Array {
  const source = frameCountOf(poses);
  if (!(fromFps > 0) || !(toFps > 0) || !Number.isInteger(frames) || frames < 1) {
    throw new S2gError(ErrorCode.BAD_USER_INPUT, `cannot resample ${source} frames at ${fromFps} fps to ${frames} at ${toFps} fps`);
  }
  const out = new Float32Array(frames * FRAME_VALUES);
  for (let k = 0; k < frames; k++) {
    const pos = Math.min((k * fromFps) / toFps, source - 1);
    const a = Math.floor(pos);
    const b = Math.min(a + 1, source - 1);
    const f = pos - a;
    for (let v = 0; v < FRAME_VALUES; v++) {
      const va = poses[a * FRAME_VALUES + v];
      out[k * FRAME_VALUES + v] = va + (poses[b * FRAME_VALUES + v] - va) * f;
    }
  }
  return out;
}

/** Mean neck position (x, y) over a sequence. */
export function meanNeck(poses: ArrayLike<number>): [number, number] {
  const frames = frameCountOf(poses);
  let x = 0;
  let y = 0;
  for (let t = 0; t < frames; t++) {
    x += poses[t * FRAME_VALUES + NECK];
    y += poses[t * FRAME_VALUES + NUM_KEYPOINTS + NECK];
  }
  return [x / frames, y / frames];
}

/** The sequence moved so that its mean neck lands on `to` (every frame shifted alike). */
export function moveNeckTo(poses: ArrayLike<number>, to: readonly [number, number]): Float32Array {
  const [mx, my] = meanNeck(poses);
  const dx = to[0] - mx;
  const dy = to[1] - my;
  const out = Float32Array.from(poses);
  for (let i = 0; i < out.length; i++) out[i] += i % FRAME_VALUES < NUM_KEYPOINTS ? dx : dy;
  return out;
}

/**
 * How much larger the frame the poses were measured in is than the stored video: poses keep the
 * pixels of the video they were detected in, while the stored copy may be a downscaled one (the
 * synthetic speakers' 160x90 videos show a 1280x720 pose frame). The speaker's neck is always in
 * the picture, so the factor is the smallest power of two that puts the mean neck inside the frame.
 */
export function poseFrameScale(neck: readonly [number, number], width: number, height: number): number {
  for (let scale = 1; scale <= 64; scale *= 2) {
    if (neck[0] >= 0 && neck[1] >= 0 && neck[0] < width * scale && neck[1] < height * scale) return scale;
  }
  throw new S2gError(ErrorCode.KEYPOINTS_INVALID, `the poses (neck at ${neck.map((v) => v.toFixed(0)).join(', ')}) do not lie in the ${width}x${height} video's frame`);
}
