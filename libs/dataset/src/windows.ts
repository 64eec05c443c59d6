import { createHash } from 'node:crypto';
import { SAMPLE_RATE, WINDOW_AUDIO_SAMPLES, WINDOW_FRAMES, WINDOW_STRIDE } from '@s2g/audio';
import type { Split } from '@s2g/contracts';
import { ErrorCode, S2gError } from '@s2g/contracts';
import { FRAME_VALUES, POSE_FPS } from '@s2g/pose';
import type { PoseFrame, SourceInterval, SourceVideo } from './formats/types';

/** Training samples (ML-SPEC section 3): 64-frame windows with stride 5 inside each clean interval. */

export interface WindowOptions {
  frames?: number;
  stride?: number;
  /**
   * Frames further apart than this many pose periods break the interval into separate runs, so a
   * window never spans missing frames (dropped detections, a hole in frames.csv).
   */
  maxGapFrames?: number;
}

export interface FrameWindow {
  /** Index of the window's first frame in the interval's frame list. */
  startIndex: number;
  frames: PoseFrame[];
  /** Timestamps of the first and last pose frame (seconds in the video). */
  startTime: number;
  endTime: number;
}

/** Windows in `n` consecutive frames: `floor((n - frames) / stride) + 1`, or 0 when n < frames. */
export function windowCount(n: number, frames = WINDOW_FRAMES, stride = WINDOW_STRIDE): number {
  return n < frames ? 0 : Math.floor((n - frames) / stride) + 1;
}

/**
 * Cuts windows from one interval's frames (sorted by time). Every window start `0, stride, 2*stride..`
 * whose 64 frames fit is used, so `windowCount(n)` windows per gap-free run; runs shorter than
 * 64 frames give none. (The reference extraction script's `range(0, n - 64, 5)` also drops the last
 * start when n - 64 is a multiple of 5; keeping it loses nothing and is what ML-SPEC describes.)
 */
export function cutWindows(intervalFrames: readonly PoseFrame[], options: WindowOptions = {}): FrameWindow[] {
  const size = options.frames ?? WINDOW_FRAMES;
  const stride = options.stride ?? WINDOW_STRIDE;
  const maxGap = (options.maxGapFrames ?? 1.5) / POSE_FPS;
  const out: FrameWindow[] = [];
  let runStart = 0;
  for (let i = 1; i <= intervalFrames.length; i++) {
    const broken = i === intervalFrames.length || intervalFrames[i].time - intervalFrames[i - 1].time > maxGap;
    if (!broken) continue;
    for (let s = runStart; s + size <= i; s += stride) {
      const frames = intervalFrames.slice(s, s + size);
      out.push({ startIndex: s, frames, startTime: frames[0].time, endTime: frames[size - 1].time });
    }
    runStart = i;
  }
  return out;
}

/**
 * Train/dev/test for an interval the dataset gives no split for: 80/10/10 by a hash of
 * speaker, video and interval id, so re-importing a speaker never moves an interval between splits.
 * A non-zero `seed` draws a different (equally stable) assignment; 0 is the default one.
 */
export function assignSplit(speaker: string, video: string, intervalId: string, seed = 0): Split {
  const key = `${speaker}\u0000${video}\u0000${intervalId}${seed === 0 ? '' : `\u0000${seed}`}`;
  const digest = createHash('sha256').update(key).digest();
  const bucket = digest.readUInt32BE(0) % 100;
  return bucket < 80 ? 'train' : bucket < 90 ? 'dev' : 'test';
}

/**
 * A window's waveform: the samples from the first to the last pose frame's timestamp, cropped or
 * zero-padded at the end to 67,267 (ML-SPEC 3). `audioStart` is the video time of `audio[0]`;
 * parts before the audio starts or after it ends are zeros.
 */
