import { SAMPLE_RATE, SPEC_FRAMES, WINDOW_AUDIO_SAMPLES, WINDOW_FRAMES, logMel } from '@s2g/audio';
import { FRAME_VALUES, NUM_KEYPOINTS, POSE_FPS } from '@s2g/pose';
import type { Rng } from '../src/prng';
import { mulberry32, randomNormal } from '../src/prng';

/**
 * A synthetic "speaker" whose pose is a fixed function of the audio: three tones (300 Hz, 1.2 kHz,
 * 3.5 kHz) with slowly varying loudness envelopes, and every pose value a fixed random mix of the
 * three envelopes. A model can only beat the still median pose by hearing the band energies.
 */
const TONES_HZ = [300, 1200, 3500];

export interface SyntheticSpeech {
  /** Log-mel of each window, (windows, 418, 64). */
  audio: Float32Array;
  /** Normalised pose of each window, (windows, 64, 98). */
  pose: Float32Array;
  windows: number;
}

function envelope(rng: Rng): (t: number) => number {
  const parts = Array.from({ length: 3 }, () => ({ f: 0.15 + 0.6 * rng(), phase: 2 * Math.PI * rng(), a: 0.5 + rng() }));
  const total = parts.reduce((s, p) => s + p.a, 0);
  return (t) => 0.5 + (0.5 * parts.reduce((s, p) => s + p.a * Math.sin(2 * Math.PI * p.f * t + p.phase), 0)) / total;
}

/** Mixing weights shared by every recording of the speaker (the "style"). */
export function speakerMix(seed: number): Float32Array {
  const rng = mulberry32(seed);
  const mix = new Float32Array(FRAME_VALUES * TONES_HZ.length);
  for (let i = 0; i < mix.length; i++) mix[i] = randomNormal(rng);
  // The neck (x0 and y0) is the root: always 0 after normalisation.
  for (let k = 0; k < TONES_HZ.length; k++) {
    mix[0 * TONES_HZ.length + k] = 0;
    mix[NUM_KEYPOINTS * TONES_HZ.length + k] = 0;
  }
  return mix;
}

/** Windows of WINDOW_FRAMES pose frames cut every `stride` frames from one recording of `seconds`. */
export function syntheticSpeech(seed: number, seconds: number, stride: number, mix: Float32Array): SyntheticSpeech {
  const rng = mulberry32(seed);
  const envs = TONES_HZ.map(() => envelope(rng));
  const samples = Math.round(seconds * SAMPLE_RATE);
  const wave = new Float32Array(samples);
  const phases = TONES_HZ.map(() => 2 * Math.PI * rng());
  for (let i = 0; i < samples; i++) {
    const t = i / SAMPLE_RATE;
    let v = 0.003 * (2 * rng() - 1);
    for (let k = 0; k < TONES_HZ.length; k++) v += 0.3 * envs[k](t) ** 2 * Math.sin(2 * Math.PI * TONES_HZ[k] * t + phases[k]);
    wave[i] = v;
  }
  const frames = Math.floor((samples - WINDOW_AUDIO_SAMPLES) / (SAMPLE_RATE / POSE_FPS));
  const pose = new Float32Array(frames * FRAME_VALUES);
  for (let f = 0; f < frames; f++) {
    const e = envs.map((env) => env(f / POSE_FPS) - 0.5);
    for (let j = 0; j < FRAME_VALUES; j++) {
      let v = 0;
      for (let k = 0; k < e.length; k++) v += mix[j * e.length + k] * e[k];
      pose[f * FRAME_VALUES + j] = 3 * v;
    }
  }
  const starts: number[] = [];
  for (let s = 0; s + WINDOW_FRAMES <= frames; s += stride) starts.push(s);
  const audio = new Float32Array(starts.length * SPEC_FRAMES * 64);
  const windowPose = new Float32Array(starts.length * WINDOW_FRAMES * FRAME_VALUES);
  starts.forEach((s, w) => {
    const from = Math.round((s * SAMPLE_RATE) / POSE_FPS);
    const mel = logMel(wave.subarray(from, from + WINDOW_AUDIO_SAMPLES));
    audio.set(mel.data, w * SPEC_FRAMES * 64);
    windowPose.set(pose.subarray(s * FRAME_VALUES, (s + WINDOW_FRAMES) * FRAME_VALUES), w * WINDOW_FRAMES * FRAME_VALUES);
  });
  return { audio, pose: windowPose, windows: starts.length };
}

/** Windows `indices` of a set, as one batch. */
export function pick(set: SyntheticSpeech, indices: readonly number[]): { audio: Float32Array; pose: Float32Array } {
  const a = SPEC_FRAMES * 64;
  const p = WINDOW_FRAMES * FRAME_VALUES;
  const audio = new Float32Array(indices.length * a);
  const pose = new Float32Array(indices.length * p);
  indices.forEach((w, i) => {
    audio.set(set.audio.subarray(w * a, (w + 1) * a), i * a);
    pose.set(set.pose.subarray(w * p, (w + 1) * p), i * p);
  });
  return { audio, pose };
}

/** Mean absolute error of holding the per-value median training pose still, on the 96 trained values. */
export function medianPoseL1(train: SyntheticSpeech, test: SyntheticSpeech): number {
  const trainFrames = train.pose.length / FRAME_VALUES;
  const testFrames = test.pose.length / FRAME_VALUES;
  let sum = 0;
  let count = 0;
  const column = new Float32Array(trainFrames);
  for (let j = 0; j < FRAME_VALUES; j++) {
    if (j === 0 || j === NUM_KEYPOINTS) continue;
    for (let f = 0; f < trainFrames; f++) column[f] = train.pose[f * FRAME_VALUES + j];
    column.sort();
    const median = column[Math.floor(trainFrames / 2)];
    for (let f = 0; f < testFrames; f++) sum += Math.abs(test.pose[f * FRAME_VALUES + j] - median);
    count += testFrames;
  }
  return sum / count;
}
