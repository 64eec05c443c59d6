import { rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type PassThrough, Readable } from 'node:stream';
import { ErrorCode, S2gError } from '@s2g/contracts';
import { SAMPLE_RATE, encodeWav } from '@s2g/audio';
import { command, mediaError, run, stderrOf } from './command';
import { probe } from './probe';
import { scratch } from './input';

/**
 * Layout of the raw input frames. `yuv420p` is planar and is what the encoder codes, so ffmpeg
 * passes it on unconverted: a full-size Y plane, then quarter-size U and V planes (even sizes only).
 * The caller picks the colour matrix; ffmpeg's own conversion of rgb24 uses BT.601 limited range.
 */
export type RawPixelFormat = 'rgb24' | 'rgba' | 'yuv420p';

/** Bytes of one raw frame. */
export function rawFrameBytes(width: number, height: number, pixelFormat: RawPixelFormat): number {
  return pixelFormat === 'yuv420p' ? (width * height * 3) / 2 : width * height * (pixelFormat === 'rgba' ? 4 : 3);
}

export interface EncodeVideoOptions {
  width: number;
  height: number;
  fps: number;
  /**
   * Raw frames, top row first, each exactly `rawFrameBytes` long: width * height * 3 (rgb24) or 4
   * (rgba), or width * height * 3 / 2 for yuv420p (the Y plane, then U, then V).
   */
  frames: AsyncIterable<Uint8Array> | Iterable<Uint8Array>;
  pixelFormat?: RawPixelFormat;
  /** Soundtrack: a media file, or a mono waveform at `audioSampleRate` (default 16 kHz). */
  audio?: string | Float32Array;
  audioSampleRate?: number;
  /** Output .mp4 path; written under a temporary name and renamed when complete. */
  out: string;
  /** x264 quality (lower is better) and speed preset; defaults 20 and "veryfast". */
  crf?: number;
  preset?: string;
  /** Extra libx264 settings (`key=value:key=value`) on top of the preset, e.g. for flat drawings. */
  x264Params?: string;
  /** Called after each frame is handed to ffmpeg. */
  onFrame?: (framesWritten: number) => void;
}

export interface EncodedVideo {
  frames: number;
  durationSec: number;
}

/** Validates frame sizes and counts them; a generator so the stream pulls (and so respects backpressure). */
async function* checkedFrames(opts: EncodeVideoOptions, frameBytes: number, counter: { n: number }): AsyncGenerator<Buffer> {
  for await (const f of opts.frames) {
    if (f.byteLength !== frameBytes) {
      throw new S2gError(
        ErrorCode.BAD_USER_INPUT,
        `frame ${counter.n} has ${f.byteLength} bytes, expected ${frameBytes} (${opts.width}x${opts.height} ${opts.pixelFormat ?? 'rgb24'})`,
      );
    }
    counter.n++;
    yield Buffer.from(f.buffer, f.byteOffset, f.byteLength);
    opts.onFrame?.(counter.n);
  }
}

/**
 * The frames as a byte stream holding at most about one frame: `pipe` into ffmpeg's stdin then
 * pulls the next frame only when ffmpeg has taken the previous ones (backpressure).
 */
export function frameStream(opts: EncodeVideoOptions, frameBytes: number, counter: { n: number } = { n: 0 }): Readable {
  return Readable.from(checkedFrames(opts, frameBytes, counter), { objectMode: false, highWaterMark: frameBytes });
}

/**
 * Encodes raw frames (and optional audio) to an H.264 yuv420p MP4 with AAC audio and `+faststart`,
 * so browsers can play it while it downloads. Frames are piped to ffmpeg's stdin with backpressure:
 * the iterable is only pulled as fast as ffmpeg consumes. The video's length is the frame count; audio
 * is padded with silence or cut to match. Odd sizes are padded by one pixel (yuv420p needs even ones).
 * yuv420p input (even sizes only) goes to the encoder unconverted.
 */