export function windowAudio(
  audio: Float32Array,
  startTime: number,
  endTime: number,
  audioStart = 0,
  sampleRate = SAMPLE_RATE,
): Float32Array {
  const out = new Float32Array(WINDOW_AUDIO_SAMPLES);
  const first = Math.round((startTime - audioStart) * sampleRate);
  const length = Math.min(WINDOW_AUDIO_SAMPLES, Math.round((endTime - audioStart) * sampleRate) - first);
  for (let i = Math.max(0, -first); i < length; i++) {
    const j = first + i;
    if (j >= audio.length) break;
    out[i] = audio[j];
  }
  return out;
}

/** Audio of a video at 16 kHz: the whole waveform, or a reader of `length` samples from `start` (zeros outside). */
export type AudioInput = Float32Array | ((start: number, length: number) => Promise<Float32Array>);

export interface WindowSample {
  /** Stable id: `<video>/<interval>/<first frame index in the interval>`. */
  id: string;
  speaker: string;
  video: string;
  intervalId: string;
  split: Split;
  /** Video time (s) of the first and last pose frame. */
  startTime: number;
  endTime: number;
  /** 64 frames x 98 values (x0..x48, y0..y48 per frame), pixels. */
  pose: Float32Array;
  /** 67,267 samples at 16 kHz. */
  audio: Float32Array;
}

/** Packs frames into one (frames x 98) array, checking every frame has 98 values. */
export function packPose(frames: readonly PoseFrame[]): Float32Array {
  const pose = new Float32Array(frames.length * FRAME_VALUES);
  frames.forEach((f, i) => {
    if (f.keypoints.length !== FRAME_VALUES) {
      throw new S2gError(ErrorCode.KEYPOINTS_INVALID, `frame at ${f.time}s has ${f.keypoints.length} values, expected ${FRAME_VALUES}`);
    }
    pose.set(f.keypoints, i * FRAME_VALUES);
  });
  return pose;
}

async function readWindowAudio(audio: AudioInput, startTime: number, endTime: number): Promise<Float32Array> {
  if (audio instanceof Float32Array) return windowAudio(audio, startTime, endTime);
  const first = Math.round(startTime * SAMPLE_RATE);
  const span = Math.min(WINDOW_AUDIO_SAMPLES, Math.round(endTime * SAMPLE_RATE) - first);
  const chunk = await audio(first, span);
  const out = new Float32Array(WINDOW_AUDIO_SAMPLES);
  out.set(chunk.subarray(0, span));
  return out;
}

const TIME_EPSILON = 1e-3;

/**
 * Every training sample of one video, interval by interval, while its frames stream past: only the
 * frames of the intervals currently open are held. Frames outside every interval are ignored.
 */
export async function* videoSamples(
  speaker: string,
  video: SourceVideo,
  audio: AudioInput,
  options: WindowOptions = {},
): AsyncGenerator<WindowSample> {
  const intervals = [...video.intervals].sort((a, b) => a.start - b.start);
  const open = new Map<SourceInterval, PoseFrame[]>();
  let next = 0;

  async function* flush(interval: SourceInterval, frames: PoseFrame[]): AsyncGenerator<WindowSample> {
    const split = interval.split ?? assignSplit(speaker, video.name, interval.id);
    for (const w of cutWindows(frames, options)) {
      yield {
        id: `${video.name}/${interval.id}/${w.startIndex}`,
        speaker,
        video: video.name,
        intervalId: interval.id,
        split,
        startTime: w.startTime,
        endTime: w.endTime,
        pose: packPose(w.frames),
        audio: await readWindowAudio(audio, w.startTime, w.endTime),
      };
    }
  }

  for await (const frame of video.frames()) {
    while (next < intervals.length && intervals[next].start - TIME_EPSILON <= frame.time) open.set(intervals[next++], []);
    for (const [interval, frames] of open) {
      if (frame.time > interval.end + TIME_EPSILON) {
        open.delete(interval);
        yield* flush(interval, frames);
      } else frames.push(frame);
    }
  }
  for (const [interval, frames] of open) yield* flush(interval, frames);
}
