import type { LogMel } from './logmel';
import { specFrameTimeSec } from './logmel';
import { HOP_LENGTH, LOG_OFFSET, NUM_MEL_BANDS, SAMPLE_RATE } from './params';

/** Dynamic range kept by the onset envelope: components 60 dB below the loudest are ignored. */
const ONSET_RANGE = 1000;

/**
 * Onset strength per spectrogram frame: spectral flux of a compressed mel spectrogram, the mean over
 * bands of the positive increase of ln(1 + 1000 * mel / max(mel)) from the previous frame. Scaling by
 * the clip's loudest value makes it level-independent; the compression keeps the flux of faint
 * components (window leakage, the noise floor) from counting as onsets, which plain log-mel flux does.
 * Frame 0 has no predecessor and gets 0; silence gives all zeros.
 */
export function onsetEnvelope(mel: LogMel): Float32Array {
  const { data, frames } = mel;
  const env = new Float32Array(frames);
  let max = 0;
  for (let i = 0; i < data.length; i++) max = Math.max(max, Math.exp(data[i]) - LOG_OFFSET);
  if (max <= 0) return env;
  const gain = ONSET_RANGE / max;
  const compressed = new Float64Array(data.length);
  for (let i = 0; i < data.length; i++) compressed[i] = Math.log1p(gain * Math.max(0, Math.exp(data[i]) - LOG_OFFSET));
  for (let t = 1; t < frames; t++) {
    let s = 0;
    const row = t * NUM_MEL_BANDS;
    const prev = row - NUM_MEL_BANDS;
    for (let b = 0; b < NUM_MEL_BANDS; b++) {
      const d = compressed[row + b] - compressed[prev + b];
      if (d > 0) s += d;
    }
    env[t] = s / NUM_MEL_BANDS;
  }
  return env;
}

export interface OnsetOptions {
  /** Window (s) before a peak within which it must be the maximum. */
  preMaxSec?: number;
  /** Window (s) on each side for the local mean the peak must exceed by `delta`. */
  avgSec?: number;
  /** Threshold above the local mean, relative to the envelope's maximum. */
  delta?: number;
  /** Absolute threshold above the local mean (envelope units), so a flat envelope has no onsets. */
  minStrength?: number;
  /** Minimum gap (s) between onsets. */
  waitSec?: number;
}

/**
 * Onset times (seconds from the start of the waveform) by peak picking on `onsetEnvelope`, with
 * librosa's `onset_detect` defaults (30 ms pre-max, 100 ms averaging, delta 0.07 of the maximum,
 * 30 ms wait) plus an absolute margin of 0.1. Silence and steady tones have no onsets.
 */
export function detectOnsets(mel: LogMel, opts: OnsetOptions = {}): number[] {
  const env = onsetEnvelope(mel);
  const fps = SAMPLE_RATE / HOP_LENGTH;
  const preMax = Math.max(1, Math.round((opts.preMaxSec ?? 0.03) * fps));
  const avg = Math.max(1, Math.round((opts.avgSec ?? 0.1) * fps));
  const wait = Math.max(0, Math.round((opts.waitSec ?? 0.03) * fps));
  let max = 0;
  for (const v of env) if (v > max) max = v;
  if (max <= 0) return [];
  const margin = Math.max((opts.delta ?? 0.07) * max, opts.minStrength ?? 0.1);
  const times: number[] = [];
  let last = -Infinity;
  for (let t = 1; t < env.length; t++) {
    const v = env[t];
    let isMax = v > 0;
    for (let j = Math.max(0, t - preMax); j <= Math.min(env.length - 1, t + 1) && isMax; j++) {
      if (j !== t && env[j] > v) isMax = false;
    }
    if (!isMax) continue;
    let sum = 0;
    const lo = Math.max(0, t - avg);
    const hi = Math.min(env.length - 1, t + avg);
    for (let j = lo; j <= hi; j++) sum += env[j];
    if (v < sum / (hi - lo + 1) + margin) continue;
    if (t - last <= wait) continue;
    times.push(specFrameTimeSec(t));
    last = t;
  }
  return times;
}

/**
 * A fixed-size summary of a log-mel window: the mean of each band over `segments` equal stretches
 * of time (segments * 64 values, segment-major). Used to find the nearest training window by audio.
 */
export function pooledLogMel(mel: LogMel, segments = 8): Float32Array {
  if (!Number.isInteger(segments) || segments < 1) throw new RangeError(`segments must be a positive integer, got ${segments}`);
  const out = new Float32Array(segments * NUM_MEL_BANDS);
  if (mel.frames === 0) return out;
  for (let s = 0; s < segments; s++) {
    const lo = Math.floor((s * mel.frames) / segments);
    const hi = Math.max(lo + 1, Math.floor(((s + 1) * mel.frames) / segments));
    for (let t = lo; t < hi && t < mel.frames; t++) {
      for (let b = 0; b < NUM_MEL_BANDS; b++) out[s * NUM_MEL_BANDS + b] += mel.data[t * NUM_MEL_BANDS + b];
    }
    const n = Math.min(hi, mel.frames) - lo;
    for (let b = 0; b < NUM_MEL_BANDS; b++) out[s * NUM_MEL_BANDS + b] /= n;
  }
  return out;
}
