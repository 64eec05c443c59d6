import { describe, expect, it } from 'vitest';
import { ErrorCode, S2gError } from '@s2g/contracts';
import {
  FRAME_VALUES,
  KEYPOINT_NAMES,
  NUM_KEYPOINTS,
  fillMissing,
  from52,
  fromOpenPose,
  parseKeypointsText,
  parsePatsConfidenceCsv,
  parsePatsPoseCsv,
  toFrame49,
  validatePoses,
} from '../src';
import { readPats } from './pats';

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    return e instanceof S2gError ? e.code : `not S2gError: ${String(e)}`;
  }
  return undefined;
}

const x = (f: ArrayLike<number>, k: number): number => f[k];
const y = (f: ArrayLike<number>, k: number): number => f[NUM_KEYPOINTS + k];

describe('PATS pose CSV', () => {
  const { poses, frames } = parsePatsPoseCsv(readPats('pose_data.csv'));

  it('has 109 frames of 49 points after dropping the face', () => {
    expect(frames).toBe(109);
    expect(poses.length).toBe(109 * FRAME_VALUES);
    expect(validatePoses(poses)).toBe(109);
  });

  it('puts the absolute neck first and the other joints relative to it (x block, then y block)', () => {
    const text = readPats('pose_data.csv').split('\n')[1].split(',').map(Number);
    expect(x(poses, 0)).toBeCloseTo(text[0], 9);
    expect(y(poses, 0)).toBeCloseTo(text[52], 9);
    // Right elbow is 52-layout joint 2: x in column 2, y in column 54.
    expect(x(poses, 2)).toBeCloseTo(text[0] + text[2], 9);
    expect(y(poses, 2)).toBeCloseTo(text[52] + text[54], 9);
    // Left hand root is 52-layout joint 10 (after nose and eyes) and 49-layout joint 7.
    expect(x(poses, 7)).toBeCloseTo(text[0] + text[10], 9);
  });

  it('looks like a person facing the camera in every frame', () => {
    for (let t = 0; t < frames; t++) {
      const f = poses.subarray(t * FRAME_VALUES, (t + 1) * FRAME_VALUES);
      // Shoulders level with the neck, on either side of it; the right one on the image's left.
      expect(x(f, 1)).toBeLessThan(x(f, 0));
      expect(x(f, 4)).toBeGreaterThan(x(f, 0));
      expect(Math.abs(y(f, 1) - y(f, 0))).toBeLessThan(40);
      expect(Math.abs(y(f, 4) - y(f, 0))).toBeLessThan(40);
      const shoulders = x(f, 4) - x(f, 1);
      expect(shoulders).toBeGreaterThan(150);
      expect(shoulders).toBeLessThan(300);
      // Elbows below the shoulders.
      expect(y(f, 2)).toBeGreaterThan(y(f, 1));
      expect(y(f, 5)).toBeGreaterThan(y(f, 4));
    }
  });

  it('attaches each hand to its own wrist (hands touch in a few frames, so on average)', () => {
    const mean = (a: number, b: number): number => {
      let s = 0;
      for (let t = 0; t < frames; t++) {
        const f = poses.subarray(t * FRAME_VALUES, (t + 1) * FRAME_VALUES);
        s += Math.hypot(x(f, a) - x(f, b), y(f, a) - y(f, b));
      }
      return s / frames;
    };
    expect(mean(7, 6)).toBeLessThan(30);
    expect(mean(7, 3)).toBeGreaterThan(100);
    expect(mean(28, 3)).toBeLessThan(30);
    expect(mean(28, 6)).toBeGreaterThan(100);
  });

  it('reads the confidences with the same layout (x block repeated as y block)', () => {
    const text = readPats('pose_confidence.csv');
    const row = text.split('\n')[1].split(',').map(Number);
    expect(row.slice(0, 52)).toEqual(row.slice(52));
    const conf = parsePatsConfidenceCsv(text);
    expect(conf.length).toBe(109 * NUM_KEYPOINTS);
    expect(conf[7]).toBe(row[10]);
    // OpenPose hand scores can slightly exceed 1.
    for (const c of conf) {
      expect(c).toBeGreaterThanOrEqual(0);
      expect(c).toBeLessThan(1.1);
    }
  });

  it('rejects malformed rows, naming the row', () => {
    const bad = readPats('pose_data.csv').split('\n');
    bad[5] = bad[5].replace(/^[^,]*/, 'abc');
    try {
      parsePatsPoseCsv(bad.join('\n'));
      expect.unreachable();
    } catch (e) {
      expect((e as S2gError).code).toBe(ErrorCode.KEYPOINTS_INVALID);
      expect((e as Error).message).toContain('row 5');
    }
    expect(codeOf(() => parsePatsPoseCsv('0,1\n1,2\n'))).toBe(ErrorCode.KEYPOINTS_INVALID);
  });
});

