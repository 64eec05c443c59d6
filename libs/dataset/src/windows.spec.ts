import { describe, expect, it } from 'vitest';
import { SAMPLE_RATE, WINDOW_AUDIO_SAMPLES } from '@s2g/audio';
import { FRAME_VALUES, POSE_FPS } from '@s2g/pose';
import type { PoseFrame, SourceVideo } from './formats/types';
import { assignSplit, cutWindows, videoSamples, windowAudio, windowCount } from './windows';

function frames(n: number, from = 0): PoseFrame[] {
  return Array.from({ length: n }, (_, i) => ({ time: (from + i) / POSE_FPS, keypoints: new Float32Array(FRAME_VALUES).fill(from + i) }));
}

describe('windows', () => {
  it.each([
    [63, 0],
    [64, 1],
    [68, 1],
    [69, 2],
    [100, 8],
    [1000, 188],
  ])('an interval of %i frames gives %i windows of 64 frames, stride 5', (n, expected) => {
    expect(windowCount(n)).toBe(expected);
    expect(windowCount(n)).toBe(n < 64 ? 0 : Math.floor((n - 64) / 5) + 1);
    const windows = cutWindows(frames(n));
    expect(windows).toHaveLength(expected);
    windows.forEach((w, i) => {
      expect(w.startIndex).toBe(5 * i);
      expect(w.frames).toHaveLength(64);
      expect(w.endTime - w.startTime).toBeCloseTo(63 / POSE_FPS, 9);
    });
  });

  it('never lets a window span missing frames', () => {
    const run = [...frames(70, 0), ...frames(64, 80)];
    const windows = cutWindows(run);
    expect(windows.map((w) => w.startIndex)).toEqual([0, 5, 70]);
    expect(windows[2].startTime).toBeCloseTo(80 / POSE_FPS, 9);
  });

  it('takes audio from the first to the last frame, zero-padded to 67,267 samples', () => {
    const audio = Float32Array.from({ length: 10 * SAMPLE_RATE }, (_, i) => i);
    const w = windowAudio(audio, 1, 1 + 63 / POSE_FPS);
    expect(w).toHaveLength(WINDOW_AUDIO_SAMPLES);
    expect(w[0]).toBe(SAMPLE_RATE);
    expect(w[67_199]).toBe(SAMPLE_RATE + 67_199);
    expect(w[67_200]).toBe(0);
    // At the original 14.985 fps the span is exactly the 67,267 samples.
    const orig = windowAudio(audio, 0, 63 / 14.985);
    expect(orig[WINDOW_AUDIO_SAMPLES - 1]).toBe(WINDOW_AUDIO_SAMPLES - 1);
    // Past the end of the recording: zeros, never a throw.
    expect(windowAudio(audio, 9, 9 + 4.2).subarray(16_000)).toEqual(new Float32Array(WINDOW_AUDIO_SAMPLES - 16_000));
  });

  it('assigns splits deterministically, about 80/10/10', () => {
    const counts = { train: 0, dev: 0, test: 0 };
    for (let i = 0; i < 2000; i++) counts[assignSplit('oliver', `v${i % 7}.mp4`, `int-${i}`)]++;
    expect(counts.train / 2000).toBeGreaterThan(0.75);
    expect(counts.train / 2000).toBeLessThan(0.85);
    expect(counts.dev / 2000).toBeGreaterThan(0.07);
    expect(counts.test / 2000).toBeGreaterThan(0.07);
    expect(assignSplit('a', 'b', 'c')).toBe(assignSplit('a', 'b', 'c'));
  });

  it('streams a video into samples interval by interval, with given or assigned splits', async () => {
    const video: SourceVideo = {
      name: 'v.mp4',
      intervals: [
        { id: 'a', start: 0, end: 99 / POSE_FPS, split: 'test' },
        { id: 'short', start: 110 / POSE_FPS, end: 150 / POSE_FPS },
        { id: 'b', start: 200 / POSE_FPS, end: 299 / POSE_FPS },
      ],
      frameCount: 300,
      frames: async function* () {
        yield* frames(300);
      },
    };
    const audio = new Float32Array(25 * SAMPLE_RATE).fill(0.5);
    const out = [];
    for await (const s of videoSamples('oliver', video, audio)) out.push(s);
    expect(out).toHaveLength(2 * windowCount(100));
    expect(out[0]).toMatchObject({ id: 'v.mp4/a/0', intervalId: 'a', split: 'test', startTime: 0 });
    expect(out[0].pose).toHaveLength(64 * FRAME_VALUES);
    expect(out[1].pose[0]).toBe(5);
    expect(out.every((s) => s.audio.length === WINDOW_AUDIO_SAMPLES)).toBe(true);
    expect(out.filter((s) => s.intervalId === 'b').every((s) => s.split === assignSplit('oliver', 'v.mp4', 'b'))).toBe(true);
    // An audio reader gives the same samples as the whole waveform.
    const reader = async (start: number, length: number) => audio.slice(start, start + length);
    const again = [];
    for await (const s of videoSamples('oliver', video, reader)) again.push(s.audio);
    expect(again[3]).toEqual(out[3].audio);
  });
});
