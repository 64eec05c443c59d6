import { describe, expect, it } from 'vitest';
import { ErrorCode, S2gError } from '@s2g/contracts';
import { RealFft, cropOrPad, dbfs, isSilent, mixToMono, peak, reflectPad, resample, resampleLinear, rms, sineWave } from '../src';

/** Amplitude of the component at `freq` (Hz), by correlating with sin and cos. */
function toneAmplitude(x: Float32Array, freq: number, rate: number): number {
  let s = 0;
  let c = 0;
  // Skip the edges, where a resampler's kernel runs off the signal.
  const lo = Math.floor(x.length * 0.1);
  const hi = Math.floor(x.length * 0.9);
  for (let i = lo; i < hi; i++) {
    s += x[i] * Math.sin((2 * Math.PI * freq * i) / rate);
    c += x[i] * Math.cos((2 * Math.PI * freq * i) / rate);
  }
  return (2 * Math.hypot(s, c)) / (hi - lo);
}

describe('cropOrPad', () => {
  it('keeps the start and zero-pads the end', () => {
    const w = Float32Array.from([1, 2, 3]);
    expect(Array.from(cropOrPad(w, 5))).toEqual([1, 2, 3, 0, 0]);
    expect(Array.from(cropOrPad(w, 2))).toEqual([1, 2]);
    expect(cropOrPad(w, 3)).not.toBe(w);
  });
});

describe('reflectPad', () => {
  it('matches numpy reflect mode, including reflecting more than once', () => {
    const w = Float32Array.from([1, 2, 3]);
    // np.pad([1,2,3], (0, 7), mode='reflect') -> [1 2 3 2 1 2 3 2 1 2]
    expect(Array.from(reflectPad(w, 10))).toEqual([1, 2, 3, 2, 1, 2, 3, 2, 1, 2]);
    expect(Array.from(reflectPad(Float32Array.from([4]), 3))).toEqual([4, 4, 4]);
    expect(Array.from(reflectPad(w, 3))).toEqual([1, 2, 3]);
  });

  it('rejects shrinking and empty input', () => {
    expect(() => reflectPad(Float32Array.from([1, 2]), 1)).toThrow(RangeError);
    try {
      reflectPad(new Float32Array(0), 4);
      expect.unreachable();
    } catch (e) {
      expect((e as S2gError).code).toBe(ErrorCode.AUDIO_TOO_SHORT);
    }
  });
});

describe('resampling', () => {
  it('keeps an in-band tone at its frequency and level', () => {
    const x = sineWave(1000, 48_000, { sampleRate: 48_000, amplitude: 0.5 });
    for (const y of [resample(x, 48_000, 16_000), resampleLinear(x, 48_000, 16_000)]) {
      expect(y.length).toBe(16_000);
      expect(toneAmplitude(y, 1000, 16_000)).toBeCloseTo(0.5, 2);
    }
    const up = resample(sineWave(440, 16_000, { amplitude: 0.5 }), 16_000, 44_100);
    expect(up.length).toBe(44_100);
    expect(toneAmplitude(up, 440, 44_100)).toBeCloseTo(0.5, 2);
  });

  it('removes a tone above the new Nyquist instead of aliasing it (the linear one aliases)', () => {
    // 11 kHz at 48 kHz aliases to 16000 - 11000 = 5 kHz after naive decimation to 16 kHz.
    const x = sineWave(11_000, 48_000, { sampleRate: 48_000, amplitude: 0.5 });
    const good = resample(x, 48_000, 16_000);
    const naive = resampleLinear(x, 48_000, 16_000);
    expect(dbfs(toneAmplitude(good, 5000, 16_000) / 0.5)).toBeLessThan(-60);
    expect(toneAmplitude(naive, 5000, 16_000)).toBeGreaterThan(0.05);
  });

  it('returns a copy for equal rates and rejects bad rates', () => {
    const x = Float32Array.from([1, 2]);
    expect(resample(x, 16_000, 16_000)).not.toBe(x);
    expect(() => resample(x, 0, 16_000)).toThrow(RangeError);
  });

  it('leaves the spectrum peak of a resampled tone where it belongs', () => {
    const y = resample(sineWave(1000, 44_100, { sampleRate: 44_100 }), 44_100, 16_000);
    const fft = new RealFft(512);
    const mag = new Float64Array(257);
    fft.magnitude(y.subarray(4000, 4512), mag);
    let k = 0;
    for (let i = 0; i < 257; i++) if (mag[i] > mag[k]) k = i;
    expect(k).toBe(32);
  });
});

describe('levels', () => {
  it('computes rms, peak and silence', () => {
    const s = sineWave(100, 16_000, { amplitude: 1 });
    expect(rms(s)).toBeCloseTo(Math.SQRT1_2, 3);
    expect(peak(Float32Array.from([0.1, -0.7, 0.3]))).toBeCloseTo(0.7, 6);
    expect(isSilent(new Float32Array(100))).toBe(true);
    expect(isSilent(new Float32Array(0))).toBe(true);
    expect(isSilent(sineWave(100, 1000, { amplitude: 0.0001 }))).toBe(true);
    expect(isSilent(sineWave(100, 1000, { amplitude: 0.01 }))).toBe(false);
    expect(isSilent(sineWave(100, 1000, { amplitude: 0.01 }), -20)).toBe(true);
  });

  it('mixes channels to mono', () => {
    const m = mixToMono([Float32Array.from([1, 0]), Float32Array.from([0, 1])]);
    expect(Array.from(m)).toEqual([0.5, 0.5]);
    expect(() => mixToMono([])).toThrow(S2gError);
  });
});
