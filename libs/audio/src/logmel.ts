import { RealFft } from './fft';
import { sparseMelBands } from './mel';
import { FFT_SIZE, FRAME_LENGTH, HOP_LENGTH, LOG_OFFSET, NUM_BINS, NUM_MEL_BANDS, SAMPLE_RATE, numSpecFrames } from './params';

/** A log-mel spectrogram, time-major: `data[t * 64 + band]`. */
export interface LogMel {
  data: Float32Array;
  frames: number;
  bands: typeof NUM_MEL_BANDS;
}

/** Periodic Hann window of FRAME_LENGTH: w[n] = 0.5 - 0.5 cos(2 pi n / FRAME_LENGTH). */
export function hannWindow(length: number = FRAME_LENGTH): Float64Array {
  const w = new Float64Array(length);
  for (let n = 0; n < length; n++) w[n] = 0.5 - 0.5 * Math.cos((2 * Math.PI * n) / length);
  return w;
}

/** Log of the offset alone: the value every band takes for digital silence. */
export const LOG_SILENCE = Math.log(LOG_OFFSET);

interface Workspace {
  fft: RealFft;
  window: Float64Array;
  frame: Float64Array;
  mag: Float64Array;
  starts: Int32Array;
  lengths: Int32Array;
  weights: Float64Array;
}

let workspace: Workspace | undefined;

function getWorkspace(): Workspace {
  if (!workspace) {
    const bands = sparseMelBands();
    const starts = new Int32Array(NUM_MEL_BANDS);
    const lengths = new Int32Array(NUM_MEL_BANDS);
    let total = 0;
    for (let b = 0; b < NUM_MEL_BANDS; b++) total += bands[b].weights.length;
    // All band weights in one flat array, walked in order, for cache-friendly sparse products.
    const weights = new Float64Array(total);
    let o = 0;
    for (let b = 0; b < NUM_MEL_BANDS; b++) {
      starts[b] = bands[b].start;
      lengths[b] = bands[b].weights.length;
      weights.set(bands[b].weights, o);
      o += lengths[b];
    }
    workspace = {
      fft: new RealFft(FFT_SIZE),
      window: hannWindow(FRAME_LENGTH),
      frame: new Float64Array(FFT_SIZE),
      mag: new Float64Array(NUM_BINS),
      starts,
      lengths,
      weights,
    };
  }
  return workspace;
}

/**
 * Log-mel spectrogram exactly as ML-SPEC section 1: 16 kHz mono input, periodic Hann 400, hop 160,
 * FFT 512, magnitude, 64 TF-style mel bands 125..7500 Hz, ln(mel + 1e-6), no end padding.
 * Computed in float64, returned as float32. `out` (length >= frames * 64) may be passed to reuse memory.
 */
export function logMel(wave: Float32Array | Float64Array, out?: Float32Array): LogMel {
  const frames = numSpecFrames(wave.length);
  const size = frames * NUM_MEL_BANDS;
  if (out && out.length < size) throw new RangeError(`output buffer holds ${out.length} values, need ${size}`);
  const data = out ? out.subarray(0, size) : new Float32Array(size);
  const { fft, window, frame, mag, starts, lengths, weights } = getWorkspace();
  for (let t = 0; t < frames; t++) {
    const offset = t * HOP_LENGTH;
    // Samples 400..511 of `frame` stay zero: the window is zero-padded up to the FFT size.
    for (let n = 0; n < FRAME_LENGTH; n++) frame[n] = wave[offset + n] * window[n];
    fft.magnitude(frame, mag);
    const row = t * NUM_MEL_BANDS;
    let w = 0;
    for (let b = 0; b < NUM_MEL_BANDS; b++) {
      let sum = 0;
      const start = starts[b];
      const end = start + lengths[b];
      for (let k = start; k < end; k++) sum += mag[k] * weights[w++];
      data[row + b] = Math.log(sum + LOG_OFFSET);
    }
  }
  return { data, frames, bands: NUM_MEL_BANDS };
}

/** Time (seconds from the start of the waveform) of the centre of spectrogram frame `t`. */
export function specFrameTimeSec(t: number): number {
  return (t * HOP_LENGTH + FRAME_LENGTH / 2) / SAMPLE_RATE;
}
