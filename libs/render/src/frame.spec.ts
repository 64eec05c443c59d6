import { FRAME_VALUES, JOINT_GROUPS, NUM_KEYPOINTS } from '@s2g/pose';
import { describe, expect, it } from 'vitest';
import { decodePng } from '../test/png-decode';
import { loadPatsPose } from '../test/pats';
import { Colour } from './canvas';
import { FrameRenderer } from './frame';
import { choosePosterFrame, renderPoster } from './poster';
import { LIGHT_THEME, VIDEO_THEME } from './theme';

const gt = loadPatsPose();
const T = gt.length / FRAME_VALUES;

function rgb(c: Colour): [number, number, number] {
  return [c.r, c.g, c.b];
}

/** Neck, shoulders and elbows: dots no other part of the figure is drawn over. */
const ARM_JOINTS = [0, 1, 2, 4, 5];

describe('PATS fixture poster', () => {
  // A fake prediction: the ground truth 20 frames later, so the two panels differ.
  const pred = new Float32Array(gt.length);
  for (let t = 0; t < T; t++) pred.set(gt.subarray(((t + 20) % T) * FRAME_VALUES, ((t + 20) % T + 1) * FRAME_VALUES), t * FRAME_VALUES);
  const options = {
    sequences: [
      { label: 'prediction', frames: pred },
      { label: 'ground truth', frames: gt },
    ],
    width: 640,
    height: 360,
    fps: 15,
    title: 'cmu0000033570',
  };

  it('has 109 frames of 49 joints', () => {
    expect(T).toBe(109);
    expect(gt[0]).toBeCloseTo(376.672, 2);
    expect(gt[NUM_KEYPOINTS]).toBeCloseTo(304.139, 2);
  });

  it('puts each limb colour at its projected joints, in the PNG as on the canvas', () => {
    const { png, frame } = renderPoster(options);
    const image = decodePng(png);
    expect(image).toMatchObject({ width: 640, height: 360, channels: 3 });
    const at = (x: number, y: number): number[] => Array.from(image.pixels.subarray((y * 640 + x) * 3, (y * 640 + x) * 3 + 3));
    const renderer = new FrameRenderer(options);
    for (let seq = 0; seq < 2; seq++) {
      for (const j of ARM_JOINTS) {
        const p = renderer.project(seq, frame, j);
        expect(at(Math.floor(p.x), Math.floor(p.y)), `sequence ${seq} joint ${j}`).toEqual(rgb(LIGHT_THEME.limbs[JOINT_GROUPS[j]]));
      }
      // Between the panel's figure and its edge there is only background.
      const panel = renderer.layout.panels[seq].figure;
      expect(at(panel.x0 + 2, panel.y1 - 3)).toEqual(rgb(LIGHT_THEME.background));
    }
    // Both hands are drawn in their own colours somewhere.
    const colours = new Set<string>();
    for (let i = 0; i < image.pixels.length; i += 3) colours.add(`${image.pixels[i]},${image.pixels[i + 1]},${image.pixels[i + 2]}`);
    for (const group of ['left_hand', 'right_hand', 'left_arm', 'right_arm', 'torso'] as const) expect(colours).toContain(rgb(LIGHT_THEME.limbs[group]).join(','));
    // Labels: text-coloured pixels in each panel's header strip.
    for (const p of renderer.layout.panels) {
      let ink = 0;
      for (let y = p.header.y0; y < p.header.y1; y++) for (let x = p.header.x0; x < p.header.x1; x++) if (at(x, y).join() === rgb(LIGHT_THEME.text).join()) ink++;
      expect(ink).toBeGreaterThan(20);
    }
  });

  it('draws both panels at one shared scale', () => {
    const r = new FrameRenderer({ ...options, sequences: [options.sequences[1], options.sequences[1]] });
    const a = r.project(0, 10, 3);
    const b = r.project(1, 10, 3);
    expect(b.y).toBeCloseTo(a.y);
    expect(b.x - a.x).toBeCloseTo(r.layout.panels[1].figure.x0 - r.layout.panels[0].figure.x0, 0);
    // The figure fills the panel: its widest extent across the sequence spans most of the width.
    let minX = Infinity;
    let maxX = -Infinity;
    for (let t = 0; t < T; t++) {
      for (let j = 0; j < NUM_KEYPOINTS; j++) {
        const p = r.project(0, t, j);
        minX = Math.min(minX, p.x);
        maxX = Math.max(maxX, p.x);
      }
    }
    const fig = r.layout.panels[0].figure;
    expect(minX).toBeGreaterThanOrEqual(fig.x0);
    expect(maxX).toBeLessThanOrEqual(fig.x1);
    expect(maxX - minX).toBeGreaterThan(0.7 * (fig.x1 - fig.x0));
  });

  it('changes only the figures and the time between frames', () => {
    const r = new FrameRenderer(options);
    const first = r.render(0).data.slice();
    const last = r.render(T - 1).data;
    const header = r.layout.panels[0].header;
    let changedInHeader = 0;
    for (let y = header.y0; y < header.y1; y++) for (let x = 0; x < 640; x++) if (first[(y * 640 + x) * 3 + 1] !== last[(y * 640 + x) * 3 + 1]) changedInHeader++;
    expect(changedInHeader).toBe(0);
    expect(Buffer.from(first).equals(Buffer.from(last))).toBe(false);
  });
});