describe('52 -> 49 points', () => {
  const flat52 = Array.from({ length: 104 }, (_, i) => i);

  it('drops nose and eyes (7, 8, 9) from flat and nested frames', () => {
    const f = from52(flat52);
    expect(f.length).toBe(98);
    expect(Array.from(f.subarray(0, 10))).toEqual([0, 1, 2, 3, 4, 5, 6, 10, 11, 12]);
    expect(f[NUM_KEYPOINTS]).toBe(52);
    expect(f[NUM_KEYPOINTS + 7]).toBe(62);
    const nested = [flat52.slice(0, 52), flat52.slice(52)];
    expect(Array.from(from52(nested))).toEqual(Array.from(f));
    expect(Array.from(toFrame49(flat52))).toEqual(Array.from(f));
  });

  it('rejects wrong shapes and NaN', () => {
    expect(codeOf(() => from52(flat52.slice(1)))).toBe(ErrorCode.KEYPOINTS_INVALID);
    expect(codeOf(() => from52([flat52.slice(0, 52), flat52.slice(0, 50)]))).toBe(ErrorCode.KEYPOINTS_INVALID);
    const withNaN = flat52.slice();
    withNaN[60] = Number.NaN;
    expect(codeOf(() => from52(withNaN))).toBe(ErrorCode.KEYPOINTS_INVALID);
  });
});

describe('keypoints_simple text', () => {
  it('reads (2, 49) and (2, 52) files', () => {
    const xs = Array.from({ length: 52 }, (_, i) => i + 0.5);
    const ys = Array.from({ length: 52 }, (_, i) => 100 + i);
    const t52 = `${xs.join(' ')}\n${ys.join('   ')}\n`;
    const f52 = parseKeypointsText(t52);
    expect(f52[7]).toBe(10.5);
    expect(f52[NUM_KEYPOINTS + 7]).toBe(110);
    const t49 = `${xs.slice(0, 49).join('\t')}\r\n${ys.slice(0, 49).join(' ')}`;
    const f49 = parseKeypointsText(t49);
    expect(f49[7]).toBe(7.5);
  });

  it('names the file and the problem', () => {
    try {
      parseKeypointsText('1 2 3\n4 5 6', 'oliver/0001.txt');
      expect.unreachable();
    } catch (e) {
      expect((e as S2gError).code).toBe(ErrorCode.KEYPOINTS_INVALID);
      expect((e as Error).message).toMatch(/oliver\/0001\.txt.*49 or 52/);
    }
    const xs = Array.from({ length: 49 }, () => '1').join(' ');
    expect(codeOf(() => parseKeypointsText(`${xs}\n${xs.replace(/1$/, 'nan')}`))).toBe(ErrorCode.KEYPOINTS_INVALID);
    expect(codeOf(() => parseKeypointsText(xs))).toBe(ErrorCode.KEYPOINTS_INVALID);
  });
});

