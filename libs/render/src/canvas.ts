import { ErrorCode, S2gError } from '@s2g/contracts';

/** An sRGB colour; `a` is opacity in [0, 1] (1 when omitted). */
export interface Colour {
  r: number;
  g: number;
  b: number;
  a?: number;
}

/** An axis-aligned pixel rectangle: x0, y0 inclusive, x1, y1 exclusive. */
export interface Rect {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}

/**
 * Side in pixels of the square tiles in which a canvas records where it was drawn on (a power of
 * two, and even for yuv420p). 16 covers the PATS frames' strokes with about a tenth of a 720p frame;
 * 8 covers a little less in twice as many rectangles, for no measurable gain.
 */
const DAMAGE_TILE_SHIFT = 4;
export const DAMAGE_TILE = 1 << DAMAGE_TILE_SHIFT;

/**
 * An opaque rgb24 image, row-major, 3 bytes per pixel. rgb24 rather than rgba because every frame
 * ends up in an opaque video: a quarter fewer bytes to write and to pipe into the encoder.
 */
export class Canvas {
  readonly data: Uint8Array;
  private readonly tileColumns: number;
  /** One flag per DAMAGE_TILE square, row-major: drawn on since the last `takeDamage`. */
  private readonly damagedTiles: Uint8Array;

  constructor(
    readonly width: number,
    readonly height: number,
    data?: Uint8Array,
  ) {
    if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
      throw new S2gError(ErrorCode.BAD_USER_INPUT, `canvas size must be positive integers, got ${width}x${height}`);
    }
    const bytes = width * height * 3;
    if (data && data.length !== bytes) {
      throw new S2gError(ErrorCode.BAD_USER_INPUT, `canvas buffer has ${data.length} bytes, ${width}x${height} rgb24 needs ${bytes}`);
    }
    this.data = data ?? new Uint8Array(bytes);
    this.tileColumns = Math.ceil(width / DAMAGE_TILE);
    this.damagedTiles = new Uint8Array(this.tileColumns * Math.ceil(height / DAMAGE_TILE));
  }

  /**
   * Records that the pixels of [x0, x1) x [y0, y1) were drawn; every drawing function here calls
   * it, with boxes clipped to the canvas (a box reaching outside only marks extra tiles).
   */
  markDamage(x0: number, y0: number, x1: number, y1: number): void {
    if (x1 <= x0 || y1 <= y0) return;
    // Called for every row of every stroke: shifts and a plain loop, cheaper than divisions and fill().
    const cols = this.tileColumns;
    const tx0 = x0 >> DAMAGE_TILE_SHIFT;
    const tx1 = (Math.ceil(x1) - 1) >> DAMAGE_TILE_SHIFT;
    const ty1 = (Math.ceil(y1) - 1) >> DAMAGE_TILE_SHIFT;
    for (let ty = y0 >> DAMAGE_TILE_SHIFT; ty <= ty1; ty++) for (let t = ty * cols + tx0; t <= ty * cols + tx1; t++) this.damagedTiles[t] = 1;
  }

  /**
   * Where the canvas was drawn on since the previous call (none if nothing was), as whole tiles:
   * one rectangle per run of drawn-on tiles in a tile row, clipped to the canvas. Then starts
   * afresh. Writes straight into `data` are not seen. FrameRenderer uses it to list what a frame
   * changed, so that only those parts are converted for the encoder.
   */
  takeDamage(): Rect[] {
    const rects: Rect[] = [];
    const cols = this.tileColumns;
    const tiles = this.damagedTiles;
    for (let ty = 0; ty * cols < tiles.length; ty++) {
      for (let tx = 0; tx < cols; tx++) {
        if (!tiles[ty * cols + tx]) continue;
        const start = tx;
        while (tx < cols && tiles[ty * cols + tx]) tx++;
        rects.push({
          x0: start * DAMAGE_TILE,
          y0: ty * DAMAGE_TILE,
          x1: Math.min(this.width, tx * DAMAGE_TILE),
          y1: Math.min(this.height, (ty + 1) * DAMAGE_TILE),
        });
      }
    }
    tiles.fill(0);
    return rects;
  }

  get bounds(): Rect {
    return { x0: 0, y0: 0, x1: this.width, y1: this.height };
  }

  /** The colour of one pixel, for tests and pickers. */
  pixel(x: number, y: number): [number, number, number] {
    const i = (y * this.width + x) * 3;
    return [this.data[i], this.data[i + 1], this.data[i + 2]];
  }
}

