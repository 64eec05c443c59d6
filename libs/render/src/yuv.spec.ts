import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { mediaBinaries } from '@s2g/media';
import { FRAME_VALUES, POSE_FPS } from '@s2g/pose';
import { describe, expect, it } from 'vitest';
import { loadPatsPose } from '../test/pats';
import { Canvas, fill, fillRect, hex } from './canvas';
import { FrameRenderer } from './frame';
import { Yuv420Converter, rgbToYuv420, yuv420Bytes } from './yuv';

const gt = loadPatsPose();
const T = gt.length / FRAME_VALUES;
const sequences = [
  { label: 'prediction', frames: gt.map((v, i) => v + (i % FRAME_VALUES < 49 ? 15 : -10)) },
  { label: 'ground truth', frames: gt },
];

/** Y, U, V of pixel (x, y) of a yuv420p frame. */
function sample(yuv: Uint8Array, w: number, h: number, x: number, y: number): [number, number, number] {
  const c = (y >> 1) * (w / 2) + (x >> 1);
  return [yuv[y * w + x], yuv[w * h + c], yuv[(w * h * 5) / 4 + c]];
}

/** ffmpeg's own rgb24 to yuv420p conversion of a canvas (what renderVideo used to leave to it). */
async function ffmpegYuv(canvas: Canvas): Promise<Buffer> {
  const args = ['-v', 'error', '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-s', `${canvas.width}x${canvas.height}`, '-i', 'pipe:0', '-f', 'rawvideo', '-pix_fmt', 'yuv420p', 'pipe:1'];
  const run = promisify(execFile)(mediaBinaries().ffmpeg, args, { encoding: 'buffer', maxBuffer: 64 << 20 });
  run.child.stdin?.end(canvas.data);
  return (await run).stdout;
}

describe('rgbToYuv420', () => {
  it('gives the BT.601 limited-range values of flat colours', () => {
    const cases: [string, [number, number, number]][] = [
      ['#ffffff', [235, 128, 128]],
      ['#000000', [16, 128, 128]],
      ['#ff0000', [81, 90, 240]],
      ['#00ff00', [145, 54, 34]],
      ['#0000ff', [41, 240, 110]],
      ['#808080', [126, 128, 128]],
    ];
    for (const [colour, want] of cases) {
      const c = new Canvas(4, 2);
      fill(c, hex(colour));
      const out = new Uint8Array(yuv420Bytes(4, 2));
      rgbToYuv420(c, out);
      expect(Array.from(out), colour).toEqual([...Array(8).fill(want[0]), want[1], want[1], want[2], want[2]]);
    }
  });

  it('averages each 2x2 block for U and V', () => {
    const c = new Canvas(2, 2);
    fill(c, hex('#ffffff'));
    fillRect(c, { x0: 0, y0: 0, x1: 1, y1: 1 }, hex('#000000'));
    const out = new Uint8Array(yuv420Bytes(2, 2));
    rgbToYuv420(c, out);
    // Black and three white: Y per pixel, chroma neutral; a red quarter moves V by a quarter of red's.
    expect(Array.from(out)).toEqual([16, 235, 235, 235, 128, 128]);
    fillRect(c, { x0: 0, y0: 0, x1: 1, y1: 1 }, hex('#ff0000'));
    rgbToYuv420(c, out);
    expect(out[5]).toBe(Math.round(128 + 112 / 4));
  });

  it('matches ffmpeg converting the same rendered frame: luma within a level, chroma on flat colour', async () => {
    const renderer = new FrameRenderer({ sequences, width: 640, height: 360, fps: POSE_FPS, title: 'cmu0000033570' });
    const canvas = renderer.render(30);
    const ours = new Uint8Array(yuv420Bytes(640, 360));
    rgbToYuv420(canvas, ours);
    const theirs = await ffmpegYuv(canvas);
    expect(theirs.length).toBe(ours.length);
    const luma = 640 * 360;
    let maxLuma = 0;
    for (let i = 0; i < luma; i++) maxLuma = Math.max(maxLuma, Math.abs(ours[i] - theirs[i]));
    expect(maxLuma).toBeLessThanOrEqual(1);
    // swscale's chroma filter reaches past the 2x2 block, so only edges differ, and little.
    let sum = 0;
    let differing = 0;
    for (let i = luma; i < ours.length; i++) {
      sum += Math.abs(ours[i] - theirs[i]);
      if (ours[i] !== theirs[i]) differing++;
    }
    expect(sum / (ours.length - luma)).toBeLessThan(0.1);
    expect(differing / (ours.length - luma)).toBeLessThan(0.06);
  });

  it('converts only the 2x2 blocks covering the rectangle', () => {
    const c = new Canvas(8, 6);
    fill(c, hex('#1f6fd1'));
    const full = new Uint8Array(yuv420Bytes(8, 6));
    rgbToYuv420(c, full);
    const part = new Uint8Array(full.length);
    rgbToYuv420(c, part, { x0: 3, y0: 1, x1: 5, y1: 2 });
    for (let y = 0; y < 6; y++) {
      for (let x = 0; x < 8; x++) {
        const inside = x >= 2 && x < 6 && y < 2;
        expect(sample(part, 8, 6, x, y), `${x},${y}`).toEqual(inside ? sample(full, 8, 6, x, y) : [0, 0, 0]);
      }
    }
  });

  it('refuses odd sizes and wrong buffers', () => {
    expect(() => rgbToYuv420(new Canvas(3, 2), new Uint8Array(9))).toThrow(/even/);
    expect(() => rgbToYuv420(new Canvas(4, 2), new Uint8Array(11))).toThrow(/bytes/);
  });
});