describe('OpenPose JSON', () => {
  /** A person whose BODY_25 point i is at (1000 + i, 2000 + i), left hand point h at (100 + h, 200 + h), right at (300 + h, 400 + h). */
  function person(scale = 1): Record<string, number[]> {
    const body: number[] = [];
    for (let i = 0; i < 25; i++) body.push(1000 + i, 2000 + i, 0.9 * scale);
    const left: number[] = [];
    const right: number[] = [];
    for (let h = 0; h < 21; h++) {
      left.push(100 + h, 200 + h, 0.8 * scale);
      right.push(300 + h, 400 + h, 0.7 * scale);
    }
    return { pose_keypoints_2d: body, hand_left_keypoints_2d: left, hand_right_keypoints_2d: right };
  }

  it('maps neck, arms and both hands onto the 49 points', () => {
    const { frame, confidence, missing } = fromOpenPose({ people: [person()] });
    expect(missing).toEqual([]);
    // neck = BODY_25 1; right shoulder/elbow/wrist = 2, 3, 4; left = 5, 6, 7.
    expect([0, 1, 2, 3, 4, 5, 6].map((k) => x(frame, k))).toEqual([1001, 1002, 1003, 1004, 1005, 1006, 1007]);
    expect(y(frame, 0)).toBe(2001);
    // Left hand root and little-finger tip; right hand root and thumb base.
    expect(x(frame, 7)).toBe(100);
    expect(x(frame, 27)).toBe(120);
    expect(KEYPOINT_NAMES[27]).toBe('left_little_4');
    expect(x(frame, 28)).toBe(300);
    expect(y(frame, 29)).toBe(401);
    expect(KEYPOINT_NAMES[29]).toBe('right_thumb_1');
    expect(confidence[0]).toBeCloseTo(0.9, 9);
    expect(confidence[7]).toBeCloseTo(0.8, 9);
  });

  it('picks the most confident person and marks undetected points', () => {
    const weak = person(0.1);
    const strong = person();
    strong.hand_right_keypoints_2d = new Array(63).fill(0);
    const { frame, missing } = fromOpenPose(JSON.stringify({ people: [weak, strong] }));
    expect(missing).toEqual(Array.from({ length: 21 }, (_, h) => 28 + h));
    expect(Number.isNaN(x(frame, 28))).toBe(true);
    expect(codeOf(() => validatePoses(frame))).toBe(ErrorCode.KEYPOINTS_INVALID);
    expect(fromOpenPose({ people: [weak, strong] }, { person: 0 }).missing).toEqual([]);
  });

  it('rejects frames with nobody or malformed arrays', () => {
    expect(codeOf(() => fromOpenPose({ people: [] }))).toBe(ErrorCode.KEYPOINTS_INVALID);
    expect(codeOf(() => fromOpenPose('{not json'))).toBe(ErrorCode.KEYPOINTS_INVALID);
    expect(codeOf(() => fromOpenPose({ people: [{ pose_keypoints_2d: [1, 2, 3] }] }))).toBe(ErrorCode.KEYPOINTS_INVALID);
  });
});

describe('fillMissing', () => {
  it('interpolates gaps in time and holds the ends', () => {
    const frames = 5;
    const poses = new Float64Array(frames * FRAME_VALUES);
    for (let t = 0; t < frames; t++) poses.fill(t * 10, t * FRAME_VALUES, (t + 1) * FRAME_VALUES);
    // Keypoint 3 unseen in frames 0, 2, 3 (NaN) and frame 4 (low confidence).
    for (const t of [0, 2, 3]) poses[t * FRAME_VALUES + 3] = Number.NaN;
    const conf = new Float64Array(frames * NUM_KEYPOINTS).fill(1);
    conf[4 * NUM_KEYPOINTS + 3] = 0.05;
    const out = fillMissing(poses, conf, 0.1);
    expect([0, 1, 2, 3, 4].map((t) => out[t * FRAME_VALUES + 3])).toEqual([10, 10, 10, 10, 10]);
    expect([0, 1, 2, 3, 4].map((t) => out[t * FRAME_VALUES + NUM_KEYPOINTS + 3])).toEqual([10, 10, 10, 10, 10]);
    const gap = Float64Array.from(poses);
    gap[2 * FRAME_VALUES + 5] = Number.NaN;
    expect(fillMissing(gap)[2 * FRAME_VALUES + 5]).toBe(20);
    const lone = Float64Array.from(poses);
    lone[2 * FRAME_VALUES + 3] = Number.NaN;
    lone[1 * FRAME_VALUES + 3] = Number.NaN;
    lone[4 * FRAME_VALUES + 3] = Number.NaN;
    expect(codeOf(() => fillMissing(lone))).toBe(ErrorCode.KEYPOINTS_INVALID);
  });
});
