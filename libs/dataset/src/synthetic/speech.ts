import { SAMPLE_RATE } from '@s2g/audio';
import type { Rng } from './rng';
import type { SpeakerStyle } from './style';

/**
 * Speech-like audio for a synthetic speaker. Not words, but the properties a gesture model listens
 * to: phrases separated by pauses, syllables at a few per second with energy bursts, stressed
 * syllables louder and with a pitch accent, a falling pitch line over each phrase, harmonics shaped
 * by vowel formants, consonant noise and a little background noise.
 */

/** Rate (Hz) of the control signals that drive both the waveform and the gestures. */
export const CONTROL_RATE = 200;

export interface Syllable {
  start: number;
  duration: number;
  /** When the vowel (voiced part) begins; the consonant fills `start..vowelStart`. */
  vowelStart: number;
  stressed: boolean;
  /** Peak loudness of the vowel, 0..1. */
  amplitude: number;
  vowel: number;
  consonant: 'none' | 'stop' | 'fricative';
  /** Relative pitch rise of a stressed syllable (0 when unstressed). */
  accent: number;
}

export interface Phrase {
  start: number;
  end: number;
  syllables: Syllable[];
}

export interface SpeechScore {
  duration: number;
  phrases: Phrase[];
}

/** Plans phrases and syllables for `duration` seconds of speech. */
export function planSpeech(rng: Rng, style: SpeakerStyle, duration: number): SpeechScore {
  const phrases: Phrase[] = [];
  let t = rng.range(0.2, 0.6);
  while (t < duration - 0.8) {
    const target = Math.min(rng.range(1.2, 3.6), duration - 0.3 - t);
    const syllables: Syllable[] = [];
    let s = t;
    while (s - t < target) {
      const last = s - t + 2 / style.tempo >= target;
      const duration = (rng.range(0.7, 1.3) * (last ? 1.4 : 1)) / style.tempo;
      const stressed = syllables.length === 0 ? rng.chance(0.6) : rng.chance(0.28);
      const consonant = rng.chance(0.55) ? (rng.chance(0.5) ? 'fricative' : 'stop') : 'none';
      const cLen = consonant === 'none' ? 0.01 : Math.min(0.35 * duration, rng.range(0.04, 0.09));
      syllables.push({
        start: s,
        duration,
        vowelStart: s + cLen,
        stressed,
        amplitude: stressed ? rng.range(0.8, 1) : rng.range(0.3, 0.6),
        vowel: Math.floor(rng.next() * VOWELS.length),
        consonant,
        accent: stressed ? rng.range(0.15, 0.35) : 0,
      });
      s += duration;
    }
    phrases.push({ start: t, end: s, syllables });
    t = s + (rng.chance(0.15) ? rng.range(1.5, 2.5) : rng.range(0.35, 1.1));
  }
  return { duration, phrases };
}

/** F1, F2, F3 (Hz) of a, i, u, e, o. */
const VOWELS: readonly (readonly [number, number, number])[] = [
  [730, 1090, 2440],
  [270, 2290, 3010],
  [300, 870, 2240],
  [530, 1840, 2480],
  [570, 840, 2410],
];
const BANDWIDTHS = [90, 110, 170];
const FORMANT_GAINS = [1, 0.55, 0.3];

export interface SpeechControls {
  rate: number;
  /** Loudness of the voiced sound, 0..1. */
  voiced: Float32Array;
  /** Loudness of consonant noise, 0..1. */
  noise: Float32Array;
  /** Fundamental frequency (Hz); kept smooth through unvoiced stretches. */
  f0: Float32Array;
  /** Formant frequencies, three per step. */
  formants: Float32Array;
  /** Stressed-syllable vowel onsets (s) and their loudness: the moments gesture strokes land on. */
  stresses: { time: number; strength: number }[];
}