export async function encodeVideo(opts: EncodeVideoOptions): Promise<EncodedVideo> {
  const { width, height, fps, out } = opts;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new S2gError(ErrorCode.BAD_USER_INPUT, `invalid video size ${width}x${height}`);
  }
  if (!(fps > 0) || !Number.isFinite(fps)) throw new S2gError(ErrorCode.BAD_USER_INPUT, `invalid frame rate ${fps}`);
  const pixelFormat = opts.pixelFormat ?? 'rgb24';
  if (pixelFormat === 'yuv420p' && (width % 2 !== 0 || height % 2 !== 0)) {
    throw new S2gError(ErrorCode.BAD_USER_INPUT, `yuv420p frames need an even size, got ${width}x${height}`);
  }
  const frameBytes = rawFrameBytes(width, height, pixelFormat);
  const tmp = await scratch();
  const partial = `${out}.partial`;
  const counter = { n: 0 };
  try {
    let audioFile: string | undefined;
    if (typeof opts.audio === 'string') {
      // Check the soundtrack first, so a bad one is reported as such, naming the file.
      const info = await probe(opts.audio);
      if (!info.audio) throw new S2gError(ErrorCode.MEDIA_UNSUPPORTED, `${opts.audio}: no audio stream`, { file: opts.audio });
      audioFile = opts.audio;
    } else if (opts.audio) {
      audioFile = join(tmp.dir, 'audio.wav');
      await writeFile(audioFile, encodeWav(opts.audio, opts.audioSampleRate ?? SAMPLE_RATE, { format: 'float32' }));
    }
    const frames = frameStream(opts, frameBytes, counter);
    const cmd = command(frames)
      .inputFormat('rawvideo')
      .inputOptions(['-pix_fmt', pixelFormat, '-s', `${width}x${height}`, '-framerate', String(fps)]);
    if (audioFile) cmd.input(audioFile);
    const output = ['-map', '0:v:0', '-c:v', 'libx264', '-preset', opts.preset ?? 'veryfast', '-crf', String(opts.crf ?? 20), '-pix_fmt', 'yuv420p'];
    if (opts.x264Params) output.push('-x264-params', opts.x264Params);
    if (width % 2 !== 0 || height % 2 !== 0) output.push('-vf', 'pad=ceil(iw/2)*2:ceil(ih/2)*2');
    output.push('-movflags', '+faststart');
    if (audioFile) {
      // apad + shortest: the soundtrack is padded with silence or cut so the video decides the length.
      output.push('-map', '1:a:0', '-af', 'apad', '-shortest', '-c:a', 'aac', '-b:a', '128k', '-ar', '48000');
    }
    cmd.outputOptions(output).format('mp4').output(partial);
    try {
      await run(cmd);
    } catch (err) {
      // Stop pulling the caller's frames; their iterator's `finally` runs.
      frames.destroy();
      const inputError = (err as { inputStreamError?: unknown }).inputStreamError;
      if (inputError instanceof S2gError) throw inputError;
      if (counter.n === 0) throw new S2gError(ErrorCode.BAD_USER_INPUT, 'no frames to encode', undefined, { cause: err });
      throw new S2gError(ErrorCode.INTERNAL, `encoding ${out} failed: ${(err as Error).message.split('\n')[0]}`, { file: out, stderr: stderrOf(err)?.slice(-2000) }, { cause: err });
    }
    // ffmpeg happily writes an empty MP4 when stdin closes at once.
    if (counter.n === 0) throw new S2gError(ErrorCode.BAD_USER_INPUT, 'no frames to encode');
    await rename(partial, out);
    return { frames: counter.n, durationSec: counter.n / fps };
  } catch (e) {
    await rm(partial, { force: true });
    throw e;
  } finally {
    await tmp.cleanup();
  }
}

/**
 * Decodes a video to raw RGB frames (width * height * 3 bytes each) at `fps`, scaled to the given
 * size, for drawing over the source. Frames are produced as the consumer pulls them; stopping early
 * stops ffmpeg.
 */
export async function* extractFrames(video: string, fps: number, width: number, height: number): AsyncGenerator<Buffer, void, undefined> {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1 || !(fps > 0)) {
    throw new S2gError(ErrorCode.BAD_USER_INPUT, `invalid frame size ${width}x${height} or rate ${fps}`);
  }
  const frameBytes = width * height * 3;
  const cmd = command(video)
    .noAudio()
    .outputOptions(['-map', '0:v:0', '-vf', `fps=${fps},scale=${width}:${height}`, '-pix_fmt', 'rgb24'])
    .format('rawvideo');
  let failure: unknown;
  let ended = false;
  const finished = new Promise<void>((resolve) => {
    cmd
      .on('end', () => {
        ended = true;
        resolve();
      })
      .on('error', (err: Error, _o: unknown, stderr: string | null) => {
        ended = true;
        failure = Object.assign(err, { stderr: stderr ?? '' });
        resolve();
      });
  });
  const stream = cmd.pipe() as PassThrough;
  let pending: Buffer = Buffer.alloc(0);
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
      while (pending.length >= frameBytes) {
        yield Buffer.from(pending.subarray(0, frameBytes));
        pending = pending.subarray(frameBytes);
      }
    }
    await finished;
    if (failure) throw mediaError(video, failure, stderrOf(failure));
  } finally {
    // The consumer stopped early (or something failed): stop our ffmpeg and wait for it to exit.
    if (!ended) {
      cmd.kill('SIGKILL');
      await finished;
    }
  }
}
