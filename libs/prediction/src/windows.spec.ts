import * as tf from '@tensorflow/tfjs';
import { planSyntheticSpeaker, synthesizeVideo } from '@s2g/dataset';
import { Generator, initBackend, predict } from '@s2g/model';
import { FRAME_VALUES, NUM_KEYPOINTS } from '@s2g/pose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { blendWeight, planWindows, predictWindowed } from './windows';

describe('planWindows', () => {
  it('uses one window when the prediction fits', () => {
    expect(planWindows(100, 128, 32)).toEqual([{ start: 0, frames: 100 }]);
    expect(planWindows(128, 128, 32)).toEqual([{ start: 0, frames: 128 }]);
  });

  it('covers every frame with full windows that overlap by at least the overlap, the last ending at the end', () => {
    for (const total of [129, 200, 224, 225, 1000, 1337]) {
      const windows = planWindows(total, 128, 32);
      expect(windows[0].start).toBe(0);
      const last = windows[windows.length - 1];
      expect(last.start + last.frames).toBe(total);
      for (const w of windows) expect(w.frames).toBe(128);
      for (let k = 1; k < windows.length; k++) {
        const overlap = windows[k - 1].start + 128 - windows[k].start;
        expect(overlap).toBeGreaterThanOrEqual(32);
        expect(overlap).toBeLessThan(128);
      }
    }
    expect(planWindows(1000, 128, 32)).toHaveLength(Math.ceil((1000 - 128) / 96) + 1);
  });

  it('cross-fades: weights of overlapping windows sum to one, and are one elsewhere', () => {
    for (const total of [300, 401]) {
      const windows = planWindows(total, 128, 32);
      const sums = new Float64Array(total);
      windows.forEach((w, k) => {
        for (let i = 0; i < w.frames; i++) sums[w.start + i] += blendWeight(windows, k, i);
      });
      // The last window overlaps its neighbour by more than the others; elsewhere the sum is exact.
      const last = windows[windows.length - 1];
      const before = windows[windows.length - 2];
      for (let t = 0; t < total; t++) {
        if (t >= last.start && t < before.start + before.frames) expect(sums[t]).toBeGreaterThan(0.4);
        else expect(sums[t]).toBeCloseTo(1, 12);
      }
      // A window's edge facing a neighbour counts least.
      expect(blendWeight(windows, 1, 0)).toBeLessThan(0.05);
      expect(blendWeight(windows, 0, 127)).toBeLessThan(0.05);
    }
  });

  it('refuses windows that are not multiples of 32 or overlaps of half a window', () => {
    expect(() => planWindows(1000, 100, 32)).toThrow(/multiples of 32/);
    expect(() => planWindows(1000, 128, 64)).toThrow(/under half a window/);
    expect(() => planWindows(0, 128, 32)).toThrow(/positive integer/);
  });
});

describe('predictWindowed with a real generator (tiny preset)', () => {
  let generator: Generator;
  let speech: Float32Array;

  beforeAll(async () => {
    await initBackend('wasm', { logger: { info: () => undefined } });
    generator = new Generator('tiny', 7);
    speech = synthesizeVideo(planSyntheticSpeaker({ seed: 3, minutes: 1.1 }), 0).audio;
  });

  afterAll(() => generator?.dispose());

  it('is exactly the one-pass prediction when the audio fits in one window', async () => {
    const wave = speech.subarray(0, 5 * 16000);
    const windowed = await predictWindowed(generator, wave, { windowFrames: 128, overlapFrames: 32 });
    const once = await predict(generator, wave);
    expect(windowed.frames).toBe(75);
    expect(Array.from(windowed.poses)).toEqual(Array.from(once.poses));
  });

  it('agrees with one pass over long audio within less than one frame of motion, with no seams', async () => {
    const wave = speech.subarray(0, 30 * 16000);
    const windowed = await predictWindowed(generator, wave, { windowFrames: 128, overlapFrames: 32 });
    const once = await predict(generator, wave, { maxChunkFrames: 1024 });
    const frames = once.frames;
    expect(windowed.frames).toBe(frames);
    expect(windowed.fps).toBe(15);

    let difference = 0;
    let oneFrameMotion = 0;
    let jumpWindowed = 0;
    let jumpOnce = 0;
    for (let t = 0; t < frames; t++) {
      for (let v = 0; v < FRAME_VALUES; v++) {
        if (v === 0 || v === NUM_KEYPOINTS) continue;
        const i = t * FRAME_VALUES + v;
        difference += Math.abs(windowed.poses[i] - once.poses[i]);
        if (t === 0) continue;
        oneFrameMotion += Math.abs(once.poses[i] - once.poses[i - FRAME_VALUES]);
        jumpWindowed = Math.max(jumpWindowed, Math.abs(windowed.poses[i] - windowed.poses[i - FRAME_VALUES]));
        jumpOnce = Math.max(jumpOnce, Math.abs(once.poses[i] - once.poses[i - FRAME_VALUES]));
      }
    }
    // The network resizes its audio features to each window's length, so a window's frames sit up
    // to a frame or two off the one-pass grid; the outputs must differ by less than one frame's motion.
    expect(difference).toBeLessThan(oneFrameMotion);
    // No seams: the largest frame-to-frame change is no larger than the one-pass output's own.
    expect(jumpWindowed).toBeLessThan(1.1 * jumpOnce);
  });

  it('needs the same memory for twice the audio, where one pass needs twice as much', async () => {
    // tf.profile returns one shared object, so read the number before the next call.
    const peak = async (fn: () => Promise<unknown>) => (await tf.profile(async () => void (await fn()))).peakBytes;
    const options = { windowFrames: 128, overlapFrames: 32 };
    const windowed30 = await peak(() => predictWindowed(generator, speech.subarray(0, 30 * 16000), options));
    const windowed60 = await peak(() => predictWindowed(generator, speech.subarray(0, 60 * 16000), options));
    const once30 = await peak(() => predict(generator, speech.subarray(0, 30 * 16000), { maxChunkFrames: 2048 }));
    const once60 = await peak(() => predict(generator, speech.subarray(0, 60 * 16000), { maxChunkFrames: 2048 }));
    expect(windowed60).toBeLessThan(1.05 * windowed30);
    expect(once60).toBeGreaterThan(1.7 * once30);
    expect(windowed60).toBeLessThan(0.5 * once30);
  });

  it('stops between windows when its signal is aborted', async () => {
    const aborted = AbortSignal.abort();
    await expect(predictWindowed(generator, speech.subarray(0, 30 * 16000), { windowFrames: 128, overlapFrames: 32, signal: aborted })).rejects.toMatchObject({
      code: 'UNAVAILABLE',
    });
  });
});
