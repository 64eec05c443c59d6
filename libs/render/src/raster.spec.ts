import { describe, expect, it } from 'vitest';
import { Canvas, Rect, fill, fillRect, hex } from './canvas';
import { drawLine, fillCapsule, fillCircle } from './raster';

const WHITE = hex('#ffffff');
const RED = hex('#ff0000');

function blank(w: number, h: number): Canvas {
  const c = new Canvas(w, h);
  fill(c, WHITE);
  return c;
}

function distToSegment(px: number, py: number, ax: number, ay: number, bx: number, by: number): number {
  const dx = bx - ax;
  const dy = by - ay;
  const l2 = dx * dx + dy * dy;
  const t = l2 > 0 ? Math.min(1, Math.max(0, ((px - ax) * dx + (py - ay) * dy) / l2)) : 0;
  return Math.hypot(px - ax - t * dx, py - ay - t * dy);
}

/** Every pixel against a brute-force distance field: full colour inside, untouched outside, coverage in between. */
function checkCapsule(c: Canvas, ax: number, ay: number, bx: number, by: number, r: number): { partial: number } {
  let partial = 0;
  for (let y = 0; y < c.height; y++) {
    for (let x = 0; x < c.width; x++) {
      const d = distToSegment(x + 0.5, y + 0.5, ax, ay, bx, by);
      const [pr, pg, pb] = c.pixel(x, y);
      const coverage = Math.min(1, Math.max(0, r + 0.5 - d));
      expect(pr, `red at ${x},${y}`).toBe(255);
      // White to red: green and blue fall with coverage.
      expect(Math.abs(pg - 255 * (1 - coverage)), `green at ${x},${y} (d=${d.toFixed(3)})`).toBeLessThanOrEqual(1.5);
      expect(pb).toBe(pg);
      if (coverage > 0.05 && coverage < 0.95) partial++;
    }
  }
  return { partial };
}

describe('fillCapsule', () => {
  it('puts colour exactly where the distance field says, with anti-aliased edges', () => {
    const cases: [number, number, number, number, number][] = [
      [5.3, 10.25, 40.7, 10.25, 1.5], // horizontal
      [20.5, 2.2, 20.5, 27.9, 2.25], // vertical
      [3.1, 4.6, 44.2, 26.3, 3], // diagonal
      [40.2, 3.3, 8.8, 25.1, 0.8], // thin, right to left
      [24.4, 15.6, 24.4, 15.6, 6.2], // zero length: a disc
    ];
    for (const [ax, ay, bx, by, r] of cases) {
      const c = blank(48, 30);
      fillCapsule(c, ax, ay, bx, by, r, RED);
      const { partial } = checkCapsule(c, ax, ay, bx, by, r);
      expect(partial).toBeGreaterThan(4);
    }
  });

  it('draws a 3 px line over exactly the rows it covers', () => {
    const c = blank(40, 20);
    drawLine(c, 10, 10.25, 30, 10.25, 3, RED);
    expect(c.pixel(20, 9)).toEqual([255, 0, 0]);
    expect(c.pixel(20, 10)).toEqual([255, 0, 0]);
    // Row 11's centre is 1.25 from the axis: 75 % coverage. Row 8's is 1.75: 25 %.
    expect(c.pixel(20, 11)).toEqual([255, 64, 64]);
    expect(c.pixel(20, 8)).toEqual([255, 191, 191]);
    expect(c.pixel(20, 7)).toEqual([255, 255, 255]);
    expect(c.pixel(20, 12)).toEqual([255, 255, 255]);
    // Round cap: half a pixel past the end is still partly covered, two pixels past is not.
    const cap = c.pixel(31, 10);
    expect(cap[1]).toBeGreaterThan(0);
    expect(cap[1]).toBeLessThan(255);
    expect(c.pixel(33, 10)).toEqual([255, 255, 255]);
  });

  it('never writes outside its clip rectangle or the canvas', () => {
    const c = blank(30, 30);
    fillCapsule(c, -10, 15, 50, 15, 5, RED, { x0: 10, y0: 0, x1: 20, y1: 30 });
    for (let y = 0; y < 30; y++) {
      for (let x = 0; x < 30; x++) {
        if (x < 10 || x >= 20) expect(c.pixel(x, y)).toEqual([255, 255, 255]);
      }
    }
    expect(c.pixel(15, 15)).toEqual([255, 0, 0]);
  });

  it('skips segments with a missing (non-finite) end', () => {
    const c = blank(10, 10);
    fillCapsule(c, 2, 2, Number.NaN, 8, 2, RED);
    expect(c.data.every((v) => v === 255)).toBe(true);
  });

  it('blends by the colour alpha', () => {
    const c = blank(20, 20);
    fillCircle(c, 10, 10, 5, { ...RED, a: 0.5 });
    expect(c.pixel(10, 10)).toEqual([255, 128, 128]);
    fillCircle(c, 10, 10, 5, { ...RED, a: 0.5 });
    expect(c.pixel(10, 10)).toEqual([255, 64, 64]);
  });
});

