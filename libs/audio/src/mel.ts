import { MEL_HIGH_HZ, MEL_LOW_HZ, NUM_BINS, NUM_MEL_BANDS, SAMPLE_RATE } from './params';

/** HTK mel scale, as TensorFlow's `linear_to_mel_weight_matrix` uses it. */
const MEL_BREAK_HZ = 700;
const MEL_Q = 1127;

export function hzToMel(hz: number): number {
  return MEL_Q * Math.log(1 + hz / MEL_BREAK_HZ);
}

export function melToHz(mel: number): number {
  return MEL_BREAK_HZ * (Math.exp(mel / MEL_Q) - 1);
}

/** Centre frequency of each STFT bin: linspace(0, sampleRate/2, NUM_BINS). */
export function binFrequencies(): Float64Array {
  const out = new Float64Array(NUM_BINS);
  const nyquist = SAMPLE_RATE / 2;
  for (let k = 0; k < NUM_BINS; k++) out[k] = (nyquist * k) / (NUM_BINS - 1);
  return out;
}

/** The NUM_MEL_BANDS + 2 band edges in mel: linspace(mel(MEL_LOW_HZ), mel(MEL_HIGH_HZ), 66). */
export function melBandEdges(): Float64Array {
  const n = NUM_MEL_BANDS + 2;
  const lo = hzToMel(MEL_LOW_HZ);
  const hi = hzToMel(MEL_HIGH_HZ);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = lo + ((hi - lo) * i) / (n - 1);
  return out;
}

/** One band's non-zero weights: bins `start .. start + weights.length - 1`. */
export interface SparseBand {
  start: number;
  weights: Float64Array;
}

function computeDense(): Float64Array {
  const freqs = binFrequencies();
  const edges = melBandEdges();
  const w = new Float64Array(NUM_BINS * NUM_MEL_BANDS);
  // Bin 0 (DC) stays zero: TF drops it before weighting and pads a zero row back.
  for (let k = 1; k < NUM_BINS; k++) {
    const m = hzToMel(freqs[k]);
    for (let b = 0; b < NUM_MEL_BANDS; b++) {
      const lower = edges[b];
      const centre = edges[b + 1];
      const upper = edges[b + 2];
      const up = (m - lower) / (centre - lower);
      const down = (upper - m) / (upper - centre);
      w[k * NUM_MEL_BANDS + b] = Math.max(0, Math.min(up, down));
    }
  }
  return w;
}

let dense: Float64Array | undefined;
let sparse: SparseBand[] | undefined;

function denseCached(): Float64Array {
  dense ??= computeDense();
  return dense;
}

/**
 * The (NUM_BINS x NUM_MEL_BANDS) mel weight matrix, row-major (`w[bin * 64 + band]`), with
 * TensorFlow `linear_to_mel_weight_matrix` semantics (ML-SPEC section 1). Computed once; each call
 * returns a copy so callers cannot corrupt the cache.
 */
export function melWeightMatrix(): Float64Array {
  return denseCached().slice();
}

/** The same matrix as one contiguous run of non-zero weights per band (the triangles are convex). */
export function sparseMelBands(): readonly SparseBand[] {
  if (!sparse) {
    const w = denseCached();
    sparse = [];
    for (let b = 0; b < NUM_MEL_BANDS; b++) {
      let first = -1;
      let last = -1;
      for (let k = 0; k < NUM_BINS; k++) {
        if (w[k * NUM_MEL_BANDS + b] > 0) {
          if (first < 0) first = k;
          last = k;
        }
      }
      const weights = first < 0 ? new Float64Array(0) : new Float64Array(last - first + 1);
      for (let i = 0; i < weights.length; i++) weights[i] = w[(first + i) * NUM_MEL_BANDS + b];
      sparse.push({ start: Math.max(first, 0), weights });
    }
  }
  return sparse;
}
