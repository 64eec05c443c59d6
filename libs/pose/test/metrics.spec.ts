import { describe, expect, it } from 'vitest';
import {
  FRAME_VALUES,
  NUM_KEYPOINTS,
  beatConsistency,
  computeSpeakerStats,
  diversity,
  frechetDistance,
  frechetPoseDistance,
  GaussianAccumulator,
  gaussianStats,
  jointSpeed,
  l1,
  motionBeats,
  normalize,
  parsePatsPoseCsv,
  pck,
  pckPerFrame,
  poseFeatures,
  sliceFrames,
  sqrtPsd,
  symmetricEigen,
  matMul,
  traceSqrtProduct,
  withinSequenceDiversity,
} from '../src';
import { readPats } from './pats';

const { poses, frames } = parsePatsPoseCsv(readPats('pose_data.csv'));
const stats = computeSpeakerStats(poses);

function shifted(p: Float64Array, dx: number, dy: number): Float64Array {
  const out = Float64Array.from(p);
  for (let t = 0; t < out.length / FRAME_VALUES; t++) {
    for (let k = 0; k < NUM_KEYPOINTS; k++) {
      out[t * FRAME_VALUES + k] += dx;
      out[t * FRAME_VALUES + NUM_KEYPOINTS + k] += dy;
    }
  }
  return out;
}

/** alpha * max(w, h) of each truth frame's box over keypoints 1..48, computed independently. */
function radii(alpha: number): number[] {
  return Array.from({ length: frames }, (_, t) => {
    const xs: number[] = [];
    const ys: number[] = [];
    for (let k = 1; k < NUM_KEYPOINTS; k++) {
      xs.push(poses[t * FRAME_VALUES + k]);
      ys.push(poses[t * FRAME_VALUES + NUM_KEYPOINTS + k]);
    }
    return alpha * Math.max(Math.max(...xs) - Math.min(...xs), Math.max(...ys) - Math.min(...ys));
  });
}

describe('L1', () => {
  it('is zero on itself and the mean absolute error over keypoints 1..48 otherwise', () => {
    const z = normalize(poses, stats);
    expect(l1(z, z)).toBe(0);
    const off = Float64Array.from(z);
    for (let t = 0; t < frames; t++) {
      off[t * FRAME_VALUES + 5] += 0.96; // one x value per frame
      off[t * FRAME_VALUES] += 100; // the neck does not count
    }
    expect(l1(off, z)).toBeCloseTo(0.96 / 96, 12);
  });

  it('rejects sequences of different lengths', () => {
    expect(() => l1(poses, poses.subarray(0, FRAME_VALUES * 3))).toThrow(/frames/);
  });
});

describe('PCK', () => {
  it('is 1 for the truth against itself', () => {
    expect(pck(poses, poses, 0.1)).toBe(1);
    expect(pck(poses, poses, 0.2)).toBe(1);
  });

  it('falls with a pixel shift exactly as the per-frame radius says', () => {
    const r = radii(0.1);
    const minR = Math.min(...r);
    const maxR = Math.max(...r);
    expect(pck(shifted(poses, minR * 0.99, 0), poses, 0.1)).toBe(1);
    expect(pck(shifted(poses, 0, maxR * 1.01), poses, 0.1)).toBe(0);
    // A shift between the smallest and largest radius: the fraction of frames whose radius covers it.
    const d = (minR + maxR) / 2;
    const expected = r.filter((v) => v >= d).length / frames;
    expect(expected).toBeGreaterThan(0);
    expect(expected).toBeLessThan(1);
    expect(pck(shifted(poses, d * 0.6, d * 0.8), poses, 0.1)).toBeCloseTo(expected, 12);
    // alpha 0.2 doubles the radius.
    expect(pck(shifted(poses, minR * 1.9, 0), poses, 0.1)).toBeLessThan(1);
    expect(pck(shifted(poses, minR * 1.9, 0), poses, 0.2)).toBe(1);
  });

  it('averages over keypoints, then frames, and ignores the neck', () => {
    const pred = Float64Array.from(poses);
    // Move 12 of the 48 keypoints far away in frame 0 only, and the neck in every frame.
    for (let k = 1; k <= 12; k++) pred[k] += 10_000;
    for (let t = 0; t < frames; t++) pred[t * FRAME_VALUES] += 10_000;
    const per = pckPerFrame(pred, poses, 0.1);
    expect(per[0]).toBeCloseTo(36 / 48, 12);
    expect(per[1]).toBe(1);
    expect(pck(pred, poses, 0.1)).toBeCloseTo((frames - 1 + 36 / 48) / frames, 12);
  });
});

