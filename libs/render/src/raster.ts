import { Canvas, Colour, Rect, intersect } from './canvas';

/**
 * Anti-aliased capsule: every pixel whose centre lies within `radius + 0.5` of the segment a-b gets
 * coverage `radius + 0.5 - distance` (clamped to [0, 1]), blended with the colour's alpha. This is a
 * thick line with round caps; with a == b it is a filled disc.
 *
 * Only pixels inside the capsule are visited: each row's x-span is solved analytically (band around
 * the line, clipped to the slab between the end caps, plus the two end discs), so a long diagonal
 * costs its area, not its bounding box.
 */
export function fillCapsule(canvas: Canvas, ax: number, ay: number, bx: number, by: number, radius: number, colour: Colour, clip: Rect = canvas.bounds): void {
  const alpha = colour.a ?? 1;
  if (!(radius > 0) || !(alpha > 0) || !Number.isFinite(ax + ay + bx + by)) return;
  const c = intersect(clip, canvas.bounds);
  const outer = radius + 0.5;
  const outer2 = outer * outer;
  const innerR = radius - 0.5;
  const inner2 = innerR > 0 ? innerR * innerR : -1;
  const y0 = Math.max(c.y0, Math.floor(Math.min(ay, by) - outer));
  const y1 = Math.min(c.y1, Math.ceil(Math.max(ay, by) + outer));
  if (y1 <= y0 || c.x1 <= c.x0) return;

  const dx = bx - ax;
  const dy = by - ay;
  const len2 = dx * dx + dy * dy;
  const len = Math.sqrt(len2);
  const invLen2 = len2 > 0 ? 1 / len2 : 0;
  const ux = len > 0 ? dx / len : 0;
  const uy = len > 0 ? dy / len : 0;
  const fullA = Math.round(alpha * 256);
  const { r: cr, g: cg, b: cb } = colour;
  const d = canvas.data;
  const width = canvas.width;
  const EPS = 1e-9;

  for (let y = y0; y < y1; y++) {
    const py = y + 0.5;
    let lo = Infinity;
    let hi = -Infinity;
    // End discs.
    const da = py - ay;
    if (da > -outer && da < outer) {
      const w = Math.sqrt(outer2 - da * da);
      lo = Math.min(lo, ax - w);
      hi = Math.max(hi, ax + w);
    }
    const db = py - by;
    if (db > -outer && db < outer) {
      const w = Math.sqrt(outer2 - db * db);
      lo = Math.min(lo, bx - w);
      hi = Math.max(hi, bx + w);
    }
    if (len > 0) {
      // Band |n.(p - a)| <= outer with n = (-uy, ux), as an interval of (px - ax).
      let bandLo: number;
      let bandHi: number;
      if (Math.abs(uy) > EPS) {
        const k = ux * da;
        const p = (k - outer) / uy;
        const q = (k + outer) / uy;
        bandLo = Math.min(p, q);
        bandHi = Math.max(p, q);
      } else if (Math.abs(ux * da) <= outer) {
        bandLo = -Infinity;
        bandHi = Infinity;
      } else {
        bandLo = Infinity;
        bandHi = -Infinity;
      }
      // Slab 0 <= u.(p - a) <= len.
      let slabLo: number;
      let slabHi: number;
      if (Math.abs(ux) > EPS) {
        const k = uy * da;
        const p = -k / ux;
        const q = (len - k) / ux;
        slabLo = Math.min(p, q);
        slabHi = Math.max(p, q);
      } else if (uy * da >= 0 && uy * da <= len) {
        slabLo = -Infinity;
        slabHi = Infinity;
      } else {
        slabLo = Infinity;
        slabHi = -Infinity;
      }
      const rLo = Math.max(bandLo, slabLo);
      const rHi = Math.min(bandHi, slabHi);
      if (rLo <= rHi) {
        lo = Math.min(lo, ax + rLo);
        hi = Math.max(hi, ax + rHi);
      }
    }
    if (!(lo <= hi)) continue;
    const xs = Math.max(c.x0, Math.ceil(lo - 0.5));
    const xe = Math.min(c.x1 - 1, Math.floor(hi - 0.5));
    if (xs > xe) continue;
    canvas.markDamage(xs, y, xe + 1, y + 1);
    let i = (y * width + xs) * 3;
    for (let x = xs; x <= xe; x++, i += 3) {
      const px = x + 0.5 - ax;
      let t = (px * dx + da * dy) * invLen2;
      t = t < 0 ? 0 : t > 1 ? 1 : t;
      const ex = px - t * dx;
      const ey = da - t * dy;
      const dist2 = ex * ex + ey * ey;
      let a: number;
      if (dist2 <= inner2) a = fullA;
      else if (dist2 >= outer2) continue;
      else a = Math.round((outer - Math.sqrt(dist2)) * fullA);
      if (a >= 256) {
        d[i] = cr;
        d[i + 1] = cg;
        d[i + 2] = cb;
      } else if (a > 0) {
        d[i] += ((cr - d[i]) * a + 128) >> 8;
        d[i + 1] += ((cg - d[i + 1]) * a + 128) >> 8;
        d[i + 2] += ((cb - d[i + 2]) * a + 128) >> 8;
      }
    }
  }
}

/** Anti-aliased line of the given stroke width with round caps. */
export function drawLine(canvas: Canvas, x0: number, y0: number, x1: number, y1: number, width: number, colour: Colour, clip?: Rect): void {
  fillCapsule(canvas, x0, y0, x1, y1, width / 2, colour, clip);
}

/** Anti-aliased filled circle. */
export function fillCircle(canvas: Canvas, cx: number, cy: number, radius: number, colour: Colour, clip?: Rect): void {
  fillCapsule(canvas, cx, cy, cx, cy, radius, colour, clip);
}
