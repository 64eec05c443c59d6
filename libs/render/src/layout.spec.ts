import { FRAME_VALUES, NUM_KEYPOINTS } from '@s2g/pose';
import { describe, expect, it } from 'vitest';
import { fitBounds, fitImage, frameCount, layoutPanels, sequenceBounds } from './layout';

function sequence(frames: number, at: (t: number, j: number) => [number, number]): Float32Array {
  const out = new Float32Array(frames * FRAME_VALUES);
  for (let t = 0; t < frames; t++) {
    for (let j = 0; j < NUM_KEYPOINTS; j++) {
      const [x, y] = at(t, j);
      out[t * FRAME_VALUES + j] = x;
      out[t * FRAME_VALUES + NUM_KEYPOINTS + j] = y;
    }
  }
  return out;
}

describe('sequenceBounds', () => {
  it('covers every frame of every sequence, ignoring missing points', () => {
    const a = sequence(10, (t, j) => [100 + t * 10 + j, 50 + j]);
    const b = sequence(3, (t, j) => (j === 5 ? [Number.NaN, Number.NaN] : [90, 200 + t]));
    const box = sequenceBounds([a, b], 0);
    expect(box).toEqual({ minX: 90, maxX: 100 + 90 + 48, minY: 50, maxY: 202 });
  });

  it('ignores a single glitching keypoint when trimming', () => {
    const a = sequence(100, (t, j) => [100 + (j % 10), 100 + (t % 10)]);
    a[50 * FRAME_VALUES + 3] = 5000;
    expect(sequenceBounds([a], 0)?.maxX).toBe(5000);
    expect(sequenceBounds([a])?.maxX).toBeLessThan(110);
  });

  it('rejects a buffer that is not whole frames', () => {
    expect(() => frameCount(new Float32Array(97))).toThrow(expect.objectContaining({ code: 'KEYPOINTS_INVALID' }));
    expect(sequenceBounds([sequence(2, () => [Number.NaN, 0])])).toBeNull();
  });
});

describe('fitBounds', () => {
  it('keeps the aspect ratio, centres and leaves the margin', () => {
    const t = fitBounds({ minX: 0, minY: 0, maxX: 200, maxY: 100 }, { x0: 100, y0: 0, x1: 500, y1: 400 }, 0.1);
    // 40 px margin on each side: 320 px for a 200 px-wide box.
    expect(t.scale).toBeCloseTo(1.6);
    expect(0 * t.scale + t.offsetX).toBeCloseTo(140);
    expect(200 * t.scale + t.offsetX).toBeCloseTo(460);
    expect(50 * t.scale + t.offsetY).toBeCloseTo(200);
  });

  it('fits an image into a panel at even size', () => {
    expect(fitImage(1920, 1080, { x0: 0, y0: 10, x1: 640, y1: 650 })).toEqual({ x0: 0, y0: 150, x1: 640, y1: 510 });
  });
});

describe('layoutPanels', () => {
  it('splits the width into equal labelled panels with dividers and a footer', () => {
    const l = layoutPanels(1280, 720, 2, { headerHeight: 42, footerHeight: 42, gap: 2 });
    expect(l.panels.map((p) => p.rect)).toEqual([
      { x0: 0, y0: 0, x1: 639, y1: 678 },
      { x0: 641, y0: 0, x1: 1280, y1: 678 },
    ]);
    expect(l.panels[1].figure).toEqual({ x0: 641, y0: 42, x1: 1280, y1: 678 });
    expect(l.dividers).toEqual([{ x0: 639, y0: 0, x1: 641, y1: 678 }]);
    expect(l.footer).toEqual({ x0: 0, y0: 678, x1: 1280, y1: 720 });
  });

  it('refuses sizes with no room for the panels', () => {
    expect(() => layoutPanels(20, 100, 4, { headerHeight: 10, footerHeight: 0, gap: 1 })).toThrow(/too small/);
  });
});
