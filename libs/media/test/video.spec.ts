import { mkdtemp, rm, stat, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode, S2gError } from '@s2g/contracts';
import { encodeWav, sineWave } from '@s2g/audio';
import { decodeAudio, encodeVideo, extractFrames, probe, rawFrameBytes } from '../src';
import { command, run } from '../src/command';
import { dominantFrequency } from './helpers';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 's2g-media-video-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const W = 64;
const H = 48;
const COLOURS: [number, number, number][] = [
  [230, 30, 30],
  [30, 30, 230],
  [30, 200, 30],
];

/** Frame i is solid COLOURS[i % 3]; produced lazily. */
async function* solidFrames(n: number, channels = 3, w = W, h = H): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < n; i++) {
    const f = new Uint8Array(w * h * channels);
    const [r, g, b] = COLOURS[i % 3];
    for (let p = 0; p < w * h; p++) {
      f[p * channels] = r;
      f[p * channels + 1] = g;
      f[p * channels + 2] = b;
      if (channels === 4) f[p * channels + 3] = 255;
    }
    yield f;
  }
}

async function codeOf(p: Promise<unknown>): Promise<string | undefined> {
  try {
    await p;
  } catch (e) {
    return e instanceof S2gError ? e.code : `not S2gError: ${(e as Error).message}`;
  }
  return undefined;
}

