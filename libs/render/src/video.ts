import { writeFile } from 'node:fs/promises';
import { encodeVideo, extractFrames, probe } from '@s2g/media';
import { ErrorCode, S2gError } from '@s2g/contracts';
import { FrameOptions, FrameRenderer } from './frame';
import { encodePng } from './png';
import { choosePosterFrame } from './poster';
import { Yuv420Converter, yuv420Bytes } from './yuv';

export interface RenderProgress {
  /** Frames encoded so far. */
  frame: number;
  total: number;
}

export interface RenderVideoOptions extends Omit<FrameOptions, 'background'> {
  /** Output mp4 (H.264 yuv420p + AAC). */
  out: string;
  /** Speech to mux in: a file path, or mono 16 kHz samples. */
  audio?: string | Float32Array;
  /**
   * Draw over the source video. Pose coordinates are that video's pixels; its size is probed
   * unless given.
   */
  background?: { video: string; width?: number; height?: number };
  /** Also write a PNG of the most representative frame (see choosePosterFrame). */
  posterOut?: string;
  /** Called as each frame is handed to the encoder. */
  onProgress?: (progress: RenderProgress) => void;
  /** x264 speed preset (default "superfast", see DEFAULT_PRESET) and quality (encodeVideo's default, crf 20). */
  preset?: string;
  crf?: number;
  /**
   * Raw format piped into ffmpeg: by default yuv420p converted here (see yuv.ts); `rgb24` leaves
   * the conversion to ffmpeg, as before (the render benchmark compares the two). Over a background
   * video frames always go as rgb24.
   */
  pixelFormat?: 'yuv420p' | 'rgb24';
}

/**
 * Flat backgrounds and thin strokes are cheap to code: "superfast" costs about 15 % less encoder CPU
 * per frame than "veryfast" at twice the bitrate (still only about 1.5 Mbit/s at 720p), which is the
 * margin that keeps a render above 10x real time on two cores. "ultrafast" is slower here: without
 * CABAC it writes three times the bits.
 */
export const DEFAULT_PRESET = 'superfast';

/**
 * Stick figures on flat backgrounds gain nothing from x264's costlier analysis: one reference frame,
 * no B-frames, the cheapest motion search and no adaptive quantisation cut the encoder's CPU per
 * 720p frame by about a fifth (measured on rendered frames) for a slightly larger file.
 */
export const DRAWING_X264_PARAMS = 'ref=1:bframes=0:subme=1:me=dia:trellis=0:aq-mode=0:weightp=0';

/**
 * Frames are handed to the encoder from a small ring of buffers rather than a fresh one each: a
 * fresh 2.7 MB buffer per 720p frame costs more in page faults than drawing the frame. Reuse is safe
 * because encodeVideo pulls with backpressure, holding at most one frame in its stream and one in
 * ffmpeg's stdin queue while the next is drawn; four leaves a margin (video.spec checks every
 * decoded frame).
 */
const FRAME_RING = 4;

export interface RenderVideoResult {
  out: string;
  frames: number;
  durationSec: number;
  posterFrame: number;
  posterOut?: string;
}

/**
 * Renders the panels of every frame on the fly and streams them into the encoder (no per-frame
 * files). The generator yields one frame at a time, so a slow encoder holds the renderer back
 * instead of frames piling up in memory.
 */
export async function renderVideo(options: RenderVideoOptions): Promise<RenderVideoResult> {
  const { width, height, fps, background } = options;
  if (width % 2 !== 0 || height % 2 !== 0) {
    throw new S2gError(ErrorCode.BAD_USER_INPUT, `video size must be even for yuv420p, got ${width}x${height}`);
  }
  let source: { width: number; height: number } | undefined;
  if (background) {
    if (background.width && background.height) source = { width: background.width, height: background.height };
    else {
      const info = await probe(background.video);
      if (!info.video) throw new S2gError(ErrorCode.MEDIA_UNSUPPORTED, `background has no video stream: ${background.video}`);
      source = { width: info.video.width, height: info.video.height };
    }
  }
  const renderer = new FrameRenderer({ ...options, background: source });
  const yuv = !background && options.pixelFormat !== 'rgb24';
  const total = renderer.frameCount;
  const posterFrame = choosePosterFrame(options.sequences.map((s) => s.frames));
  let poster: Buffer | undefined;

  /**
   * Without a background, frames go to ffmpeg as yuv420p, which it encodes as is (no swscale
   * conversion, half the bytes through the pipe). The static picture is converted once; each frame
   * re-converts only the tiles its figures and time text were drawn on.
   */
  async function* yuvFrames(): AsyncGenerator<Uint8Array> {
    const converter = new Yuv420Converter(renderer.base);
    const ring = Array.from({ length: FRAME_RING }, () => new Uint8Array(yuv420Bytes(width, height)));
    for (let i = 0; i < total; i++) {
      const canvas = renderer.render(i);
      if (i === posterFrame && options.posterOut) poster = encodePng(canvas.data, canvas.width, canvas.height);
      yield converter.convert(canvas, renderer.damage, ring[i % ring.length]);
    }
  }

  /**
   * rgb24, converted by ffmpeg. Used over a background video, where most of the picture changes
   * every frame, so converting only what changed would save little.
   */
  async function* rgbFrames(): AsyncGenerator<Uint8Array> {
    const size = renderer.backgroundSize;
    const ring = Array.from({ length: FRAME_RING }, () => Buffer.allocUnsafe(width * height * 3));
    const backgrounds = background && size ? extractFrames(background.video, fps, size.width, size.height)[Symbol.asyncIterator]() : null;
    let current: Uint8Array | undefined;
    try {
      for (let i = 0; i < total; i++) {
        if (backgrounds) {
          // A background shorter than the pose sequence holds its last frame.
          const next = await backgrounds.next();
          if (!next.done) current = next.value;
        }
        const canvas = renderer.render(i, current, ring[i % ring.length]);
        if (i === posterFrame && options.posterOut) poster = encodePng(canvas.data, canvas.width, canvas.height);
        yield canvas.data;
      }
    } finally {
      await backgrounds?.return?.();
    }
  }

  const encoded = await encodeVideo({
    width,
    height,
    fps,
    ...(yuv ? { frames: yuvFrames(), pixelFormat: 'yuv420p' } : { frames: rgbFrames(), pixelFormat: 'rgb24' }),
    audio: options.audio,
    out: options.out,
    preset: options.preset ?? DEFAULT_PRESET,
    crf: options.crf,
    // Over source video the picture is no longer flat: keep x264's full analysis there.
    ...(options.background ? {} : { x264Params: DRAWING_X264_PARAMS }),
    onFrame: (n) => options.onProgress?.({ frame: n, total }),
  });
  if (options.posterOut && poster) await writeFile(options.posterOut, poster);
  return { out: options.out, frames: encoded.frames, durationSec: encoded.durationSec, posterFrame, ...(options.posterOut ? { posterOut: options.posterOut } : {}) };
}
