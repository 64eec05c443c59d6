import * as tf from '@tensorflow/tfjs';
import { ErrorCode, S2gError } from '@s2g/contracts';
import { FRAME_LENGTH, HOP_LENGTH, NUM_MEL_BANDS, SAMPLE_RATE, logMel, numSpecFrames } from '@s2g/audio';
import { FRAME_VALUES, POSE_FPS } from '@s2g/pose';
import type { Generator } from './generator';
import { FRAME_MULTIPLE } from './generator';
import { INFERENCE } from './network';

/** A log-mel spectrogram, time-major: `data[t * 64 + band]` (what @s2g/audio's `logMel` returns). */
export interface LogMelInput {
  data: Float32Array;
  frames: number;
}

export interface PredictOptions {
  /** Pose frames to predict for a log-mel input; default from the spectrogram's length. */
  poseFrames?: number;
  /**
   * Longest stretch, in pose frames, run through the network at once (default 1024, about 68 s).
   * Longer audio runs in windows of this size that overlap by `contextFrames` on each side, keeping
   * each window's centre, so memory stays flat however long the audio is.
   */
  maxChunkFrames?: number;
  /** Context on each side of a chunk, in pose frames (default 64); only used when chunking. */
  contextFrames?: number;
}

export interface Prediction {
  /** Normalised pose, (frames, 98) row-major in x0..x48, y0..y48 order; decode with the speaker's statistics. */
  poses: Float32Array;
  frames: number;
  fps: number;
}

export const DEFAULT_MAX_CHUNK_FRAMES = 1024;
export const DEFAULT_CONTEXT_FRAMES = 64;

/** Spectrogram frames per pose frame (16000 / 15 / 160 = 6.67). */
const SPEC_PER_POSE = SAMPLE_RATE / POSE_FPS / HOP_LENGTH;

/** np.pad(mode='reflect') index for any i, also when the padding is longer than the signal. */
export function reflectIndex(i: number, n: number): number {
  if (n === 1) return 0;
  const period = 2 * (n - 1);
  const m = ((i % period) + period) % period;
  return m < n ? m : period - m;
}

/** Reflect-pads (or crops) a waveform to `length` samples, as np.pad(mode='reflect') at the end. */
export function reflectPad(wave: Float32Array, length: number): Float32Array {
  if (length <= wave.length) return wave.subarray(0, length);
  const out = new Float32Array(length);
  out.set(wave);
  for (let i = wave.length; i < length; i++) out[i] = wave[reflectIndex(i, wave.length)];
  return out;
}

/** Pose frames covered by `samples` of 16 kHz audio: one per 1/15 s started. */
export function poseFramesForSamples(samples: number): number {
  return Math.ceil((samples * POSE_FPS) / SAMPLE_RATE);
}

function padUp(frames: number): number {
  return Math.ceil(frames / FRAME_MULTIPLE) * FRAME_MULTIPLE;
}

/** Samples of audio under `frames` pose frames (ML-SPEC section 4: T * 16000 / 15). */
function samplesForPoseFrames(frames: number): number {
  return Math.round((frames * SAMPLE_RATE) / POSE_FPS);
}

/** Rows [start, start + count) of a (frames, 64) spectrogram, reflecting past either end. */
function specRows(mel: LogMelInput, start: number, count: number): Float32Array {
  const out = new Float32Array(count * NUM_MEL_BANDS);
  for (let r = 0; r < count; r++) {
    const src = reflectIndex(start + r, mel.frames) * NUM_MEL_BANDS;
    out.set(mel.data.subarray(src, src + NUM_MEL_BANDS), r * NUM_MEL_BANDS);
  }
  return out;
}

async function runWindow(generator: Generator, spec: Float32Array, specFrames: number, frames: number): Promise<Float32Array> {
  const out = tf.tidy(() => generator.apply(tf.tensor4d(spec, [1, specFrames, NUM_MEL_BANDS, 1]), frames, INFERENCE));
  try {
    return (await out.data()) as Float32Array;
  } finally {
    out.dispose();
  }
}

function positiveMultiple(name: string, value: number): number {
  if (!Number.isInteger(value) || value <= 0 || value % FRAME_MULTIPLE !== 0) {
    throw new S2gError(ErrorCode.BAD_USER_INPUT, `${name} must be a positive multiple of ${FRAME_MULTIPLE}, got ${value}`);
  }
  return value;
}

/**
 * Predicts normalised pose for audio of any length (ML-SPEC section 4): T = the audio's pose frame
 * count, padded up to a multiple of 32 with the audio reflect-padded to T * 16000 / 15 samples; the
 * prediction is cut back to T. `input` is a 16 kHz mono waveform or its log-mel spectrogram (then the
 * spectrogram is reflect-padded along time instead).
 */
export async function predict(generator: Generator, input: Float32Array | LogMelInput, options: PredictOptions = {}): Promise<Prediction> {
  const maxChunk = positiveMultiple('maxChunkFrames', options.maxChunkFrames ?? DEFAULT_MAX_CHUNK_FRAMES);
  const context = options.contextFrames ?? DEFAULT_CONTEXT_FRAMES;
  if (context !== 0) positiveMultiple('contextFrames', context);

  let frames: number;
  let mel: LogMelInput;
  if (input instanceof Float32Array) {
    frames = poseFramesForSamples(input.length);
    if (input.length < FRAME_LENGTH) {
      throw new S2gError(ErrorCode.AUDIO_TOO_SHORT, `audio of ${input.length} samples is shorter than one ${FRAME_LENGTH}-sample analysis frame`);
    }
    mel = logMel(reflectPad(input, samplesForPoseFrames(padUp(frames))));
  } else {
    if (input.frames <= 0 || input.data.length !== input.frames * NUM_MEL_BANDS) {
      throw new S2gError(ErrorCode.BAD_USER_INPUT, `log-mel input must hold frames * ${NUM_MEL_BANDS} values (frames ${input.frames}, values ${input.data.length})`);
    }
    frames = options.poseFrames ?? poseFramesForSamples((input.frames - 1) * HOP_LENGTH + FRAME_LENGTH);
    if (!Number.isInteger(frames) || frames <= 0) throw new S2gError(ErrorCode.BAD_USER_INPUT, `poseFrames must be a positive integer, got ${frames}`);
    mel = input;
  }
  const padded = padUp(frames);
  const poses = new Float32Array(frames * FRAME_VALUES);

  if (padded <= maxChunk) {
    const specFrames = numSpecFrames(samplesForPoseFrames(padded));
    const out = await runWindow(generator, specRows(mel, 0, specFrames), specFrames, padded);
    poses.set(out.subarray(0, poses.length));
    return { poses, frames, fps: POSE_FPS };
  }

  // Every window has the same size, so the network sees one input shape throughout.
  const window = Math.min(padded, maxChunk + 2 * context);
  const windowSpec = numSpecFrames(samplesForPoseFrames(window));
  for (let core = 0; core < frames; core += maxChunk) {
    const start = Math.max(0, Math.min(core - context, padded - window));
    const specStart = Math.round(start * SPEC_PER_POSE);
    const out = await runWindow(generator, specRows(mel, specStart, windowSpec), windowSpec, window);
    const end = Math.min(core + maxChunk, frames);
    poses.set(out.subarray((core - start) * FRAME_VALUES, (end - start) * FRAME_VALUES), core * FRAME_VALUES);
  }
  return { poses, frames, fps: POSE_FPS };
}