/** Parses `#rgb`, `#rrggbb` or `#rrggbbaa`. */
export function hex(value: string): Colour {
  const m = /^#([0-9a-f]{3}|[0-9a-f]{6}|[0-9a-f]{8})$/i.exec(value);
  if (!m) throw new S2gError(ErrorCode.BAD_USER_INPUT, `not a hex colour: ${value}`);
  let h = m[1];
  if (h.length === 3) h = h.replace(/./g, (c) => c + c);
  const n = (i: number): number => parseInt(h.slice(i, i + 2), 16);
  return { r: n(0), g: n(2), b: n(4), a: h.length === 8 ? n(6) / 255 : 1 };
}

/** The same colour with its opacity multiplied by `alpha`. */
export function withAlpha(colour: Colour, alpha: number): Colour {
  return { ...colour, a: (colour.a ?? 1) * alpha };
}

export function intersect(a: Rect, b: Rect): Rect {
  return { x0: Math.max(a.x0, b.x0), y0: Math.max(a.y0, b.y0), x1: Math.min(a.x1, b.x1), y1: Math.min(a.y1, b.y1) };
}

/** Whole-canvas fill with an opaque colour (its alpha is ignored). */
export function fill(canvas: Canvas, colour: Colour): void {
  const d = canvas.data;
  d[0] = colour.r;
  d[1] = colour.g;
  d[2] = colour.b;
  // Doubling copyWithin is memcpy-speed, far faster than a per-pixel loop.
  let filled = 3;
  while (filled < d.length) {
    const n = Math.min(filled, d.length - filled);
    d.copyWithin(filled, 0, n);
    filled += n;
  }
  canvas.markDamage(0, 0, canvas.width, canvas.height);
}

/** Fills a rectangle (clipped to the canvas), blending by the colour's alpha. */
export function fillRect(canvas: Canvas, rect: Rect, colour: Colour): void {
  const r = intersect(rect, canvas.bounds);
  const x0 = Math.max(0, Math.round(r.x0));
  const x1 = Math.min(canvas.width, Math.round(r.x1));
  const y0 = Math.max(0, Math.round(r.y0));
  const y1 = Math.min(canvas.height, Math.round(r.y1));
  if (x1 <= x0 || y1 <= y0) return;
  const a = Math.round((colour.a ?? 1) * 256);
  if (a <= 0) return;
  canvas.markDamage(x0, y0, x1, y1);
  const d = canvas.data;
  const { r: cr, g: cg, b: cb } = colour;
  for (let y = y0; y < y1; y++) {
    let i = (y * canvas.width + x0) * 3;
    for (let x = x0; x < x1; x++, i += 3) {
      if (a >= 256) {
        d[i] = cr;
        d[i + 1] = cg;
        d[i + 2] = cb;
      } else {
        d[i] += ((cr - d[i]) * a + 128) >> 8;
        d[i + 1] += ((cg - d[i + 1]) * a + 128) >> 8;
        d[i + 2] += ((cb - d[i + 2]) * a + 128) >> 8;
      }
    }
  }
}

/**
 * Copies `src` (rgb24, srcWidth x srcHeight) onto the canvas with its top-left corner at (x, y),
 * clipped to `clip` and the canvas.
 */
export function blit(canvas: Canvas, src: Uint8Array, srcWidth: number, srcHeight: number, x: number, y: number, clip: Rect = canvas.bounds): void {
  if (src.length < srcWidth * srcHeight * 3) {
    throw new S2gError(ErrorCode.BAD_USER_INPUT, `image buffer has ${src.length} bytes, ${srcWidth}x${srcHeight} rgb24 needs ${srcWidth * srcHeight * 3}`);
  }
  const c = intersect(intersect(clip, canvas.bounds), { x0: x, y0: y, x1: x + srcWidth, y1: y + srcHeight });
  if (c.x1 <= c.x0 || c.y1 <= c.y0) return;
  canvas.markDamage(c.x0, c.y0, c.x1, c.y1);
  const rowBytes = (c.x1 - c.x0) * 3;
  for (let yy = c.y0; yy < c.y1; yy++) {
    const from = ((yy - y) * srcWidth + (c.x0 - x)) * 3;
    canvas.data.set(src.subarray(from, from + rowBytes), (yy * canvas.width + c.x0) * 3);
  }
}
