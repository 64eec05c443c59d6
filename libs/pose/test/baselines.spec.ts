import { describe, expect, it } from 'vitest';
import { ErrorCode, S2gError } from '@s2g/contracts';
import {
  FRAME_VALUES,
  computeSpeakerStats,
  holdPose,
  l1,
  medianPose,
  medianPoseBaseline,
  nearestWindowBaseline,
  normalize,
  parsePatsPoseCsv,
  pck,
  randomWindowBaseline,
  seededRandom,
  sliceFrames,
} from '../src';
import { readPats } from './pats';

const { poses, frames } = parsePatsPoseCsv(readPats('pose_data.csv'));
const stats = computeSpeakerStats(poses);
const z = normalize(poses, stats);
/** 64-frame windows with stride 5 over the interval, as in ML-SPEC section 3. */
const windows: Float64Array[] = [];
for (let s = 0; s + 64 <= frames; s += 5) windows.push(sliceFrames(z, s, 64));

describe('baselines', () => {
  it('median pose: the per-value median held still', () => {
    const m = medianPose([z]);
    for (let v = 1; v < FRAME_VALUES; v++) expect(m[v]).toBeCloseTo((stats.median[v] - stats.mean[v]) / (stats.std[v] || 1), 9);
    const b = medianPoseBaseline(windows, 64);
    expect(b.length).toBe(64 * FRAME_VALUES);
    expect(Array.from(b.subarray(63 * FRAME_VALUES))).toEqual(Array.from(b.subarray(0, FRAME_VALUES)));
    // A still pose is worse than the truth and better than nothing on L1.
    expect(l1(b, windows[0])).toBeGreaterThan(0);
    expect(l1(b, windows[0])).toBeLessThan(l1(holdPose(new Float64Array(FRAME_VALUES).fill(5), 64), windows[0]));
    expect(() => medianPose([])).toThrow(S2gError);
  });

  it('random window: reproducible with a seed and always a real window', () => {
    const a = randomWindowBaseline(windows, seededRandom(42));
    const b = randomWindowBaseline(windows, seededRandom(42));
    expect(a.index).toBe(b.index);
    expect(Array.from(a.poses)).toEqual(Array.from(windows[a.index]));
    const seen = new Set<number>();
    const r = seededRandom(1);
    for (let i = 0; i < 200; i++) seen.add(randomWindowBaseline(windows, r).index);
    expect(seen.size).toBe(windows.length);
    try {
      randomWindowBaseline([], r);
    } catch (e) {
      expect((e as S2gError).code).toBe(ErrorCode.NO_TRAINING_DATA);
    }
  });

  it('nearest window: returns the window whose audio features are closest', () => {
    const features = windows.map((_, i) => Float32Array.from([i, i * 2, -i]));
    const hit = nearestWindowBaseline([2.2, 4.1, -2], features, windows);
    expect(hit.index).toBe(2);
    expect(hit.distance).toBeCloseTo(Math.hypot(0.2, 0.1, 0), 6);
    expect(Array.from(hit.poses)).toEqual(Array.from(windows[2]));
    expect(() => nearestWindowBaseline([1, 2], features, windows)).toThrow(RangeError);
  });

  it('score with the metrics: the truth beats every baseline', () => {
    const truth = windows[windows.length - 1];
    const pixels = (p: Float64Array): Float64Array => {
      const out = new Float64Array(p.length);
      for (let i = 0; i < p.length; i++) out[i] = p[i] * stats.std[i % FRAME_VALUES] + stats.mean[i % FRAME_VALUES];
      return out;
    };
    const median = medianPoseBaseline(windows.slice(0, -1), 64);
    const random = randomWindowBaseline(windows.slice(0, 1), seededRandom(3)).poses;
    expect(pck(pixels(truth), pixels(truth), 0.2)).toBe(1);
    for (const b of [median, random]) {
      expect(l1(b, truth)).toBeGreaterThan(0);
      expect(pck(pixels(b), pixels(truth), 0.1)).toBeLessThan(1);
    }
  });
});
