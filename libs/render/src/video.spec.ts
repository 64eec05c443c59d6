import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { encodeVideo, extractFrames, probe } from '@s2g/media';
import { FRAME_VALUES, JOINT_GROUPS, POSE_FPS } from '@s2g/pose';
import { type TempDir, tempDir } from '@s2g/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodePng } from '../test/png-decode';
import { loadPatsPose } from '../test/pats';
import type { Colour } from './canvas';
import { FrameRenderer } from './frame';
import { LIGHT_THEME } from './theme';
import { renderVideo } from './video';

const gt = loadPatsPose();
const T = gt.length / FRAME_VALUES;
const pred = gt.map((v, i) => v + (i % FRAME_VALUES < 49 ? 15 : -10));
const sequences = [
  { label: 'prediction', frames: pred },
  { label: 'ground truth', frames: gt },
];

const channels = (c: Colour): number[] => [c.r, c.g, c.b];

let tmp: TempDir;
beforeAll(async () => {
  tmp = await tempDir('render-video');
});
afterAll(async () => {
  await tmp?.cleanup();
});

describe('renderVideo', () => {
  it('writes an h264/aac mp4 of the requested size whose length matches the speech, and the poster', async () => {
    const out = join(tmp.path, 'pats.mp4');
    const posterOut = join(tmp.path, 'pats.png');
    const audio = new Float32Array(Math.round((T / POSE_FPS) * 16000));
    for (let i = 0; i < audio.length; i++) audio[i] = 0.2 * Math.sin((2 * Math.PI * 180 * i) / 16000);
    const progress: number[] = [];
    const options = { sequences, width: 320, height: 180, fps: POSE_FPS, title: 'cmu0000033570' };
    const result = await renderVideo({ ...options, audio, out, posterOut, onProgress: (p) => progress.push(p.frame) });
    expect(result).toMatchObject({ out, frames: T, posterOut });
    expect(progress.at(-1)).toBe(T);

    const info = await probe(out);
    expect(info.video).toMatchObject({ codec: 'h264', pixelFormat: 'yuv420p', width: 320, height: 180 });
    expect(info.video?.fps).toBeCloseTo(POSE_FPS, 1);
    expect(info.audio?.codec).toBe('aac');
    expect(Math.abs(info.durationSec - audio.length / 16000)).toBeLessThanOrEqual(1 / POSE_FPS);

    // The poster is exactly the chosen frame as the renderer draws it.
    const png = decodePng(await readFile(posterOut));
    const expected = new FrameRenderer(options).render(result.posterFrame);
    expect(png).toMatchObject({ width: 320, height: 180, channels: 3 });
    expect(Buffer.from(png.pixels).equals(Buffer.from(expected.data))).toBe(true);
  });

  it('encodes every frame as drawn, none overwritten by a later one', async () => {
    // The fixture's first pose sliding right by 12 px a frame: every frame is distinct.
    const n = 40;
    const slide = new Float32Array(n * FRAME_VALUES);
    for (let t = 0; t < n; t++) for (let k = 0; k < FRAME_VALUES; k++) slide[t * FRAME_VALUES + k] = gt[k] + (k < FRAME_VALUES / 2 ? 12 * t : 0);
    const options = { sequences: [{ label: 'slide', frames: slide }], width: 192, height: 108, fps: POSE_FPS, showTime: false };
    const out = join(tmp.path, 'slide.mp4');
    await renderVideo({ ...options, out, preset: 'ultrafast', crf: 12 });
    const renderer = new FrameRenderer(options);
    const drawn = Array.from({ length: n }, (_, t) => renderer.render(t).data.slice());
    const diff = (a: Uint8Array, b: Uint8Array): number => {
      let sum = 0;
      for (let i = 0; i < a.length; i++) sum += Math.abs(a[i] - b[i]);
      return sum / a.length;
    };
    let t = 0;
    for await (const decoded of extractFrames(out, POSE_FPS, 192, 108)) {
      const own = diff(decoded, drawn[t]);
      for (let u = Math.max(0, t - 6); u < Math.min(n, t + 7); u++) if (u !== t) expect(own, `decoded frame ${t} vs drawn ${u}`).toBeLessThan(diff(decoded, drawn[u]));
      t++;
    }
    expect(t).toBe(n);
  });

  it('keeps the colours through its own yuv420p conversion, as close as when ffmpeg converts', async () => {
    const n = 12;
    const short = sequences.map((q) => ({ ...q, frames: q.frames.subarray(0, n * FRAME_VALUES) }));
    const options = { sequences: short, width: 640, height: 360, fps: POSE_FPS, title: 'cmu0000033570' };
    const renderer = new FrameRenderer(options);
    const drawn = Array.from({ length: n }, (_, t) => renderer.render(t).data.slice());
    /** Mean absolute error per channel of each decoded frame against the drawing. */
    const roundTrip = async (pixelFormat: 'yuv420p' | 'rgb24'): Promise<{ error: number; frames: Buffer[] }> => {
      const out = join(tmp.path, `colours-${pixelFormat}.mp4`);
      // crf 10: little coding loss, so the conversions are what is compared.
      await renderVideo({ ...options, out, pixelFormat, crf: 10 });
      const frames: Buffer[] = [];
      for await (const f of extractFrames(out, POSE_FPS, 640, 360)) frames.push(f);
      expect(frames.length).toBe(n);
      let sum = 0;
      frames.forEach((f, t) => f.forEach((v, i) => (sum += Math.abs(v - drawn[t][i]))));
      return { error: sum / (n * 640 * 360 * 3), frames };
    };
    const yuv = await roundTrip('yuv420p');
    const rgb = await roundTrip('rgb24');
    expect(yuv.error).toBeLessThan(2);
    expect(yuv.error).toBeLessThan(rgb.error + 0.2);
    // Known pixels: the background, and the middle of shoulder and elbow dots in their limb colours.
    const at = (f: Uint8Array, x: number, y: number): number[] => Array.from(f.subarray((y * 640 + x) * 3, (y * 640 + x) * 3 + 3));
    const t = 6;
    const panel = renderer.layout.panels[0].figure;
    at(yuv.frames[t], panel.x0 + 4, panel.y1 - 4).forEach((v, c) => expect(Math.abs(v - channels(LIGHT_THEME.background)[c])).toBeLessThanOrEqual(2));
    for (const j of [1, 2, 4, 5]) {
      const p = renderer.project(1, t, j);
      const want = channels(LIGHT_THEME.limbs[JOINT_GROUPS[j]]);
      expect(at(drawn[t], Math.floor(p.x), Math.floor(p.y)), `drawn joint ${j}`).toEqual(want);
      at(yuv.frames[t], Math.floor(p.x), Math.floor(p.y)).forEach((v, c) => expect(Math.abs(v - want[c]), `joint ${j} channel ${c}`).toBeLessThanOrEqual(6));
    }
  });

  it('draws over a background video, probing its size, and holds its last frame', async () => {
    const source = join(tmp.path, 'source.mp4');
    const [w, h] = [160, 120];
    const solid = Buffer.alloc(w * h * 3);
    for (let i = 0; i < solid.length; i += 3) solid.set([40, 160, 220], i);
    await encodeVideo({ width: w, height: h, fps: POSE_FPS, frames: Array.from({ length: 5 }, () => solid), out: source, preset: 'ultrafast' });
    const shrunk = gt.map((v) => v / 4); // the fixture's pixels were for a larger video
    const out = join(tmp.path, 'over.mp4');
    const posterOut = join(tmp.path, 'over.png');
    const result = await renderVideo({ sequences: [{ label: 'ground truth', frames: shrunk }], width: 256, height: 192, fps: POSE_FPS, background: { video: source }, out, posterOut, showTime: false });
    expect(result.frames).toBe(T);
    const info = await probe(out);
    expect(info.video).toMatchObject({ width: 256, height: 192 });
    expect(info.audio).toBeUndefined();

    const renderer = new FrameRenderer({ sequences: [{ label: 'x', frames: shrunk }], width: 256, height: 192, fps: POSE_FPS, background: { width: w, height: h }, showTime: false });
    const fig = renderer.layout.panels[0].figure;
    const size = renderer.backgroundSize;
    if (!size) throw new Error('expected a background size');
    const png = decodePng(await readFile(posterOut));
    const x0 = fig.x0 + Math.floor((fig.x1 - fig.x0 - size.width) / 2);
    const y0 = fig.y0 + Math.floor((fig.y1 - fig.y0 - size.height) / 2);
    // The poster frame (past the source's 5 frames) shows the decoded video's colour in the corner.
    expect(result.posterFrame).toBeGreaterThan(5);
    const corner = Array.from(png.pixels.subarray(((y0 + 2) * 256 + x0 + 2) * 3, ((y0 + 2) * 256 + x0 + 2) * 3 + 3));
    corner.forEach((v, c) => expect(Math.abs(v - [40, 160, 220][c])).toBeLessThanOrEqual(6));
  });

  it('refuses an odd size or a broken sequence before starting ffmpeg', async () => {
    const out = join(tmp.path, 'never.mp4');
    await expect(renderVideo({ sequences, width: 321, height: 180, fps: POSE_FPS, out })).rejects.toMatchObject({ code: 'BAD_USER_INPUT' });
    await expect(renderVideo({ sequences: [{ label: 'bad', frames: new Float32Array(100) }], width: 320, height: 180, fps: POSE_FPS, out })).rejects.toMatchObject({ code: 'KEYPOINTS_INVALID' });
    await expect(readFile(out)).rejects.toThrow();
  });

  it('reports a missing background video by its code and leaves no output', async () => {
    const out = join(tmp.path, 'missing-bg.mp4');
    const background = { video: join(tmp.path, 'nope.mp4') };
    await expect(renderVideo({ sequences, width: 320, height: 180, fps: POSE_FPS, out, background })).rejects.toMatchObject({ code: 'FILE_MISSING' });
    // With the size given there is no probe: the failure comes from the frame decoder mid-stream.
    await expect(renderVideo({ sequences, width: 320, height: 180, fps: POSE_FPS, out, background: { ...background, width: 640, height: 360 } })).rejects.toMatchObject({
      code: 'FILE_MISSING',
    });
    await expect(readFile(out)).rejects.toThrow();
  });
});
