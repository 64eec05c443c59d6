import { FRAME_VALUES, NUM_KEYPOINTS } from '@s2g/pose';
import { describe, expect, it } from 'vitest';
import { meanNeck, moveNeckTo, poseFrameScale, resamplePoses } from './sequences';

/** Frames whose every value is `t * 10 + (x ? 0 : 1)`: easy to read back. */
function ramp(frames: number): Float32Array {
  const out = new Float32Array(frames * FRAME_VALUES);
  for (let t = 0; t < frames; t++) for (let v = 0; v < FRAME_VALUES; v++) out[t * FRAME_VALUES + v] = t * 10 + (v < NUM_KEYPOINTS ? 0 : 1);
  return out;
}

describe('resamplePoses', () => {
  it('interpolates between frames when the rate goes up, and holds the last frame past the end', () => {
    const out = resamplePoses(ramp(3), 15, 30, 6);
    expect(Array.from({ length: 6 }, (_, k) => out[k * FRAME_VALUES])).toEqual([0, 5, 10, 15, 20, 20]);
    expect(out[FRAME_VALUES + NUM_KEYPOINTS]).toBeCloseTo(6);
  });

  it('picks frames when the rate goes down, and keeps the sequence at the same rate', () => {
    const out = resamplePoses(ramp(10), 15, 5, 4);
    expect(Array.from({ length: 4 }, (_, k) => out[k * FRAME_VALUES])).toEqual([0, 30, 60, 90]);
    expect(Array.from(resamplePoses(ramp(4), 15, 15, 4))).toEqual(Array.from(ramp(4)));
  });

  it('refuses what cannot be resampled', () => {
    expect(() => resamplePoses(new Float32Array(97), 15, 30, 2)).toThrow(expect.objectContaining({ code: 'KEYPOINTS_INVALID' }));
    expect(() => resamplePoses(ramp(2), 15, 0, 2)).toThrow(expect.objectContaining({ code: 'BAD_USER_INPUT' }));
  });
});

describe('moveNeckTo', () => {
  it('shifts every point so the mean neck lands on the target', () => {
    const poses = ramp(3);
    expect(meanNeck(poses)).toEqual([10, 11]);
    const moved = moveNeckTo(poses, [100, 50]);
    expect(meanNeck(moved)).toEqual([100, 50]);
    expect(moved[5] - poses[5]).toBeCloseTo(90);
    expect(moved[NUM_KEYPOINTS + 5] - poses[NUM_KEYPOINTS + 5]).toBeCloseTo(39);
  });
});

describe('poseFrameScale', () => {
  it("is 1 when the poses are in the video's pixels, else the power of two that puts the neck in the frame", () => {
    expect(poseFrameScale([640, 288], 1280, 720)).toBe(1);
    expect(poseFrameScale([640, 288], 160, 90)).toBe(8);
    expect(poseFrameScale([700, 300], 640, 360)).toBe(2);
  });

  it('refuses poses that lie in no frame of that shape', () => {
    expect(() => poseFrameScale([-5, 10], 160, 90)).toThrow(expect.objectContaining({ code: 'KEYPOINTS_INVALID' }));
  });
});