describe('encodeVideo', () => {
  it('writes H.264 yuv420p + AAC with faststart, as long as the frames', async () => {
    const out = join(dir, 'talk.mp4');
    let reported = 0;
    const res = await encodeVideo({
      width: W,
      height: H,
      fps: 15,
      frames: solidFrames(30),
      // 2.5 s of audio under 2 s of video: cut to the video.
      audio: sineWave(1000, 40_000, { amplitude: 0.5 }),
      out,
      onFrame: (n) => (reported = n),
    });
    expect(res).toEqual({ frames: 30, durationSec: 2 });
    expect(reported).toBe(30);
    const info = await probe(out);
    expect(info.video).toMatchObject({ codec: 'h264', pixelFormat: 'yuv420p', width: W, height: H, fps: 15 });
    expect(info.audio?.codec).toBe('aac');
    expect(Math.abs(info.durationSec - 2)).toBeLessThanOrEqual(1 / 15);
    // +faststart: the index (moov) precedes the media data (mdat).
    const bytes = await readFile(out);
    expect(bytes.indexOf('moov')).toBeLessThan(bytes.indexOf('mdat'));
    const sound = await decodeAudio(out);
    expect(dominantFrequency(sound, 16_000)).toBe(1000);
    await expect(stat(`${out}.partial`)).rejects.toThrow();
  });

  it('pads short audio with silence and takes rgba frames of odd size', async () => {
    const out = join(dir, 'odd.mp4');
    const wav = join(dir, 'short.wav');
    await writeFile(wav, encodeWav(sineWave(440, 8000), 16_000));
    await encodeVideo({ width: 33, height: 25, fps: 15, frames: solidFrames(30, 4, 33, 25), pixelFormat: 'rgba', audio: wav, out });
    const info = await probe(out);
    expect(info.video).toMatchObject({ width: 34, height: 26, pixelFormat: 'yuv420p' });
    expect(info.audio).toBeDefined();
    expect(Math.abs(info.durationSec - 2)).toBeLessThanOrEqual(1 / 15);
  });

  it('encodes without audio', async () => {
    const out = join(dir, 'mute.mp4');
    await encodeVideo({ width: W, height: H, fps: 15, frames: solidFrames(15), out });
    const info = await probe(out);
    expect(info.audio).toBeUndefined();
    expect(info.durationSec).toBeCloseTo(1, 1);
  });

  it('rejects a frame of the wrong size and leaves no file', async () => {
    const out = join(dir, 'bad.mp4');
    async function* frames(): AsyncGenerator<Uint8Array> {
      yield* solidFrames(3);
      yield new Uint8Array(10);
    }
    expect(await codeOf(encodeVideo({ width: W, height: H, fps: 15, frames: frames(), out }))).toBe(ErrorCode.BAD_USER_INPUT);
    await expect(stat(out)).rejects.toThrow();
    await expect(stat(`${out}.partial`)).rejects.toThrow();
    expect(await codeOf(encodeVideo({ width: W, height: H, fps: 15, frames: [], out }))).toBe(ErrorCode.BAD_USER_INPUT);
    expect(await codeOf(encodeVideo({ width: 0, height: H, fps: 15, frames: [], out }))).toBe(ErrorCode.BAD_USER_INPUT);
  });

  it('takes yuv420p planes as they are: a lossless encode decodes to the same bytes', async () => {
    // A gradient in every plane, so a swapped plane, a shifted row or a colour conversion shows.
    const frameBytes = rawFrameBytes(W, H, 'yuv420p');
    expect(frameBytes).toBe((W * H * 3) / 2);
    const frames = Array.from({ length: 3 }, (_, t) => {
      const f = new Uint8Array(frameBytes);
      for (let i = 0; i < W * H; i++) f[i] = 16 + ((i % W) * 3 + Math.floor(i / W) + 20 * t) % 220;
      for (let i = 0; i < (W * H) / 4; i++) {
        f[W * H + i] = 40 + (i % (W / 2)) * 2 + t;
        f[(W * H * 5) / 4 + i] = 200 - Math.floor(i / (W / 2)) * 3 - t;
      }
      return f;
    });
    const out = join(dir, 'planes.mp4');
    // crf 0 makes libx264 lossless.
    await encodeVideo({ width: W, height: H, fps: 15, frames, pixelFormat: 'yuv420p', out, preset: 'ultrafast', crf: 0 });
    expect((await probe(out)).video).toMatchObject({ pixelFormat: 'yuv420p', width: W, height: H });
    const raw = join(dir, 'planes.yuv');
    await run(command(out).outputOptions(['-f', 'rawvideo', '-pix_fmt', 'yuv420p']).output(raw));
    const decoded = await readFile(raw);
    expect(decoded.length).toBe(3 * frameBytes);
    frames.forEach((f, t) => expect(decoded.subarray(t * frameBytes, (t + 1) * frameBytes).equals(f), `frame ${t}`).toBe(true));
  });

  it('decodes yuv420p frames of BT.601 limited-range colours to those colours, as the rgb24 path does', async () => {
    // The BT.601 studio-range conversion ffmpeg applies to rgb24 input, in floating point.
    const yuv = ([r, g, b]: [number, number, number]): number[] => [
      16 + (65.481 * r + 128.553 * g + 24.966 * b) / 255,
      128 + (-37.797 * r - 74.203 * g + 112 * b) / 255,
      128 + (112 * r - 93.786 * g - 18.214 * b) / 255,
    ].map(Math.round);
    const frames = COLOURS.map((c) => {
      const [y, u, v] = yuv(c);
      const f = new Uint8Array(rawFrameBytes(W, H, 'yuv420p'));
      f.fill(y, 0, W * H).fill(u, W * H, (W * H * 5) / 4).fill(v, (W * H * 5) / 4);
      return f;
    });
    const viaYuv = join(dir, 'yuv-colours.mp4');
    const viaRgb = join(dir, 'rgb-colours.mp4');
    await encodeVideo({ width: W, height: H, fps: 15, frames, pixelFormat: 'yuv420p', out: viaYuv, crf: 10 });
    await encodeVideo({ width: W, height: H, fps: 15, frames: solidFrames(3), out: viaRgb, crf: 10 });
    const decode = async (file: string): Promise<Buffer[]> => {
      const got: Buffer[] = [];
      for await (const f of extractFrames(file, 15, W, H)) got.push(f);
      return got;
    };
    const [a, b] = [await decode(viaYuv), await decode(viaRgb)];
    expect(a.length).toBe(3);
    a.forEach((f, i) => {
      const centre = ((H / 2) * W + W / 2) * 3;
      for (let c = 0; c < 3; c++) {
        expect(Math.abs(f[centre + c] - COLOURS[i][c]), `frame ${i} channel ${c}`).toBeLessThanOrEqual(2);
        expect(Math.abs(f[centre + c] - b[i][centre + c]), `frame ${i} channel ${c} vs rgb24 input`).toBeLessThanOrEqual(1);
      }
    });
  });

  it('refuses yuv420p frames of an odd size or the rgb24 byte count', async () => {
    const out = join(dir, 'bad-yuv.mp4');
    expect(await codeOf(encodeVideo({ width: 33, height: 24, fps: 15, frames: [new Uint8Array(rawFrameBytes(33, 24, 'yuv420p'))], pixelFormat: 'yuv420p', out }))).toBe(
      ErrorCode.BAD_USER_INPUT,
    );
    expect(await codeOf(encodeVideo({ width: W, height: H, fps: 15, frames: solidFrames(2), pixelFormat: 'yuv420p', out }))).toBe(ErrorCode.BAD_USER_INPUT);
    await expect(stat(out)).rejects.toThrow();
  });

  it('names a broken audio file', async () => {
    const out = join(dir, 'x.mp4');
    const { writeFile } = await import('node:fs/promises');
    const junk = join(dir, 'junk.wav');
    await writeFile(junk, Buffer.alloc(2000, 1));
    try {
      await encodeVideo({ width: W, height: H, fps: 15, frames: solidFrames(5), audio: junk, out });
      expect.unreachable();
    } catch (e) {
      expect((e as S2gError).code).toBe(ErrorCode.MEDIA_UNREADABLE);
      expect((e as Error).message).toContain('junk.wav');
    }
  });
});

