import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { SAMPLE_RATE, encodeWav } from '@s2g/audio';
import type { Split } from '@s2g/contracts';
import { ErrorCode, S2gError } from '@s2g/contracts';
import { encodeVideo } from '@s2g/media';
import { FRAME_VALUES, NUM_KEYPOINTS, POSE_FPS } from '@s2g/pose';
import { Canvas, LIGHT_THEME, drawPose, figureStyleFor, fill, projectFrame } from '@s2g/render';
import { csvLine, readCsvRecords } from '../formats/csv';
import { isDir, isFile, mapOrdered } from '../formats/files';
import { formatFileTime, formatTimestamp } from '../formats/time';
import type { SourceInterval } from '../formats/types';
import { FRAME_WIDTH } from './body';
import { gestureDrivers, gesturePoses } from './motion';
import { Rng } from './rng';
import { planSpeech, renderSpeech, speechControls } from './speech';
import type { SpeakerStyle, StylePreset } from './style';
import { resolveStyle } from './style';

/** Bumped whenever the same seed would produce different files. */
export const SYNTHETIC_VERSION = 1;

export interface SyntheticSpeakerOptions {
  seed: number | string;
  /** Speaker name (also the folder under `outDir`); default `synth`. */
  name?: string;
  /** Total length of all videos. */
  minutes: number;
  /** A preset, or fields that override the style drawn from the seed. */
  style?: StylePreset | Partial<SpeakerStyle>;
}

export interface SyntheticVideoPlan {
  name: string;
  /** Seconds. */
  duration: number;
}

export interface SyntheticSpeakerPlan {
  name: string;
  seed: string;
  style: SpeakerStyle;
  videos: SyntheticVideoPlan[];
}

/** One synthetic video in memory: what the files hold, for tests and demos that need no files. */
export interface SyntheticVideo {
  name: string;
  duration: number;
  /** Mono 16 kHz. */
  audio: Float32Array;
  /** Every pose frame of the video at k / 15 s, T x 98 pixels in a 1280x720 frame. */
  poses: Float32Array;
  frameCount: number;
  /** Clean intervals (only their frames go into frames.csv); some with a split, some without. */
  intervals: SourceInterval[];
}

/** Longest synthetic video; longer speakers get several. */
const MAX_VIDEO_SECONDS = 120;

export function planSyntheticSpeaker(options: SyntheticSpeakerOptions): SyntheticSpeakerPlan {
  const name = options.name ?? 'synth';
  if (!/^[A-Za-z0-9_-]+$/.test(name)) throw new S2gError(ErrorCode.BAD_USER_INPUT, `speaker name '${name}' must be letters, digits, _ or -`);
  if (!(options.minutes > 0) || options.minutes > 600) throw new S2gError(ErrorCode.BAD_USER_INPUT, `minutes must be in (0, 600], got ${options.minutes}`);
  const seed = String(options.seed);
  const root = new Rng(`s2g-synthetic/${seed}/${name}`);
  const total = options.minutes * 60;
  const count = Math.max(1, Math.ceil(total / MAX_VIDEO_SECONDS));
  const duration = Math.round((total / count) * POSE_FPS) / POSE_FPS;
  return {
    name,
    seed,
    style: resolveStyle(root.fork('style'), options.style),
    videos: Array.from({ length: count }, (_, v) => ({ name: `${name}_${String(v).padStart(2, '0')}`, duration })),
  };
}

/** Clean intervals on the 15 fps grid, separated by short gaps; now and then one too short for a window. */
function planIntervals(rng: Rng, video: SyntheticVideoPlan): SourceInterval[] {
  const out: SourceInterval[] = [];
  let t = rng.range(0.5, 1.5);
  while (t + 3 < video.duration) {
    const short = rng.chance(0.15);
    const length = Math.min(short ? rng.range(2, 4) : rng.range(6, 18), video.duration - 0.2 - t);
    const first = Math.ceil(t * POSE_FPS);
    const last = Math.floor((t + length) * POSE_FPS);
    const k = out.length;
    let split: Split | undefined;
    if (k === 0) split = 'train';
    else if (k === 1) split = undefined;
    else if (!rng.chance(0.25)) split = rng.pick(['train', 'train', 'train', 'train', 'train', 'train', 'dev', 'test'] as const);
    out.push({ id: `${video.name}-i${String(k).padStart(2, '0')}`, start: first / POSE_FPS, end: last / POSE_FPS, ...(split ? { split } : {}) });
    t = t + length + rng.range(0.8, 2.5);
  }
  return out;
}