/** Control signals at CONTROL_RATE from a score. */
export function speechControls(rng: Rng, style: SpeakerStyle, score: SpeechScore): SpeechControls {
  const n = Math.ceil(score.duration * CONTROL_RATE) + 1;
  const voiced = new Float32Array(n);
  const noise = new Float32Array(n);
  const f0 = new Float32Array(n);
  const formants = new Float32Array(n * 3);
  const stresses: { time: number; strength: number }[] = [];
  const formantScale = style.pitchHz > 160 ? 1.15 : 1;
  let vowel: readonly number[] = VOWELS[0];
  let drift = 0;
  let phraseIdx = 0;
  let sylIdx = 0;
  for (let i = 0; i < n; i++) {
    const t = i / CONTROL_RATE;
    // Slow pitch wander so no two phrases sound alike.
    drift = 0.995 * drift + 0.002 * rng.normal();
    while (phraseIdx < score.phrases.length && score.phrases[phraseIdx].end < t) {
      phraseIdx++;
      sylIdx = 0;
    }
    const phrase = score.phrases[phraseIdx];
    let pitch = style.pitchHz * (1 + drift);
    if (phrase && t >= phrase.start) {
      const progress = (t - phrase.start) / (phrase.end - phrase.start);
      pitch *= 1.12 - 0.25 * progress;
      while (sylIdx < phrase.syllables.length && phrase.syllables[sylIdx].start + phrase.syllables[sylIdx].duration < t) sylIdx++;
      const syl = phrase.syllables[sylIdx];
      if (syl && t >= syl.start) {
        vowel = VOWELS[syl.vowel];
        const end = syl.start + 0.9 * syl.duration;
        if (t >= syl.vowelStart && t < end) {
          const attack = Math.min(1, (t - syl.vowelStart) / 0.025);
          const release = Math.min(1, (end - t) / 0.04);
          voiced[i] = syl.amplitude * smooth(attack) * smooth(release);
        }
        if (t < syl.vowelStart) {
          const x = (t - syl.start) / (syl.vowelStart - syl.start);
          if (syl.consonant === 'fricative') noise[i] = 0.5 * syl.amplitude * Math.sin(Math.PI * x);
          else if (syl.consonant === 'stop' && x > 0.7) noise[i] = 0.8 * syl.amplitude;
        }
        if (syl.accent > 0) {
          const mid = syl.vowelStart + 0.3 * syl.duration;
          const w = (t - mid) / (0.6 * syl.duration);
          if (Math.abs(w) < 1) pitch *= 1 + syl.accent * 0.5 * (1 + Math.cos(Math.PI * w));
        }
      }
    }
    f0[i] = pitch;
    for (let k = 0; k < 3; k++) {
      // Formants glide towards the current vowel (about 30 ms) instead of jumping.
      const prev = i > 0 ? formants[(i - 1) * 3 + k] : vowel[k] * formantScale;
      formants[i * 3 + k] = prev + 0.15 * (vowel[k] * formantScale - prev);
    }
  }
  for (const p of score.phrases) {
    for (const s of p.syllables) if (s.stressed) stresses.push({ time: s.vowelStart, strength: s.amplitude });
  }
  return { rate: CONTROL_RATE, voiced, noise, f0, formants, stresses };
}

function smooth(x: number): number {
  return 0.5 - 0.5 * Math.cos(Math.PI * Math.max(0, Math.min(1, x)));
}

/** The waveform (16 kHz, about -1..1) for the control signals. */
export function renderSpeech(rng: Rng, controls: SpeechControls, duration: number): Float32Array {
  const total = Math.round(duration * SAMPLE_RATE);
  const out = new Float32Array(total);
  const hop = SAMPLE_RATE / controls.rate;
  const maxHarmonics = 64;
  const ampA = new Float32Array(maxHarmonics + 1);
  const ampB = new Float32Array(maxHarmonics + 1);
  let phase = 0;
  let prevNoise = 0;
  const harmonicAmps = (step: number, into: Float32Array): void => {
    into.fill(0);
    const j = Math.min(step, controls.voiced.length - 1);
    const loud = controls.voiced[j];
    if (loud <= 0) return;
    const f = controls.f0[j];
    for (let k = 1; k <= maxHarmonics && k * f < 5000; k++) {
      let gain = 0.04;
      for (let m = 0; m < 3; m++) {
        const d = (k * f - controls.formants[j * 3 + m]) / BANDWIDTHS[m];
        gain += FORMANT_GAINS[m] / (1 + d * d);
      }
      into[k] = (loud * gain) / k ** 0.7;
    }
  };
  for (let step = 0; step * hop < total; step++) {
    harmonicAmps(step, ampA);
    harmonicAmps(step + 1, ampB);
    const fA = controls.f0[Math.min(step, controls.f0.length - 1)];
    const fB = controls.f0[Math.min(step + 1, controls.f0.length - 1)];
    const nA = controls.noise[Math.min(step, controls.noise.length - 1)];
    const nB = controls.noise[Math.min(step + 1, controls.noise.length - 1)];
    const first = Math.round(step * hop);
    const last = Math.min(total, Math.round((step + 1) * hop));
    for (let i = first; i < last; i++) {
      const w = (i - first) / hop;
      phase += (2 * Math.PI * (fA + w * (fB - fA))) / SAMPLE_RATE;
      if (phase > 2 * Math.PI) phase -= 2 * Math.PI;
      // sin(k*phase) by the Chebyshev recurrence: one sin and one cos per sample for all harmonics.
      const c2 = 2 * Math.cos(phase);
      let s1 = Math.sin(phase);
      let s0 = 0;
      let v = 0;
      for (let k = 1; k <= maxHarmonics; k++) {
        if (ampA[k] === 0 && ampB[k] === 0) break;
        v += (ampA[k] + w * (ampB[k] - ampA[k])) * s1;
        const s2 = c2 * s1 - s0;
        s0 = s1;
        s1 = s2;
      }
      const white = rng.next() * 2 - 1;
      // First difference = crude high-pass: consonant noise is hissy, not rumbly.
      const hiss = white - prevNoise;
      prevNoise = white;
      const consonant = (nA + w * (nB - nA)) * 0.25 * hiss;
      const floor = 0.004 * white;
      out[i] = Math.tanh(0.8 * v + consonant + floor);
    }
  }
  return out;
}
