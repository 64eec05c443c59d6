import { ErrorCode, S2gError } from '@s2g/contracts';
import { Canvas, Rect } from './canvas';

/**
 * rgb24 to yuv420p, the encoder's own format, so ffmpeg need not convert (its swscale conversion
 * cost about 1.7 ms per 720p frame). The colours follow what ffmpeg does with rgb24 input: BT.601
 * matrix, limited ("TV") range, Y 16..235 and U, V 16..240, so a video looks the same in players
 * whichever side converted. Each U, V sample is the mean of its 2x2 block of pixels; swscale's
 * filter reaches a little further, so along an edge the two can differ by a few levels, on flat
 * colour not at all.
 *
 * Coefficients are 16.16 fixed point: round(65536 * k) of Y = 16 + (65.481 R + 128.553 G + 24.966 B) / 255,
 * U = 128 + (-37.797 R - 74.203 G + 112 B) / 255, V = 128 + (112 R - 93.786 G - 18.214 B) / 255.
 */
const YR = 16829;
const YG = 33039;
const YB = 6416;
const UR = -9714;
const UG = -19070;
const UB = 28784;
const VR = 28784;
const VG = -24103;
const VB = -4681;
/** 16.5 and 128.5 (offset plus rounding) in the fixed point of one pixel and of a 2x2 sum. */
const Y_OFFSET = 16.5 * 65536;
const C_OFFSET = 128.5 * 4 * 65536;

/** Bytes of one yuv420p frame: the Y plane, then U and V at half width and height. */
export function yuv420Bytes(width: number, height: number): number {
  return (width * height * 3) / 2;
}

function checkEven(width: number, height: number): void {
  if (width % 2 !== 0 || height % 2 !== 0) throw new S2gError(ErrorCode.BAD_USER_INPUT, `yuv420p needs an even size, got ${width}x${height}`);
}

/**
 * Converts the part of `canvas` covered by `rect` (widened to whole 2x2 blocks, clipped to the
 * canvas; default all of it) into the yuv420p frame `out`, leaving the rest of `out` as it was.
 */
export function rgbToYuv420(canvas: Canvas, out: Uint8Array, rect: Rect = canvas.bounds): void {
  const { width, height, data: rgb } = canvas;
  checkEven(width, height);
  if (out.length !== yuv420Bytes(width, height)) {
    throw new S2gError(ErrorCode.BAD_USER_INPUT, `yuv420p buffer has ${out.length} bytes, ${width}x${height} needs ${yuv420Bytes(width, height)}`);
  }
  const x0 = Math.max(0, Math.floor(rect.x0 / 2) * 2);
  const y0 = Math.max(0, Math.floor(rect.y0 / 2) * 2);
  const x1 = Math.min(width, Math.ceil(rect.x1 / 2) * 2);
  const y1 = Math.min(height, Math.ceil(rect.y1 / 2) * 2);
  const cw = width / 2;
  const uPlane = width * height;
  const vPlane = uPlane + (width * height) / 4;
  for (let y = y0; y < y1; y += 2) {
    let p = (y * width + x0) * 3; // top-left pixel of the block, rgb24
    let q = p + width * 3; // the pixel below it
    let yi = y * width + x0;
    let ci = (y / 2) * cw + x0 / 2;
    for (let x = x0; x < x1; x += 2, p += 6, q += 6, yi += 2, ci++) {
      const r0 = rgb[p], g0 = rgb[p + 1], b0 = rgb[p + 2];
      const r1 = rgb[p + 3], g1 = rgb[p + 4], b1 = rgb[p + 5];
      const r2 = rgb[q], g2 = rgb[q + 1], b2 = rgb[q + 2];
      const r3 = rgb[q + 3], g3 = rgb[q + 4], b3 = rgb[q + 5];
      out[yi] = (YR * r0 + YG * g0 + YB * b0 + Y_OFFSET) >> 16;
      out[yi + 1] = (YR * r1 + YG * g1 + YB * b1 + Y_OFFSET) >> 16;
      out[yi + width] = (YR * r2 + YG * g2 + YB * b2 + Y_OFFSET) >> 16;
      out[yi + width + 1] = (YR * r3 + YG * g3 + YB * b3 + Y_OFFSET) >> 16;
      const r = r0 + r1 + r2 + r3;
      const g = g0 + g1 + g2 + g3;
      const b = b0 + b1 + b2 + b3;
      out[uPlane + ci] = (UR * r + UG * g + UB * b + C_OFFSET) >> 18;
      out[vPlane + ci] = (VR * r + VG * g + VB * b + C_OFFSET) >> 18;
    }
  }
}

/**
 * Converts frames that all start from one base picture and differ from it only inside listed
 * rectangles (FrameRenderer.base and FrameRenderer.damage). The base is converted once; each frame
 * is then a copy of it with just its damaged rectangles converted again, for the PATS benchmark
 * about a tenth of a 720p frame.
 */
export class Yuv420Converter {
  private readonly base: Uint8Array;

  constructor(base: Canvas) {
    checkEven(base.width, base.height);
    this.base = new Uint8Array(yuv420Bytes(base.width, base.height));
    rgbToYuv420(base, this.base);
  }

  /**
   * Writes the yuv420p conversion of `canvas` into `out` (a fresh buffer by default) and returns it.
   * `canvas` must equal the base outside `damage`; `out` must not be in use elsewhere.
   */
  convert(canvas: Canvas, damage: readonly Rect[], out = new Uint8Array(this.base.length)): Uint8Array {
    if (out.length !== this.base.length) throw new S2gError(ErrorCode.BAD_USER_INPUT, `yuv420p buffer has ${out.length} bytes, expected ${this.base.length}`);
    out.set(this.base);
    for (const r of damage) rgbToYuv420(canvas, out, r);
    return out;
  }
}
