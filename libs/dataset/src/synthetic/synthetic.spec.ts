import { describe, expect, it } from 'vitest';
import { NUM_MEL_BANDS, SAMPLE_RATE, logMel } from '@s2g/audio';
import { ErrorCode } from '@s2g/contracts';
import { FRAME_VALUES, NUM_KEYPOINTS, PARENTS, POSE_FPS } from '@s2g/pose';
import { FRAME_HEIGHT, FRAME_WIDTH } from './body';
import { planSyntheticSpeaker, synthesizeVideo } from './generate';

const plan = planSyntheticSpeaker({ seed: 3, minutes: 1, style: { preferredHand: 'right', rest: 'low', amplitude: 1 } });
const video = synthesizeVideo(plan, 0);
const T = video.frameCount;
const at = (k: number, j: number, axis: 0 | 1) => video.poses[k * FRAME_VALUES + axis * NUM_KEYPOINTS + j];

/** Solves (A + lambda I) x = b for each column of b (Gauss-Jordan); A is n x n, b is n x m, row-major. */
function ridgeSolve(a: Float64Array, b: Float64Array, n: number, m: number, lambda: number): Float64Array {
  const w = n + m;
  const aug = new Float64Array(n * w);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) aug[i * w + j] = a[i * n + j] + (i === j ? lambda : 0);
    for (let j = 0; j < m; j++) aug[i * w + n + j] = b[i * m + j];
  }
  for (let c = 0; c < n; c++) {
    const p = aug[c * w + c];
    for (let j = 0; j < w; j++) aug[c * w + j] /= p;
    for (let r = 0; r < n; r++) {
      if (r === c) continue;
      const f = aug[r * w + c];
      if (f !== 0) for (let j = 0; j < w; j++) aug[r * w + j] -= f * aug[c * w + j];
    }
  }
  const x = new Float64Array(n * m);
  for (let i = 0; i < n; i++) for (let j = 0; j < m; j++) x[i * m + j] = aug[i * w + n + j];
  return x;
}


/**
 * Held-out L1 of a ridge regression from recent log-mel (8 band groups x 9 spans of the last second)
 * to the 96 neck-relative values of `video`, relative to the median-pose baseline; trained on the
 * first 70% of the frames, scored on the rest, z-scored like training does.
 */
function heldOutRatio(audio: Float32Array): number {
  const mel = logMel(audio);
  const spans = [-100, -80, -60, -40, -30, -20, -10, 0, 10, 20];
  const groups = 8;
  const n = (spans.length - 1) * groups + 1;
  const feats = new Float64Array(T * n);
  for (let k = 0; k < T; k++) {
    const c = Math.round((k / POSE_FPS) * 100);
    for (let s = 0; s + 1 < spans.length; s++) {
      for (let g = 0; g < groups; g++) {
        let sum = 0;
        let cnt = 0;
        for (let t = Math.max(0, c + spans[s]); t < Math.min(mel.frames, c + spans[s + 1]); t++) {
          for (let band = g * 8; band < (g + 1) * 8; band++) sum += mel.data[t * NUM_MEL_BANDS + band];
          cnt += 8;
        }
        feats[k * n + s * groups + g] = cnt ? sum / cnt / 10 : -1.4;
      }
    }
    feats[k * n + n - 1] = 1;
  }
  const m = FRAME_VALUES - 2;
  const targets = new Float64Array(T * m);
  for (let k = 0; k < T; k++) {
    let o = 0;
    for (const axis of [0, 1] as const) for (let j = 1; j < NUM_KEYPOINTS; j++) targets[k * m + o++] = at(k, j, axis) - at(k, 0, axis);
  }
  const train = Math.floor(T * 0.7);
  for (let j = 0; j < m; j++) {
    let mu = 0;
    for (let k = 0; k < train; k++) mu += targets[k * m + j] / train;
    let sd = 0;
    for (let k = 0; k < train; k++) sd += (targets[k * m + j] - mu) ** 2 / train;
    sd = Math.sqrt(sd) || 1;
    for (let k = 0; k < T; k++) targets[k * m + j] = (targets[k * m + j] - mu) / sd;
  }
  const ata = new Float64Array(n * n);
  const atb = new Float64Array(n * m);
  for (let k = 0; k < train; k++) {
    for (let i = 0; i < n; i++) {
      const fi = feats[k * n + i];
      for (let j = 0; j < n; j++) ata[i * n + j] += fi * feats[k * n + j];
      for (let j = 0; j < m; j++) atb[i * m + j] += fi * targets[k * m + j];
    }
  }
  const beta = ridgeSolve(ata, atb, n, m, 1);
  let modelL1 = 0;
  let medianL1 = 0;
  for (let j = 0; j < m; j++) {
    const col = Array.from({ length: train }, (_, k) => targets[k * m + j]).sort((a, b) => a - b);
    const median = col[Math.floor(train / 2)];
    for (let k = train; k < T; k++) {
      let pred = 0;
      for (let i = 0; i < n; i++) pred += feats[k * n + i] * beta[i * m + j];
      modelL1 += Math.abs(pred - targets[k * m + j]);
      medianL1 += Math.abs(median - targets[k * m + j]);
    }
  }
  return modelL1 / medianL1;
}