/** Audio, every pose frame and the intervals of one planned video; deterministic from the plan. */
export function synthesizeVideo(plan: SyntheticSpeakerPlan, index: number): SyntheticVideo {
  const video = plan.videos[index];
  const rng = new Rng(`s2g-synthetic/${plan.seed}/${plan.name}/${video.name}`);
  const score = planSpeech(rng.fork('speech'), plan.style, video.duration);
  const controls = speechControls(rng.fork('controls'), plan.style, score);
  const audio = renderSpeech(rng.fork('waveform'), controls, video.duration);
  const frameCount = Math.round(video.duration * POSE_FPS) + 1;
  const times = Array.from({ length: frameCount }, (_, k) => k / POSE_FPS);
  const frames = gesturePoses(rng.fork('pose'), plan.style, gestureDrivers(controls, plan.style), times);
  const poses = new Float32Array(frameCount * FRAME_VALUES);
  frames.forEach((f, i) => poses.set(f, i * FRAME_VALUES));
  return { name: video.name, duration: video.duration, audio, poses, frameCount, intervals: planIntervals(rng.fork('intervals'), video) };
}

export interface GenerateOptions extends SyntheticSpeakerOptions {
  outDir: string;
  /** Write each video's mp4 (skeleton drawn on white, 15 fps, audio muxed in); default true. */
  video?: boolean;
  /** Video frame size; default 160x90 (the 1280x720 pose frame scaled by 1/8). */
  videoSize?: { width: number; height: number };
  onProgress?: (done: number, total: number, video: string) => void;
}

export interface GeneratedVideo {
  name: string;
  duration: number;
  videoFn: string;
  audioPath: string;
  videoPath?: string;
  intervals: SourceInterval[];
  /** Frames listed in frames.csv (those inside intervals). */
  frames: number;
}

export interface GeneratedSpeaker {
  root: string;
  speaker: string;
  style: SpeakerStyle;
  videos: GeneratedVideo[];
}

const FRAMES_HEADER = ['frame_fn', 'frame_id', 'pose_dt', 'pose_fn', 'speaker', 'video_fn', 'interval_id', 'dataset', 'video_link'];
const INTERVALS_HEADER = ['speaker', 'video_fn', 'start_time', 'end_time', 'interval_id', 'dataset', 'delta_time', 'video_link'];

/**
 * Rows of other speakers already in a CSV of the same columns, so several synthetic speakers can
 * share one dataset folder like the original ten do.
 */
async function otherSpeakers(path: string, header: readonly string[], speaker: string): Promise<string> {
  if (!(await isFile(path))) return '';
  const column = header.indexOf('speaker');
  let out = '';
  let first = true;
  for await (const rec of readCsvRecords(path)) {
    if (first) {
      first = false;
      if (rec.join(',') !== header.join(',')) {
        throw new S2gError(ErrorCode.DATASET_INVALID, `${path}: exists with other columns (${rec.join(', ')}); use an empty output folder`, { file: path });
      }
      continue;
    }
    if (rec[column] !== speaker) out += csvLine(rec);
  }
  return out;
}

/** A keypoints_simple file: the (2, 49) array as two lines of x and y, like numpy.savetxt. */
function keypointText(poses: Float32Array, frame: number): string {
  const at = frame * FRAME_VALUES;
  const row = (offset: number) => Array.from(poses.subarray(at + offset, at + offset + NUM_KEYPOINTS), (v) => v.toFixed(3)).join(' ');
  return `${row(0)}\n${row(NUM_KEYPOINTS)}\n`;
}

async function* skeletonFrames(poses: Float32Array, frameCount: number, width: number, height: number): AsyncGenerator<Buffer> {
  const canvas = new Canvas(width, height);
  const style = figureStyleFor(canvas.bounds);
  const transform = { scale: width / FRAME_WIDTH, offsetX: 0, offsetY: 0 };
  const points = new Float64Array(FRAME_VALUES);
  for (let i = 0; i < frameCount; i++) {
    fill(canvas, LIGHT_THEME.background);
    drawPose(canvas, projectFrame(poses, i, transform, points), LIGHT_THEME, style);
    yield Buffer.from(canvas.data);
  }
}

/**
 * Writes a complete layout-1 dataset for one synthetic speaker (see docs/DATASETS.md):
 * frames.csv, intervals_df.csv, <name>/keypoints_simple/<video>/<video>_H_MM_SS.ffffff.txt,
 * <name>/audio/<video>.wav, <name>/videos/<video>.mp4 and <name>/synthetic.json. Same options,
 * same bytes (apart from the mp4, whose bytes depend on the ffmpeg build).
 */