describe('linear algebra', () => {
  function randomSymmetric(n: number, seed: number): Float64Array {
    let s = seed;
    const r = (): number => {
      s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
      return s / 4294967296 - 0.5;
    };
    const a = new Float64Array(n * n);
    for (let i = 0; i < n; i++) for (let j = i; j < n; j++) a[i * n + j] = a[j * n + i] = r();
    return a;
  }

  it('decomposes a symmetric matrix: A V = V diag(values)', () => {
    const n = 12;
    const a = randomSymmetric(n, 9);
    const { values, vectors } = symmetricEigen(a, n);
    const av = matMul(a, vectors, n);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) expect(av[i * n + j]).toBeCloseTo(vectors[i * n + j] * values[j], 10);
    const vtv = new Float64Array(n * n);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) for (let k = 0; k < n; k++) vtv[i * n + j] += vectors[k * n + i] * vectors[k * n + j];
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) expect(vtv[i * n + j]).toBeCloseTo(i === j ? 1 : 0, 10);
  });

  it('takes square roots of PSD matrices, rank-deficient ones included', () => {
    const n = 8;
    // C C^T with C's last column zeroed: PSD of rank n - 1.
    const c = randomSymmetric(n, 4);
    for (let i = 0; i < n; i++) c[i * n + n - 1] = 0;
    const ct = new Float64Array(n * n);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) ct[i * n + j] = c[j * n + i];
    const psd = matMul(c, ct, n);
    expect(Math.min(...symmetricEigen(psd, n).values)).toBeCloseTo(0, 12);
    const s = sqrtPsd(psd, n);
    const back = matMul(s, s, n);
    for (let i = 0; i < n * n; i++) expect(back[i]).toBeCloseTo(psd[i], 9);
    const g = gaussianStats(Float64Array.from([1, 1, 2, 2, 3, 3]), 2);
    const sg = sqrtPsd(g.cov, 2);
    expect(matMul(sg, sg, 2)[1]).toBeCloseTo(g.cov[1], 12);
    // tr(sqrt(A A)) = tr(A) for PSD A.
    let tr = 0;
    for (let i = 0; i < n; i++) tr += psd[i * n + i];
    expect(traceSqrtProduct(psd, psd, n)).toBeCloseTo(tr, 8);
  });
});

describe('Frechet distance', () => {
  const base = [-1, 0, 1, 0, 0, -2, 0, 2];

  it('matches closed forms for simple Gaussians', () => {
    const a = gaussianStats(Float64Array.from(base), 2);
    expect(Array.from(a.cov)).toEqual([2 / 3, 0, 0, 8 / 3]);
    const moved = gaussianStats(Float64Array.from(base.map((v, i) => (i % 2 === 0 ? v + 3 : v))), 2);
    expect(frechetDistance(a, moved)).toBeCloseTo(9, 10);
    // Doubling the spread: tr(C + 4C - 2 * 2C) = tr(C) = 10/3.
    const wide = gaussianStats(Float64Array.from(base.map((v) => 2 * v)), 2);
    expect(frechetDistance(a, wide)).toBeCloseTo(10 / 3, 10);
  });

  it('accumulates batch by batch to the same statistics as gaussianStats', () => {
    const z = normalize(poses, stats);
    const { data, dim } = poseFeatures(z);
    const acc = new GaussianAccumulator(dim);
    const third = Math.floor(data.length / dim / 3) * dim;
    acc.add(data.subarray(0, third));
    acc.add(data.subarray(third));
    const once = gaussianStats(data, dim);
    const batched = acc.stats();
    expect(batched.count).toBe(once.count);
    for (let i = 0; i < dim; i++) expect(batched.mean[i]).toBeCloseTo(once.mean[i], 10);
    for (let i = 0; i < dim * dim; i++) expect(batched.cov[i]).toBeCloseTo(once.cov[i], 8);
    expect(() => new GaussianAccumulator(dim).stats()).toThrow(/at least 2/);
    expect(() => acc.add(new Float64Array(dim + 1))).toThrow(RangeError);
  });

  it('is 0 for identical pose sets and positive otherwise', () => {
    const z = normalize(poses, stats);
    expect(frechetPoseDistance([z], [z])).toBeCloseTo(0, 6);
    const half = sliceFrames(z, 0, 54);
    expect(frechetPoseDistance([z], [half])).toBeGreaterThan(0.1);
    const still = sliceFrames(z, 0, 1);
    const held = new Float64Array(z.length);
    for (let t = 0; t < frames; t++) held.set(still, t * FRAME_VALUES);
    // Mean and covariance both differ from a pose held still.
    expect(frechetPoseDistance([z], [held])).toBeGreaterThan(frechetPoseDistance([z], [half]));
    expect(frechetPoseDistance([z], [z], 'velocity')).toBeCloseTo(0, 6);
    expect(frechetPoseDistance([z], [held], 'both')).toBeGreaterThan(1);
  });

  it('builds position, velocity and combined features', () => {
    expect(poseFeatures(poses).dim).toBe(96);
    expect(poseFeatures(poses).data.length).toBe(96 * frames);
    const v = poseFeatures(poses, 'velocity');
    expect(v.data.length).toBe(96 * (frames - 1));
    expect(v.data[0]).toBeCloseTo(poses[FRAME_VALUES + 1] - poses[1], 12);
    expect(poseFeatures(poses, 'both').dim).toBe(192);
  });
});