describe('extractFrames', () => {
  it('returns RGB frames in order at the requested rate and size', async () => {
    const src = join(dir, 'colours.mp4');
    await encodeVideo({ width: W, height: H, fps: 15, frames: solidFrames(15), out: src, crf: 10 });
    const got: Buffer[] = [];
    for await (const f of extractFrames(src, 15, 32, 24)) got.push(f);
    expect(got.length).toBe(15);
    got.forEach((f, i) => {
      expect(f.length).toBe(32 * 24 * 3);
      const centre = (12 * 32 + 16) * 3;
      const want = COLOURS[i % 3];
      for (let c = 0; c < 3; c++) expect(Math.abs(f[centre + c] - want[c])).toBeLessThan(25);
    });
    // Half the rate: every other frame.
    let n = 0;
    for await (const _ of extractFrames(src, 7.5, 32, 24)) n++;
    expect(Math.abs(n - 8)).toBeLessThanOrEqual(1);
  });

  it('stops ffmpeg when the consumer stops early', async () => {
    const src = join(dir, 'long.mp4');
    await encodeVideo({ width: W, height: H, fps: 15, frames: solidFrames(150), out: src, preset: 'ultrafast' });
    let n = 0;
    const t0 = Date.now();
    for await (const _ of extractFrames(src, 15, W, H)) {
      if (++n === 3) break;
    }
    expect(n).toBe(3);
    expect(Date.now() - t0).toBeLessThan(5000);
  });

  it('names a missing or corrupt video', async () => {
    const consume = async (file: string): Promise<void> => {
      for await (const _ of extractFrames(file, 15, 8, 8)) {
        // drain
      }
    };
    const { writeFile } = await import('node:fs/promises');
    const junk = join(dir, 'junk.mp4');
    await writeFile(junk, Buffer.alloc(3000, 9));
    try {
      await consume(junk);
      expect.unreachable();
    } catch (e) {
      expect((e as S2gError).code).toBe(ErrorCode.MEDIA_UNREADABLE);
      expect((e as Error).message).toContain('junk.mp4');
    }
  });
});

describe('frame stream backpressure', () => {
  it('pulls frames only as fast as the consumer takes them', async () => {
    const { frameStream } = await import('../src/video');
    const { Writable } = await import('node:stream');
    const { pipeline } = await import('node:stream/promises');
    const frameBytes = W * H * 3;
    let pulled = 0;
    let consumed = 0;
    let maxAhead = 0;
    async function* counted(): AsyncGenerator<Uint8Array> {
      for await (const f of solidFrames(40)) {
        pulled++;
        maxAhead = Math.max(maxAhead, pulled - consumed);
        yield f;
      }
    }
    // A slow consumer with a one-frame buffer, like a pipe into a busy encoder.
    const slow = new Writable({
      highWaterMark: frameBytes,
      write(chunk: Buffer, _enc, done) {
        consumed += chunk.length / frameBytes;
        setTimeout(done, 2);
      },
    });
    await pipeline(frameStream({ width: W, height: H, fps: 15, frames: counted(), out: '' }, frameBytes), slow);
    expect(pulled).toBe(40);
    expect(consumed).toBe(40);
    // Without backpressure the generator would run all 40 frames ahead.
    expect(maxAhead).toBeLessThanOrEqual(4);
  });
});
