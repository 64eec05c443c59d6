import { ErrorCode, S2gError } from '@s2g/contracts';
import { SAMPLE_RATE } from './params';

/** First `n` samples of `wave`, zero-padded at the end when it is shorter (ML-SPEC section 3). */
export function cropOrPad(wave: Float32Array, n: number): Float32Array {
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`target length must be a non-negative integer, got ${n}`);
  const out = new Float32Array(n);
  out.set(wave.length > n ? wave.subarray(0, n) : wave);
  return out;
}

/**
 * Extends `wave` at the end to `n` samples by mirror reflection without repeating the edge sample,
 * like numpy's `np.pad(wave, (0, n - len), mode='reflect')` (reflecting again as often as needed).
 * Used to pad inference audio up to a whole number of 32-frame blocks (ML-SPEC section 4).
 */
export function reflectPad(wave: Float32Array, n: number): Float32Array {
  if (!Number.isInteger(n) || n < wave.length) {
    throw new RangeError(`reflectPad target ${n} must be an integer >= the input length ${wave.length}`);
  }
  const len = wave.length;
  const out = new Float32Array(n);
  out.set(wave);
  if (n === len) return out;
  if (len === 0) throw new S2gError(ErrorCode.AUDIO_TOO_SHORT, 'cannot reflect-pad empty audio');
  if (len === 1) {
    out.fill(wave[0], 1);
    return out;
  }
  const period = 2 * (len - 1);
  for (let i = len; i < n; i++) {
    const m = i % period;
    out[i] = wave[m < len ? m : period - m];
  }
  return out;
}

/** Linear-interpolation resampler: fast, but aliases when downsampling; see `resample`. */
export function resampleLinear(wave: Float32Array, fromRate: number, toRate: number): Float32Array {
  checkRates(fromRate, toRate);
  if (fromRate === toRate) return wave.slice();
  const outLen = Math.floor((wave.length * toRate) / fromRate);
  const out = new Float32Array(outLen);
  const step = fromRate / toRate;
  const last = wave.length - 1;
  for (let i = 0; i < outLen; i++) {
    const pos = i * step;
    const j = Math.floor(pos);
    const frac = pos - j;
    const a = wave[j];
    const b = j < last ? wave[j + 1] : a;
    out[i] = a + (b - a) * frac;
  }
  return out;
}

/** Zero crossings of the sinc on each side of the kernel, and table resolution per crossing. */
const SINC_ZEROS = 16;
const TABLE_STEPS = 256;
let sincTable: Float64Array | undefined;

/** sinc(x) * Blackman(x / SINC_ZEROS) for x in [0, SINC_ZEROS], sampled TABLE_STEPS per unit. */
function kernelTable(): Float64Array {
  if (!sincTable) {
    const n = SINC_ZEROS * TABLE_STEPS + 2;
    sincTable = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const x = i / TABLE_STEPS;
      if (x >= SINC_ZEROS) continue;
      const sinc = x === 0 ? 1 : Math.sin(Math.PI * x) / (Math.PI * x);
      // Blackman window centred on 0, reaching zero at +-SINC_ZEROS.
      const u = x / SINC_ZEROS;
      const win = 0.42 + 0.5 * Math.cos(Math.PI * u) + 0.08 * Math.cos(2 * Math.PI * u);
      sincTable[i] = sinc * win;
    }
  }
  return sincTable;
}

/**
 * Band-limited resampler (Blackman-windowed sinc, 16 zero crossings per side, cutoff at 95% of the
 * lower Nyquist). Good enough for features; decoding through ffmpeg (libs/media) resamples too.
 */
export function resample(wave: Float32Array, fromRate: number, toRate: number): Float32Array {
  checkRates(fromRate, toRate);
  if (fromRate === toRate) return wave.slice();
  const table = kernelTable();
  const outLen = Math.floor((wave.length * toRate) / fromRate);
  const out = new Float32Array(outLen);
  // Cutoff relative to the input rate's Nyquist; widens the kernel when downsampling.
  const cutoff = 0.95 * Math.min(1, toRate / fromRate);
  const halfWidth = SINC_ZEROS / cutoff;
  const step = fromRate / toRate;
  const len = wave.length;
  for (let i = 0; i < outLen; i++) {
    const centre = i * step;
    const lo = Math.max(0, Math.ceil(centre - halfWidth));
    const hi = Math.min(len - 1, Math.floor(centre + halfWidth));
    let sum = 0;
    for (let j = lo; j <= hi; j++) {
      const x = Math.abs(j - centre) * cutoff * TABLE_STEPS;
      const k = Math.floor(x);
      const f = x - k;
      const w = table[k] + (table[k + 1] - table[k]) * f;
      sum += wave[j] * w;
    }
    out[i] = sum * cutoff;
  }
  return out;
}

function checkRates(fromRate: number, toRate: number): void {
  if (!(fromRate > 0) || !(toRate > 0) || !Number.isFinite(fromRate) || !Number.isFinite(toRate)) {
    throw new RangeError(`sample rates must be positive, got ${fromRate} -> ${toRate}`);
  }
}

/** Average of the channels, sample by sample. */
export function mixToMono(channels: readonly Float32Array[]): Float32Array {
  if (channels.length === 0) throw new S2gError(ErrorCode.MEDIA_UNSUPPORTED, 'audio has no channels');
  if (channels.length === 1) return channels[0].slice();
  const n = channels[0].length;
  const out = new Float32Array(n);
  for (const ch of channels) {
    if (ch.length !== n) throw new RangeError('channels differ in length');
    for (let i = 0; i < n; i++) out[i] += ch[i];
  }
  const inv = 1 / channels.length;
  for (let i = 0; i < n; i++) out[i] *= inv;
  return out;
}

/** Root mean square; 0 for empty input. */
export function rms(wave: ArrayLike<number>): number {
  const n = wave.length;
  if (n === 0) return 0;
  let s = 0;
  for (let i = 0; i < n; i++) s += wave[i] * wave[i];
  return Math.sqrt(s / n);
}

/** Largest absolute sample; 0 for empty input. */
export function peak(wave: ArrayLike<number>): number {
  let p = 0;
  for (let i = 0; i < wave.length; i++) {
    const a = Math.abs(wave[i]);
    if (a > p) p = a;
  }
  return p;
}

/** Level in dB relative to full scale (a full-scale square wave is 0 dBFS); -Infinity for zero. */
export function dbfs(level: number): number {
  return 20 * Math.log10(level);
}

/** Default silence threshold: -60 dBFS RMS, below any usable speech recording. */
export const SILENCE_DBFS = -60;

/** True when the RMS level is below `thresholdDbfs` (empty audio counts as silent). */
export function isSilent(wave: ArrayLike<number>, thresholdDbfs: number = SILENCE_DBFS): boolean {
  return wave.length === 0 || dbfs(rms(wave)) < thresholdDbfs;
}

export interface ToneOptions {
  sampleRate?: number;
  amplitude?: number;
  /** Initial phase in radians. */
  phase?: number;
}

/** A pure sine of `numSamples` samples; default 16 kHz, amplitude 0.5. */
export function sineWave(freqHz: number, numSamples: number, opts: ToneOptions = {}): Float32Array {
  const sr = opts.sampleRate ?? SAMPLE_RATE;
  const amp = opts.amplitude ?? 0.5;
  const phase = opts.phase ?? 0;
  const out = new Float32Array(numSamples);
  const w = (2 * Math.PI * freqHz) / sr;
  for (let i = 0; i < numSamples; i++) out[i] = amp * Math.sin(w * i + phase);
  return out;
}
