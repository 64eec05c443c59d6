import { describe, expect, it } from 'vitest';
import { ErrorCode, S2gError } from '@s2g/contracts';
import {
  FRAME_VALUES,
  NUM_KEYPOINTS,
  REFERENCE_SHOULDER_WIDTH,
  computeSpeakerStats,
  denormalize,
  neckPositions,
  normalize,
  parsePatsPoseCsv,
  scaleFactor,
  scalePoses,
  shoulderWidth,
  toNeckRelative,
} from '../src';
import { readPats } from './pats';

const { poses, frames } = parsePatsPoseCsv(readPats('pose_data.csv'));
const stats = computeSpeakerStats(poses);

describe('speaker statistics', () => {
  it('are neck-relative with the neck at mean 0, std 0', () => {
    expect(stats.frames).toBe(109);
    expect(stats.mean[0]).toBe(0);
    expect(stats.std[0]).toBe(0);
    expect(stats.mean[NUM_KEYPOINTS]).toBe(0);
    expect(stats.std[NUM_KEYPOINTS]).toBe(0);
    for (let v = 0; v < FRAME_VALUES; v++) {
      if (v % NUM_KEYPOINTS === 0) continue;
      expect(stats.std[v]).toBeGreaterThan(0);
    }
  });

  it('match a direct computation for one value', () => {
    const rel = toNeckRelative(poses);
    const v = 3; // right wrist x
    const col = Array.from({ length: frames }, (_, t) => rel[t * FRAME_VALUES + v]);
    const m = col.reduce((a, b) => a + b, 0) / frames;
    const sd = Math.sqrt(col.reduce((a, b) => a + (b - m) ** 2, 0) / frames);
    expect(stats.mean[v]).toBeCloseTo(m, 10);
    expect(stats.std[v]).toBeCloseTo(sd, 10);
    const sorted = [...col].sort((a, b) => a - b);
    expect(stats.median[v]).toBeCloseTo(sorted[54], 10);
  });
});

describe('normalize / denormalize', () => {
  it('z-scores to mean 0 and std 1 per value on the training frames', () => {
    const z = normalize(poses, stats);
    for (const v of [1, 20, 48, 50, 97]) {
      let s = 0;
      let ss = 0;
      for (let t = 0; t < frames; t++) {
        s += z[t * FRAME_VALUES + v];
        ss += z[t * FRAME_VALUES + v] ** 2;
      }
      expect(s / frames).toBeCloseTo(0, 10);
      expect(ss / frames).toBeCloseTo(1, 10);
    }
    for (let t = 0; t < frames; t++) {
      expect(z[t * FRAME_VALUES]).toBe(0);
      expect(z[t * FRAME_VALUES + NUM_KEYPOINTS]).toBe(0);
    }
  });

  it('round-trips to the original pixels (neck restored from origin) to 1e-9', () => {
    const z = normalize(poses, stats);
    const back = denormalize(z, stats, { origin: neckPositions(poses) });
    let worst = 0;
    for (let i = 0; i < poses.length; i++) worst = Math.max(worst, Math.abs(back[i] - poses[i]));
    expect(worst).toBeLessThan(1e-9);
    const rel = denormalize(z, stats);
    const expected = toNeckRelative(poses);
    for (let i = 0; i < rel.length; i++) expect(Math.abs(rel[i] - expected[i])).toBeLessThan(1e-9);
  });

  it('ignores whatever the model put in the neck entries', () => {
    const z = normalize(poses, stats);
    z[0] = 123;
    z[NUM_KEYPOINTS] = -5;
    const back = denormalize(z, stats, { origin: [10, 20] });
    expect(back[0]).toBe(10);
    expect(back[NUM_KEYPOINTS]).toBe(20);
  });

  it('rejects NaN and wrong shapes with KEYPOINTS_INVALID', () => {
    const bad = Float64Array.from(poses);
    bad[FRAME_VALUES * 3 + 50] = Number.NaN;
    try {
      normalize(bad, stats);
      expect.unreachable();
    } catch (e) {
      expect((e as S2gError).code).toBe(ErrorCode.KEYPOINTS_INVALID);
      expect((e as Error).message).toContain('frame 3, keypoint 1 (right_shoulder) y');
    }
    expect(() => normalize(poses.subarray(0, 97), stats)).toThrow(S2gError);
  });
});

describe('scale', () => {
  it('gives a sane factor relative to the reference speaker', () => {
    const width = shoulderWidth(stats);
    expect(width).toBeGreaterThan(180);
    expect(width).toBeLessThan(260);
    const f = scaleFactor(stats);
    expect(f).toBeCloseTo(REFERENCE_SHOULDER_WIDTH / width, 12);
    expect(f).toBeGreaterThan(1);
    expect(f).toBeLessThan(2);
    // Scaling the poses by it makes their shoulder width the reference width.
    const scaled = computeSpeakerStats(scalePoses(poses, f));
    expect(shoulderWidth(scaled)).toBeCloseTo(REFERENCE_SHOULDER_WIDTH, 9);
    // And denormalize's scale does the same.
    const drawn = computeSpeakerStats(denormalize(normalize(poses, stats), stats, { scale: f }));
    expect(shoulderWidth(drawn)).toBeCloseTo(REFERENCE_SHOULDER_WIDTH, 9);
  });

  it('reproduces the reference scale factors from their mean shoulders', () => {
    // speech2gesture common/consts.py: almaram mean x of shoulders -102.831 / 103.684, scale 1.518504709101034.
    const mean = new Float64Array(FRAME_VALUES);
    mean[1] = -102.831;
    mean[4] = 103.684;
    expect(scaleFactor({ ...stats, mean })).toBeCloseTo(1.518504709101034, 5);
  });

  it('refuses a mirrored skeleton', () => {
    const mean = Float64Array.from(stats.mean);
    [mean[1], mean[4]] = [mean[4], mean[1]];
    expect(() => scaleFactor({ ...stats, mean })).toThrow(/right shoulder/);
  });
});