describe('Yuv420Converter', () => {
  /** Renders every frame, converts it from its damage into a ring of reused buffers, and compares with a full conversion. */
  function checkAllFrames(renderer: FrameRenderer, background?: (i: number) => Uint8Array): number {
    const { width, height } = renderer.canvas;
    const converter = new Yuv420Converter(renderer.base);
    const ring = Array.from({ length: 3 }, () => new Uint8Array(yuv420Bytes(width, height)));
    const full = new Uint8Array(yuv420Bytes(width, height));
    let damaged = 0;
    for (let i = 0; i < renderer.frameCount; i++) {
      const canvas = renderer.render(i, background?.(i));
      const out = converter.convert(canvas, renderer.damage, ring[i % ring.length]);
      rgbToYuv420(canvas, full);
      expect(Buffer.from(out).equals(Buffer.from(full)), `frame ${i}`).toBe(true);
      for (const r of renderer.damage) damaged += (r.x1 - r.x0) * (r.y1 - r.y0);
    }
    return damaged / renderer.frameCount / (width * height);
  }

  it('gives exactly the planes of a full conversion, from the damaged tiles only', () => {
    // 650 x 362: the last tile column and row are cut short by the canvas edge.
    const renderer = new FrameRenderer({ sequences, width: 650, height: 362, fps: POSE_FPS, title: 'cmu0000033570' });
    expect(renderer.frameCount).toBe(T);
    const fraction = checkAllFrames(renderer);
    // The figures and the time cover a small part of the picture.
    expect(fraction).toBeGreaterThan(0.02);
    expect(fraction).toBeLessThan(0.3);
  });

  it('stays exact over background pictures, which are damage too', () => {
    const renderer = new FrameRenderer({ sequences: [{ label: 'gt', frames: gt.map((v) => v / 4) }], width: 256, height: 192, fps: POSE_FPS, background: { width: 160, height: 120 } });
    const size = renderer.backgroundSize;
    if (!size) throw new Error('expected a background size');
    const frames = [0, 1].map((k) => {
      const f = new Uint8Array(size.width * size.height * 3);
      for (let i = 0; i < f.length; i++) f[i] = (i * (7 + k)) % 251;
      return f;
    });
    checkAllFrames(renderer, (i) => frames[i % 2]);
  });

  it('refuses a buffer of the wrong size', () => {
    const converter = new Yuv420Converter(new Canvas(4, 4));
    expect(() => converter.convert(new Canvas(4, 4), [], new Uint8Array(10))).toThrow(/bytes/);
  });
});