describe('fillCircle', () => {
  it('fills the disc and leaves the rest', () => {
    const c = blank(20, 20);
    fillCircle(c, 10, 10, 4, hex('#00ff00'));
    expect(c.pixel(10, 10)).toEqual([0, 255, 0]);
    expect(c.pixel(7, 9)).toEqual([0, 255, 0]); // centre (7.5, 9.5): distance 2.55
    expect(c.pixel(14, 10)).toEqual([255, 255, 255]); // centre 4.53 from the middle: 0 % at r + 0.5 = 4.5
    expect(c.pixel(0, 0)).toEqual([255, 255, 255]);
    const edge = c.pixel(13, 13); // centre (13.5, 13.5): distance 4.95, beyond the disc
    expect(edge).toEqual([255, 255, 255]);
    const aa = c.pixel(13, 12); // centre (13.5, 12.5): distance 4.30, 20 % coverage
    expect(aa[0]).toBeGreaterThan(190);
    expect(aa[0]).toBeLessThan(220);
  });
});

describe('fillRect', () => {
  it('fills exactly the rectangle, clipped to the canvas', () => {
    const c = blank(10, 10);
    fillRect(c, { x0: 7, y0: -3, x1: 14, y1: 2 }, RED);
    expect(c.pixel(7, 0)).toEqual([255, 0, 0]);
    expect(c.pixel(9, 1)).toEqual([255, 0, 0]);
    expect(c.pixel(6, 0)).toEqual([255, 255, 255]);
    expect(c.pixel(7, 2)).toEqual([255, 255, 255]);
  });
});

describe('damage tracking', () => {
  /** Every pixel that differs from white lies in one of the rectangles. */
  function covered(c: Canvas, rects: readonly Rect[]): boolean {
    for (let y = 0; y < c.height; y++) {
      for (let x = 0; x < c.width; x++) {
        const [r, g, b] = c.pixel(x, y);
        if ((r & g & b) !== 255 && !rects.some((q) => x >= q.x0 && x < q.x1 && y >= q.y0 && y < q.y1)) return false;
      }
    }
    return true;
  }

  it('records the tiles drawn on, tile-aligned and clipped to the canvas, then starts afresh', () => {
    const c = blank(100, 70);
    // The white fill: every tile, one run per tile row; the last row is cut to the canvas.
    expect(c.takeDamage()).toEqual([0, 16, 32, 48, 64].map((y0) => ({ x0: 0, y0, x1: 100, y1: Math.min(70, y0 + 16) })));
    expect(c.takeDamage()).toEqual([]);
    fillRect(c, { x0: 20, y0: 3, x1: 35, y1: 5 }, RED);
    expect(c.takeDamage()).toEqual([{ x0: 16, y0: 0, x1: 48, y1: 16 }]);
    fillCircle(c, 97, 68, 2, RED); // reaches x = 94.5: two tiles, the second cut to the canvas
    expect(c.takeDamage()).toEqual([{ x0: 80, y0: 64, x1: 100, y1: 70 }]);
  });

  it('covers every pixel a diagonal stroke touches, with far less than its bounding box', () => {
    const c = blank(200, 200);
    c.takeDamage();
    drawLine(c, 10, 10, 190, 185, 6, RED);
    fillCapsule(c, 150, 20, 150, 20, 0, RED); // zero radius: nothing drawn, nothing recorded
    const rects = c.takeDamage();
    expect(covered(c, rects)).toBe(true);
    const area = rects.reduce((a, r) => a + (r.x1 - r.x0) * (r.y1 - r.y0), 0);
    expect(area).toBeLessThan(0.35 * 200 * 200);
  });
});