describe('synthetic speaker', () => {
  it('is deterministic from the seed, and the seed matters', () => {
    const again = synthesizeVideo(planSyntheticSpeaker({ seed: 3, minutes: 1, style: { preferredHand: 'right', rest: 'low', amplitude: 1 } }), 0);
    expect(Buffer.from(again.audio.buffer).equals(Buffer.from(video.audio.buffer))).toBe(true);
    expect(Buffer.from(again.poses.buffer).equals(Buffer.from(video.poses.buffer))).toBe(true);
    expect(again.intervals).toEqual(video.intervals);
    const other = synthesizeVideo(planSyntheticSpeaker({ seed: 4, minutes: 1 }), 0);
    expect(Buffer.from(other.audio.buffer).equals(Buffer.from(video.audio.buffer))).toBe(false);
  });

  it('sounds like speech: phrases with pauses, a plausible level, no clipping', () => {
    expect(video.audio).toHaveLength(60 * SAMPLE_RATE);
    const blocks = Math.floor(video.audio.length / 1600);
    const rms = Array.from({ length: blocks }, (_, b) => {
      let s = 0;
      for (let i = b * 1600; i < (b + 1) * 1600; i++) s += video.audio[i] ** 2;
      return Math.sqrt(s / 1600);
    });
    const quiet = rms.filter((r) => r < 0.01).length / blocks;
    expect(quiet).toBeGreaterThan(0.1);
    expect(quiet).toBeLessThan(0.6);
    let peak = 0;
    for (const v of video.audio) peak = Math.max(peak, Math.abs(v));
    expect(peak).toBeLessThan(1);
    expect(Math.max(...rms)).toBeGreaterThan(0.1);
  });

  it('has human proportions inside a 1280x720 frame, with fixed bone lengths', () => {
    const length = (k: number, j: number) => Math.hypot(at(k, j, 0) - at(k, PARENTS[j], 0), at(k, j, 1) - at(k, PARENTS[j], 1));
    const shoulders: number[] = [];
    const box = { minX: Infinity, maxX: -Infinity, minY: Infinity, maxY: -Infinity };
    let longestUpperArm = 0;
    for (let k = 0; k < T; k++) {
      for (let j = 0; j < NUM_KEYPOINTS; j++) {
        box.minX = Math.min(box.minX, at(k, j, 0));
        box.maxX = Math.max(box.maxX, at(k, j, 0));
        box.minY = Math.min(box.minY, at(k, j, 1));
        box.maxY = Math.max(box.maxY, at(k, j, 1));
      }
      shoulders.push(length(k, 1) + length(k, 4));
      longestUpperArm = Math.max(longestUpperArm, length(k, 2), length(k, 5));
    }
    expect(box.minX).toBeGreaterThan(0);
    expect(box.maxX).toBeLessThan(FRAME_WIDTH);
    expect(box.minY).toBeGreaterThan(0);
    expect(box.maxY).toBeLessThan(FRAME_HEIGHT);
    // Seen from the front a bone can look shorter (foreshortened), never longer (jitter aside).
    expect(longestUpperArm).toBeLessThan(0.74 * plan.style.shoulderWidth + 4);
    expect(longestUpperArm).toBeGreaterThan(0.74 * plan.style.shoulderWidth - 10);
    const mean = shoulders.reduce((a, b) => a + b, 0) / T;
    expect(mean).toBeCloseTo(plan.style.shoulderWidth, -1);
  });

  it('moves the preferred hand with the voice and rests it in pauses', () => {
    const energy: number[] = [];
    const wrist: number[] = [];
    for (let k = 0; k < T; k++) {
      const end = Math.round((k / POSE_FPS) * SAMPLE_RATE);
      let s = 0;
      for (let i = Math.max(0, end - 8000); i < end; i++) s += video.audio[i] ** 2;
      energy.push(Math.sqrt(s / 8000));
      // Height of the right wrist above its lowest point: the hand rises out of rest when talking.
      wrist.push(-(at(k, 3, 1) - at(k, 0, 1)));
    }
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    const me = mean(energy);
    const mw = mean(wrist);
    let cov = 0;
    let ve = 0;
    let vw = 0;
    for (let k = 0; k < T; k++) {
      cov += (energy[k] - me) * (wrist[k] - mw);
      ve += (energy[k] - me) ** 2;
      vw += (wrist[k] - mw) ** 2;
    }
    expect(cov / Math.sqrt(ve * vw)).toBeGreaterThan(0.6);
    const restY = Math.min(...wrist);
    const silentFrames = wrist.filter((_, k) => k > 30 && energy[k] < 0.003 && energy[k - 15] < 0.003);
    expect(silentFrames.length).toBeGreaterThan(5);
    for (const w of silentFrames) expect(w - restY).toBeLessThan(0.15 * plan.style.shoulderWidth);
  });

  it('is learnable: a linear model of recent log-mel beats the median pose, and fails with unrelated audio', () => {
    const ratio = heldOutRatio(video.audio);
    const control = heldOutRatio(synthesizeVideo(planSyntheticSpeaker({ seed: 99, minutes: 1 }), 0).audio);
    expect(ratio).toBeLessThan(0.85);
    expect(control).toBeGreaterThan(ratio + 0.15);
  });

  it('rejects bad names, lengths and presets with coded errors', () => {
    expect(() => planSyntheticSpeaker({ seed: 1, minutes: 1, name: '../x' })).toThrow(expect.objectContaining({ code: ErrorCode.BAD_USER_INPUT }));
    expect(() => planSyntheticSpeaker({ seed: 1, minutes: 0 })).toThrow(/minutes must be in/);
    expect(() => planSyntheticSpeaker({ seed: 1, minutes: 1, style: 'shouty' as 'calm' })).toThrow(/unknown style preset 'shouty'/);
    expect(planSyntheticSpeaker({ seed: 1, minutes: 5 }).videos).toHaveLength(3);
    expect(planSyntheticSpeaker({ seed: 1, minutes: 1, style: 'lefty' }).style.preferredHand).toBe('left');
  });
});
