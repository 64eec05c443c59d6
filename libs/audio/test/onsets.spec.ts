import { describe, expect, it } from 'vitest';
import { SAMPLE_RATE, detectOnsets, logMel, onsetEnvelope, pooledLogMel, sineWave } from '../src';

/** Short noise bursts at the given times (s) over a quiet floor. */
function clicks(times: number[], seconds: number): Float32Array {
  const out = new Float32Array(seconds * SAMPLE_RATE);
  let s = 12345;
  for (let i = 0; i < out.length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = ((s / 4294967296) * 2 - 1) * 0.001;
  }
  for (const t of times) {
    const start = Math.round(t * SAMPLE_RATE);
    for (let i = 0; i < 800; i++) out[start + i] += 0.8 * Math.exp(-i / 200) * (i % 2 === 0 ? 1 : -1);
  }
  return out;
}

describe('onsets', () => {
  it('finds each burst within 30 ms and nothing else', () => {
    const truth = [0.3, 0.8, 1.25, 1.7];
    const found = detectOnsets(logMel(clicks(truth, 2)));
    expect(found.length).toBe(truth.length);
    found.forEach((t, i) => expect(Math.abs(t - truth[i])).toBeLessThan(0.03));
  });

  it('does not depend on the recording level', () => {
    const loud = clicks([0.3, 0.8, 1.25, 1.7], 2);
    const quiet = loud.map((v) => v * 0.02);
    expect(detectOnsets(logMel(quiet))).toEqual(detectOnsets(logMel(loud)));
  });

  it('finds no onsets in silence or a steady tone', () => {
    expect(detectOnsets(logMel(new Float32Array(SAMPLE_RATE)))).toEqual([]);
    const env = onsetEnvelope(logMel(new Float32Array(SAMPLE_RATE)));
    expect(Math.max(...env)).toBe(0);
    expect(detectOnsets(logMel(sineWave(440, SAMPLE_RATE)))).toEqual([]);
  });

  it('pools a log-mel into segment means', () => {
    const m = logMel(sineWave(1000, SAMPLE_RATE));
    const p = pooledLogMel(m, 4);
    expect(p.length).toBe(4 * 64);
    let mean = 0;
    const q = Math.floor(m.frames / 4);
    for (let t = 0; t < q; t++) mean += m.data[t * 64 + 20];
    expect(p[20]).toBeCloseTo(mean / q, 4);
  });
});