export async function generateSyntheticSpeaker(options: GenerateOptions): Promise<GeneratedSpeaker> {
  const plan = planSyntheticSpeaker(options);
  const { outDir } = options;
  const speakerDir = join(outDir, plan.name);
  // A rerun must not leave frames of an earlier, longer run behind; anything else is not ours to delete.
  if ((await isDir(speakerDir)) && !(await isFile(join(speakerDir, 'synthetic.json')))) {
    throw new S2gError(ErrorCode.CONFLICT, `${speakerDir}: exists and is not a synthetic speaker; not overwriting it`, { file: speakerDir });
  }
  await rm(speakerDir, { recursive: true, force: true });
  await mkdir(join(speakerDir, 'audio'), { recursive: true });
  await mkdir(join(speakerDir, 'videos'), { recursive: true });
  const size = options.videoSize ?? { width: 160, height: 90 };
  const framesCsv: string[] = [];
  const intervalsCsv: string[] = [];
  const videos: GeneratedVideo[] = [];

  for (let v = 0; v < plan.videos.length; v++) {
    const synth = synthesizeVideo(plan, v);
    const videoFn = `${synth.name}.mp4`;
    const link = `synthetic://${plan.name}/${plan.seed}/${synth.name}`;
    const keypointDir = join(speakerDir, 'keypoints_simple', synth.name);
    await mkdir(keypointDir, { recursive: true });
    const audioPath = join(speakerDir, 'audio', `${synth.name}.wav`);
    await writeFile(audioPath, encodeWav(synth.audio, SAMPLE_RATE));

    const files: { path: string; frame: number }[] = [];
    for (const interval of synth.intervals) {
      const split = interval.split ?? '';
      intervalsCsv.push(
        csvLine([plan.name, videoFn, formatTimestamp(interval.start), formatTimestamp(interval.end), interval.id, split, (interval.end - interval.start).toFixed(6), link]),
      );
      const first = Math.round(interval.start * POSE_FPS);
      const last = Math.round(interval.end * POSE_FPS);
      for (let k = first; k <= last; k++) {
        const stamp = `${synth.name}_${formatFileTime(k / POSE_FPS)}`;
        const poseFn = `${synth.name}/${stamp}.txt`;
        framesCsv.push(csvLine([`${synth.name}/${stamp}.jpg`, k, formatTimestamp(k / POSE_FPS), poseFn, plan.name, videoFn, interval.id, split, link]));
        files.push({ path: join(speakerDir, 'keypoints_simple', poseFn), frame: k });
      }
    }
    for await (const _ of mapOrdered(files, 32, (f) => writeFile(f.path, keypointText(synth.poses, f.frame)))) {
      // Drained only to bound the number of open files.
    }

    let videoPath: string | undefined;
    if (options.video !== false) {
      videoPath = join(speakerDir, 'videos', videoFn);
      await encodeVideo({
        width: size.width,
        height: size.height,
        fps: POSE_FPS,
        frames: skeletonFrames(synth.poses, synth.frameCount, size.width, size.height),
        audio: audioPath,
        out: videoPath,
      });
    }
    videos.push({
      name: synth.name,
      duration: synth.duration,
      videoFn,
      audioPath,
      ...(videoPath ? { videoPath } : {}),
      intervals: synth.intervals,
      frames: files.length,
    });
    options.onProgress?.(v + 1, plan.videos.length, synth.name);
  }

  for (const [file, header, rows] of [
    ['frames.csv', FRAMES_HEADER, framesCsv],
    ['intervals_df.csv', INTERVALS_HEADER, intervalsCsv],
  ] as const) {
    const path = join(outDir, file);
    await writeFile(path, csvLine(header) + (await otherSpeakers(path, header, plan.name)) + rows.join(''));
  }
  const manifest = {
    generator: 's2g-synthetic',
    version: SYNTHETIC_VERSION,
    seed: plan.seed,
    speaker: plan.name,
    minutes: options.minutes,
    style: plan.style,
    videos: videos.map((v) => ({ name: v.name, video_fn: v.videoFn, duration: v.duration, frames: v.frames, intervals: v.intervals })),
  };
  await writeFile(join(speakerDir, 'synthetic.json'), JSON.stringify(manifest, null, 2) + '\n');
  return { root: outDir, speaker: plan.name, style: plan.style, videos };
}
