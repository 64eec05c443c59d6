/**
 * Prediction for audio of any length with memory bounded by a window size, not by the audio.
 *
 * Up to `windowFrames` pose frames the model runs once over the whole input (ML-SPEC section 4,
 * exactly `predict` of @s2g/model). Longer audio runs in windows of `windowFrames` that overlap by at
 * least `overlapFrames`; in each overlap the two predictions are cross-faded with linear weights, so a
 * window's edges (where the network saw no context on one side) count least and there is no seam.
 * Only one window's spectrogram and activations exist at a time.
 */
import { logMel, SAMPLE_RATE } from '@s2g/audio';
import { ErrorCode, S2gError } from '@s2g/contracts';
import { FRAME_MULTIPLE, type Generator, poseFramesForSamples, predict, type Prediction, reflectIndex } from '@s2g/model';
import { FRAME_VALUES, POSE_FPS } from '@s2g/pose';

export interface WindowOptions {
  /** Pose frames run through the network at once (a multiple of 32). */
  windowFrames: number;
  /** Least number of frames consecutive windows share (a multiple of 32, under half a window). */
  overlapFrames: number;
  /** Checked between windows: a shutdown stops a long prediction at the next window. */
  signal?: AbortSignal;
}

/** Pose frames [start, start + frames) of the output that one window predicts. */
export interface PoseWindow {
  start: number;
  frames: number;
}

function checkOptions(windowFrames: number, overlapFrames: number): void {
  const multiple = (v: number) => Number.isInteger(v) && v > 0 && v % FRAME_MULTIPLE === 0;
  if (!multiple(windowFrames) || !multiple(overlapFrames) || 2 * overlapFrames >= windowFrames) {
    throw new S2gError(
      ErrorCode.BAD_USER_INPUT,
      `windows need windowFrames and overlapFrames that are positive multiples of ${FRAME_MULTIPLE}, with the overlap under half a window (got ${windowFrames}, ${overlapFrames})`,
    );
  }
}

/**
 * Where the windows of a `total`-frame prediction go: one window when it fits, else windows of
 * `windowFrames` every `windowFrames - overlapFrames` frames, the last one moved back to end at
 * `total` (so it overlaps its neighbour by more, and no window runs past the audio).
 */
export function planWindows(total: number, windowFrames: number, overlapFrames: number): PoseWindow[] {
  checkOptions(windowFrames, overlapFrames);
  if (!Number.isInteger(total) || total <= 0) throw new S2gError(ErrorCode.BAD_USER_INPUT, `frame count must be a positive integer, got ${total}`);
  if (total <= windowFrames) return [{ start: 0, frames: total }];
  const hop = windowFrames - overlapFrames;
  const windows: PoseWindow[] = [];
  for (let start = 0; ; start += hop) {
    if (start + windowFrames >= total) {
      windows.push({ start: total - windowFrames, frames: windowFrames });
      return windows;
    }
    windows.push({ start, frames: windowFrames });
  }
}

/**
 * Weight of local frame `i` of window `k`: 1 inside, falling linearly to near 0 across the overlap
 * with each neighbour. Within an overlap the two weights sum to 1.
 */
export function blendWeight(windows: readonly PoseWindow[], k: number, i: number): number {
  const w = windows[k];
  let weight = 1;
  if (k > 0) {
    const prev = windows[k - 1];
    const overlap = prev.start + prev.frames - w.start;
    if (i < overlap) weight = Math.min(weight, (i + 0.5) / overlap);
  }
  if (k < windows.length - 1) {
    const next = windows[k + 1];
    const overlap = w.start + w.frames - next.start;
    const fromEnd = w.frames - 1 - i;
    if (fromEnd < overlap) weight = Math.min(weight, (fromEnd + 0.5) / overlap);
  }
  return weight;
}

/** First audio sample of pose frame `frame` (frame t starts at t / 15 s). */
function sampleAt(frame: number): number {
  return Math.round((frame * SAMPLE_RATE) / POSE_FPS);
}

/** Samples [start, start + length) of `wave`, reflected past its end as the one-pass reflect-pad does. */
function waveSlice(wave: Float32Array, start: number, length: number): Float32Array {
  if (start + length <= wave.length) return wave.subarray(start, start + length);
  const out = new Float32Array(length);
  for (let i = 0; i < length; i++) out[i] = wave[reflectIndex(start + i, wave.length)];
  return out;
}

/**
 * Normalised pose (frames x 98, @s2g/model's `Prediction`) for a 16 kHz waveform of any length;
 * see the file comment. Audio of at most `windowFrames` frames gives exactly `predict`'s result.
 */
export async function predictWindowed(generator: Generator, wave: Float32Array, options: WindowOptions): Promise<Prediction> {
  const { windowFrames, overlapFrames, signal } = options;
  checkOptions(windowFrames, overlapFrames);
  const total = poseFramesForSamples(wave.length);
  const windows = planWindows(Math.max(1, total), windowFrames, overlapFrames);
  if (windows.length === 1) return predict(generator, wave, { maxChunkFrames: windowFrames });

  const poses = new Float32Array(total * FRAME_VALUES);
  const weights = new Float64Array(total);
  const windowSamples = sampleAt(windowFrames);
  for (let k = 0; k < windows.length; k++) {
    if (signal?.aborted) throw new S2gError(ErrorCode.UNAVAILABLE, 'prediction stopped: the service is shutting down');
    const w = windows[k];
    const mel = logMel(waveSlice(wave, sampleAt(w.start), windowSamples));
    const out = await predict(generator, mel, { poseFrames: w.frames, maxChunkFrames: windowFrames });
    for (let i = 0; i < w.frames; i++) {
      const weight = blendWeight(windows, k, i);
      const dst = (w.start + i) * FRAME_VALUES;
      const src = i * FRAME_VALUES;
      for (let v = 0; v < FRAME_VALUES; v++) poses[dst + v] += weight * out.poses[src + v];
      weights[w.start + i] += weight;
    }
  }
  for (let t = 0; t < total; t++) {
    const inv = 1 / weights[t];
    for (let v = 0; v < FRAME_VALUES; v++) poses[t * FRAME_VALUES + v] *= inv;
  }
  return { poses, frames: total, fps: POSE_FPS };
}
