import { describe, expect, it } from 'vitest';
import {
  FFT_SIZE,
  FRAME_LENGTH,
  HOP_LENGTH,
  LOG_OFFSET,
  MEL_HIGH_HZ,
  MEL_LOW_HZ,
  NUM_BINS,
  NUM_MEL_BANDS,
  RealFft,
  SAMPLE_RATE,
  SPEC_FRAMES,
  WINDOW_AUDIO_SAMPLES,
  binFrequencies,
  hannWindow,
  hzToMel,
  logMel,
  melBandEdges,
  melToHz,
  melWeightMatrix,
  numSpecFrames,
  sineWave,
} from '../src';

function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
}

function noise(n: number, seed = 1): Float32Array {
  const r = lcg(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = r() * 2 - 1;
  return out;
}

describe('RealFft', () => {
  it('matches a naive DFT', () => {
    const fft = new RealFft(64);
    const x = noise(64, 7);
    const re = new Float64Array(33);
    const im = new Float64Array(33);
    fft.forward(x, re, im);
    for (let k = 0; k <= 32; k++) {
      let r = 0;
      let i = 0;
      for (let n = 0; n < 64; n++) {
        r += x[n] * Math.cos((2 * Math.PI * k * n) / 64);
        i -= x[n] * Math.sin((2 * Math.PI * k * n) / 64);
      }
      expect(re[k]).toBeCloseTo(r, 9);
      expect(im[k]).toBeCloseTo(i, 9);
    }
  });

  it('gives amplitude * sum(window) / 2 for a windowed sine on a bin centre', () => {
    // Bin 32 of a 512-point FFT at 16 kHz is exactly 1000 Hz.
    const fft = new RealFft(FFT_SIZE);
    const w = hannWindow();
    const s = sineWave(1000, FRAME_LENGTH, { amplitude: 0.5 });
    const frame = new Float64Array(FFT_SIZE);
    for (let n = 0; n < FRAME_LENGTH; n++) frame[n] = s[n] * w[n];
    const mag = new Float64Array(NUM_BINS);
    fft.magnitude(frame, mag);
    let argmax = 0;
    for (let k = 0; k < NUM_BINS; k++) if (mag[k] > mag[argmax]) argmax = k;
    expect(argmax).toBe(32);
    // The periodic Hann window of length 400 sums to exactly 200.
    expect(mag[32]).toBeCloseTo((0.5 / 2) * 200, 3);
  });

  it('rejects sizes that are not powers of two', () => {
    expect(() => new RealFft(400)).toThrow(RangeError);
  });
});

describe('hannWindow', () => {
  it('is periodic: w[0] = 0, w[N/2] = 1, and it does not return to 0 at the end', () => {
    const w = hannWindow();
    expect(w.length).toBe(400);
    expect(w[0]).toBe(0);
    expect(w[200]).toBe(1);
    expect(w[399]).toBeCloseTo(0.5 - 0.5 * Math.cos((2 * Math.PI * 399) / 400), 15);
    expect(w[399]).toBeGreaterThan(0);
  });
});

describe('mel weight matrix (TF linear_to_mel_weight_matrix semantics)', () => {
  const w = melWeightMatrix();
  const edges = melBandEdges();
  const freqs = binFrequencies();

  it('has 257 x 64 weights in [0, 1] with the DC row zero', () => {
    expect(w.length).toBe(NUM_BINS * NUM_MEL_BANDS);
    for (const v of w) {
      expect(v).toBeGreaterThanOrEqual(0);
      expect(v).toBeLessThanOrEqual(1);
    }
    for (let b = 0; b < NUM_MEL_BANDS; b++) expect(w[b]).toBe(0);
  });

  it('uses HTK mel and the documented bin frequencies and edges', () => {
    expect(hzToMel(700)).toBeCloseTo(1127 * Math.log(2), 12);
    expect(melToHz(hzToMel(1234.5))).toBeCloseTo(1234.5, 9);
    expect(freqs[0]).toBe(0);
    expect(freqs[1]).toBe(31.25);
    expect(freqs[256]).toBe(8000);
    expect(edges.length).toBe(66);
    expect(edges[0]).toBeCloseTo(hzToMel(MEL_LOW_HZ), 12);
    expect(edges[65]).toBeCloseTo(hzToMel(MEL_HIGH_HZ), 12);
  });

  it('is zero outside 125..7500 Hz', () => {
    for (let k = 0; k < NUM_BINS; k++) {
      if (freqs[k] > MEL_LOW_HZ && freqs[k] < MEL_HIGH_HZ) continue;
      for (let b = 0; b < NUM_MEL_BANDS; b++) expect(w[k * NUM_MEL_BANDS + b]).toBe(0);
    }
  });

  it('peaks each band at the bin nearest its centre in mel, and is triangular in mel', () => {
    for (let b = 0; b < NUM_MEL_BANDS; b++) {
      let best = 0;
      let nearest = 1;
      for (let k = 1; k < NUM_BINS; k++) {
        if (w[k * NUM_MEL_BANDS + b] > w[best * NUM_MEL_BANDS + b]) best = k;
        if (Math.abs(hzToMel(freqs[k]) - edges[b + 1]) < Math.abs(hzToMel(freqs[nearest]) - edges[b + 1])) nearest = k;
      }
      expect(best).toBe(nearest);
      const m = hzToMel(freqs[best]);
      const expected = 1 - Math.abs(m - edges[b + 1]) / (edges[b + 2] - edges[b + 1]);
      expect(w[best * NUM_MEL_BANDS + b]).toBeCloseTo(expected, 12);
    }
  });

  it('reproduces values computed with numpy from the TF formula', () => {
    // Band 0 has a single non-zero weight, at bin 5 (156.25 Hz); 1000 Hz falls between bands 19 and 20.
    expect(w[5 * NUM_MEL_BANDS + 0]).toBeCloseTo(0.9476904648443717, 12);
    expect(w[32 * NUM_MEL_BANDS + 19]).toBeCloseTo(0.5363006319091846, 12);
    expect(w[32 * NUM_MEL_BANDS + 20]).toBeCloseTo(0.4636993680908154, 12);
    let total = 0;
    for (const v of w) total += v;
    expect(total).toBeCloseTo(230.9135991608477, 9);
  });

  it('returns a copy, so callers cannot corrupt the cached matrix', () => {
    const a = melWeightMatrix();
    a.fill(7);
    expect(melWeightMatrix()[5 * NUM_MEL_BANDS]).toBeCloseTo(0.9476904648443717, 12);
  });
});

describe('logMel', () => {
  it('follows the frame-count formula without end padding', () => {
    expect(numSpecFrames(399)).toBe(0);
    expect(numSpecFrames(400)).toBe(1);
    expect(numSpecFrames(559)).toBe(1);
    expect(numSpecFrames(560)).toBe(2);
    expect(logMel(new Float32Array(399)).frames).toBe(0);
    expect(logMel(new Float32Array(560)).frames).toBe(2);
  });

  it('turns a 67,267-sample window into 418 x 64 values', () => {
    const m = logMel(new Float32Array(WINDOW_AUDIO_SAMPLES));
    expect(m.frames).toBe(SPEC_FRAMES);
    expect(m.frames).toBe(418);
    expect(m.bands).toBe(64);
    expect(m.data.length).toBe(418 * 64);
  });

  it('gives exactly log(1e-6) everywhere for digital silence', () => {
    const m = logMel(new Float32Array(16000));
    const expected = Math.fround(Math.log(LOG_OFFSET));
    for (const v of m.data) expect(v).toBe(expected);
  });

  it('puts a sine at a band centre frequency into that band', () => {
    const edges = melBandEdges();
    for (const band of [5, 12, 20, 33, 47, 63]) {
      const f = melToHz(edges[band + 1]);
      const m = logMel(sineWave(f, SAMPLE_RATE));
      const mean = new Float64Array(NUM_MEL_BANDS);
      for (let t = 0; t < m.frames; t++) for (let b = 0; b < NUM_MEL_BANDS; b++) mean[b] += m.data[t * NUM_MEL_BANDS + b];
      let argmax = 0;
      for (let b = 1; b < NUM_MEL_BANDS; b++) if (mean[b] > mean[argmax]) argmax = b;
      expect(argmax, `sine at ${f.toFixed(1)} Hz`).toBe(band);
    }
  });

  it('matches a naive float64 implementation (direct DFT, dense weights from the formula)', () => {
    const wave = noise(2000, 3);
    const m = logMel(wave);
    const frames = 1 + Math.floor((wave.length - FRAME_LENGTH) / HOP_LENGTH);
    expect(m.frames).toBe(frames);
    const mel = (f: number): number => 1127 * Math.log(1 + f / 700);
    const lo = mel(125);
    const hi = mel(7500);
    const edge = (i: number): number => lo + ((hi - lo) * i) / 65;
    for (let t = 0; t < frames; t++) {
      const mag: number[] = [];
      for (let k = 0; k < 257; k++) {
        let re = 0;
        let im = 0;
        for (let n = 0; n < 400; n++) {
          const x = wave[t * 160 + n] * (0.5 - 0.5 * Math.cos((2 * Math.PI * n) / 400));
          re += x * Math.cos((2 * Math.PI * k * n) / 512);
          im -= x * Math.sin((2 * Math.PI * k * n) / 512);
        }
        mag.push(Math.hypot(re, im));
      }
      for (let b = 0; b < 64; b++) {
        let s = 0;
        for (let k = 1; k < 257; k++) {
          const mk = mel((8000 * k) / 256);
          const wgt = Math.max(0, Math.min((mk - edge(b)) / (edge(b + 1) - edge(b)), (edge(b + 2) - mk) / (edge(b + 2) - edge(b + 1))));
          s += wgt * mag[k];
        }
        expect(m.data[t * 64 + b]).toBeCloseTo(Math.log(s + 1e-6), 4);
      }
    }
  });

  it('writes into a caller buffer when given one', () => {
    const wave = noise(4000, 5);
    const buf = new Float32Array(1000 * 64);
    const a = logMel(wave, buf);
    const b = logMel(wave);
    expect(a.data.buffer).toBe(buf.buffer);
    expect(Array.from(a.data)).toEqual(Array.from(b.data));
    expect(() => logMel(wave, new Float32Array(10))).toThrow(RangeError);
  });
});