describe('drawing over a background video frame', () => {
  it('scales the video into each panel and the pose with it', () => {
    const video = { width: 1280, height: 720 };
    const r = new FrameRenderer({ sequences: [{ label: 'ground truth', frames: gt }], width: 480, height: 360, fps: 15, background: video, showTime: false });
    const size = r.backgroundSize;
    if (!size) throw new Error('expected a background size');
    expect(size.width / size.height).toBeCloseTo(16 / 9, 1);
    const bg = new Uint8Array(size.width * size.height * 3);
    for (let i = 0; i < bg.length; i += 3) {
      bg[i] = 10;
      bg[i + 1] = 200;
      bg[i + 2] = 30;
    }
    const canvas = r.render(0, bg);
    const fig = r.layout.panels[0].figure;
    const x0 = fig.x0 + Math.floor((fig.x1 - fig.x0 - size.width) / 2);
    const y0 = fig.y0 + Math.floor((fig.y1 - fig.y0 - size.height) / 2);
    // Top-left corner of the video area shows the video; the neck sits at its video position scaled.
    expect(canvas.pixel(x0 + 1, y0 + 1)).toEqual([10, 200, 30]);
    const neck = r.project(0, 0, 0);
    expect(neck.x).toBeCloseTo(x0 + gt[0] * (size.width / 1280), 3);
    expect(neck.y).toBeCloseTo(y0 + gt[NUM_KEYPOINTS] * (size.width / 1280), 3);
    expect(canvas.pixel(Math.floor(neck.x), Math.floor(neck.y))).toEqual(rgb(VIDEO_THEME.limbs.torso));
    expect(() => r.render(0, new Uint8Array(12))).toThrow(/rgb24 needs/);
  });
});

describe('choosePosterFrame', () => {
  function still(frames: number): Float32Array {
    const s = new Float32Array(frames * FRAME_VALUES);
    for (let i = 0; i < s.length; i++) s[i] = 100 + (i % FRAME_VALUES);
    return s;
  }

  it('picks the middle of the most vigorous gesture', () => {
    const s = still(60);
    for (let t = 38; t <= 42; t++) s[t * FRAME_VALUES + 3] += (t % 2) * 80; // right wrist shakes
    s[10 * FRAME_VALUES + 5] += 30; // a small twitch elsewhere
    const f = choosePosterFrame([s]);
    expect(f).toBeGreaterThanOrEqual(38);
    expect(f).toBeLessThanOrEqual(42);
  });

  it('falls back to the middle when nothing moves', () => {
    expect(choosePosterFrame([still(21)])).toBe(10);
    expect(choosePosterFrame([still(1)])).toBe(0);
  });

  it('picks a frame in the fixture with more motion around it than most', () => {
    const speed = (t: number): number => {
      let sum = 0;
      for (let j = 0; j < FRAME_VALUES; j++) sum += Math.abs(gt[t * FRAME_VALUES + j] - gt[(t - 1) * FRAME_VALUES + j]);
      return sum;
    };
    const around = (f: number): number => {
      let sum = 0;
      for (let t = Math.max(1, f - 3); t <= Math.min(T - 1, f + 3); t++) sum += speed(t);
      return sum;
    };
    const scores = Array.from({ length: T }, (_, f) => around(f)).sort((a, b) => a - b);
    expect(around(choosePosterFrame([gt]))).toBeGreaterThanOrEqual(scores[Math.floor(T * 0.9)]);
  });
});