describe('motion beats and beat consistency', () => {
  /** A wrist swinging with speed minima at the turning points: x = A sin(2 pi f t). */
  function swing(seconds: number, hz: number, fps = 15): Float64Array {
    const n = Math.round(seconds * fps);
    const out = new Float64Array(n * FRAME_VALUES);
    for (let t = 0; t < n; t++) {
      const base = sliceFrames(poses, 0, 1);
      base[3] += 80 * Math.sin((2 * Math.PI * hz * t) / fps);
      out.set(base, t * FRAME_VALUES);
    }
    return out;
  }

  it('finds speed minima at the turning points of a swing', () => {
    // 0.5 Hz swing: turning points every 1 s starting at 0.5 s.
    const beats = motionBeats(swing(6, 0.5));
    expect(beats.length).toBeGreaterThanOrEqual(4);
    for (const b of beats) expect(Math.abs(b - 0.5 - Math.round(b - 0.5))).toBeLessThan(0.1);
    expect(motionBeats(new Float64Array(poses.subarray(0, FRAME_VALUES * 2)))).toEqual([]);
    expect(jointSpeed(sliceFrames(poses, 0, 1))[0]).toBe(0);
  });

  it('scores 1 when onsets sit on the beats and less when they are off', () => {
    const beats = motionBeats(swing(6, 0.5));
    const on = beatConsistency(beats, beats);
    expect(on.score).toBe(1);
    expect(on.hitRate).toBe(1);
    const off = beatConsistency(
      beats,
      beats.map((b) => b + 0.5),
    );
    expect(off.score).toBeLessThan(0.01);
    expect(off.hitRate).toBe(0);
    const near = beatConsistency([1], [1.08, 3]);
    expect(near.score).toBeCloseTo(Math.exp(-(0.08 ** 2) / (2 * 0.1 ** 2)), 9);
    expect(near.hitRate).toBe(1);
    expect(beatConsistency([], [1]).score).toBe(0);
  });

  it('finds beats in the real interval', () => {
    expect(motionBeats(poses).length).toBeGreaterThan(2);
  });
});

describe('diversity', () => {
  it('is the mean pairwise keypoint distance, and 0 within a held pose', () => {
    const a = sliceFrames(poses, 0, 30);
    expect(diversity([a, a])).toBe(0);
    expect(diversity([a, shifted(a, 3, 4)])).toBeCloseTo(5, 12);
    expect(diversity([a, shifted(a, 3, 4), shifted(a, 6, 8)])).toBeCloseTo((5 + 10 + 5) / 3, 12);
    expect(() => diversity([a])).toThrow();
    const still = new Float64Array(a.length);
    for (let t = 0; t < 30; t++) still.set(a.subarray(0, FRAME_VALUES), t * FRAME_VALUES);
    expect(withinSequenceDiversity(still)).toBeCloseTo(0, 12);
    expect(withinSequenceDiversity(poses)).toBeGreaterThan(5);
  });
});
