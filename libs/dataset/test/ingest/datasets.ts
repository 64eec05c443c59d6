/**
 * Small datasets for the ingest specs, in each layout, and what importing them must give: the window
 * counts per split (ML-SPEC 3) and the normalisation statistics, worked out independently of ingest.
 */
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { zipSync } from 'fflate';
import { encodeWav, SAMPLE_RATE } from '@s2g/audio';
import type { Split } from '@s2g/contracts';
import { computeSpeakerStats, FRAME_VALUES, NUM_KEYPOINTS, parsePatsPoseCsv, POSE_FPS, type SpeakerStats } from '@s2g/pose';
import { assignSplit, collectFrames, encodeNpz, generateSyntheticSpeaker, readS2gSpeaker, windowCount } from '../../src/index';
import { PATS } from '../temp';

export interface Expected {
  samples: Record<Split, number>;
  intervals: number;
  /** Statistics over the training frames (null when there are none). */
  stats: SpeakerStats | null;
}

/** The split ingest gives an interval: the dataset's, else the deterministic one. */
const splitOf = (speaker: string, video: string, interval: { id: string; split?: Split }, seed = 0): Split => interval.split ?? assignSplit(speaker, video, interval.id, seed);

/** Windows and training statistics of a layout-1 dataset, read with the layout's own reader. */
export async function expectS2g(root: string, speaker: string): Promise<Expected> {
  const source = await readS2gSpeaker(root, { speaker });
  const samples: Record<Split, number> = { train: 0, dev: 0, test: 0 };
  const train: Float32Array[] = [];
  let intervals = 0;
  for (const video of source.videos) {
    const frames = await collectFrames(video);
    for (const interval of video.intervals) {
      if (!(interval.end > interval.start)) continue;
      intervals += 1;
      const inside = frames.filter((f) => f.time >= interval.start - 1e-3 && f.time <= interval.end + 1e-3);
      const split = splitOf(speaker, video.name, interval);
      // Synthetic intervals are gap-free, so the count is the formula for one run.
      samples[split] += windowCount(inside.length);
      if (split === 'train') train.push(...inside.map((f) => f.keypoints));
    }
  }
  return { samples, intervals, stats: statsOf(train) };
}

export function statsOf(frames: readonly ArrayLike<number>[]): SpeakerStats | null {
  if (frames.length === 0) return null;
  const poses = new Float64Array(frames.length * FRAME_VALUES);
  frames.forEach((f, i) => poses.set(Array.from(f), i * FRAME_VALUES));
  return computeSpeakerStats(poses);
}

export async function synthetic(dir: string, options: { seed: number; name: string; minutes: number; video?: boolean }): Promise<string> {
  await generateSyntheticSpeaker({ seed: options.seed, name: options.name, minutes: options.minutes, outDir: dir, video: options.video ?? false });
  return dir;
}

/** The 109 frames of real pose in the PATS fixture, 98 pixel values each. */
export async function patsFrames(): Promise<Float64Array[]> {
  const { poses, frames } = parsePatsPoseCsv(await readFile(join(PATS, 'pose_data.csv'), 'utf8'));
  return Array.from({ length: frames }, (_, k) => poses.slice(k * FRAME_VALUES, (k + 1) * FRAME_VALUES));
}

/** BODY_25 indices of the skeleton's seven body points (neck, right shoulder/elbow/wrist, left ...). */
const BODY25 = [1, 2, 3, 4, 5, 6, 7];

/** One frame as OpenPose writes it: BODY_25 plus both hands, x y confidence triples. */
export function openPoseJson(frame: ArrayLike<number>): string {
  const triple = (j: number) => [frame[j], frame[NUM_KEYPOINTS + j], 0.9];
  const body = new Array<number>(75).fill(0);
  BODY25.forEach((b, j) => body.splice(3 * b, 3, ...triple(j)));
  const hand = (root: number) => Array.from({ length: 21 }, (_, h) => triple(root + h)).flat();
  return JSON.stringify({ version: 1.3, people: [{ pose_keypoints_2d: body, hand_left_keypoints_2d: hand(7), hand_right_keypoints_2d: hand(28) }] });
}

/** Speech-like test audio: a few harmonics under a syllable-rate envelope. */
export function speechish(seconds: number): Float32Array {
  return Float32Array.from({ length: Math.round(seconds * SAMPLE_RATE) }, (_, i) => {
    const t = i / SAMPLE_RATE;
    const env = 0.5 + 0.5 * Math.sin(2 * Math.PI * 4 * t);
    return 0.3 * env * (Math.sin(2 * Math.PI * 140 * t) + 0.5 * Math.sin(2 * Math.PI * 280 * t) + 0.25 * Math.sin(2 * Math.PI * 420 * t));
  });
}

/**
 * Layout 2 from the PATS fixture: `<dir>/<name>/` with one OpenPose JSON per frame (at 15 fps) and
 * `<dir>/<name>.wav` of `audioSeconds`.
 */
export async function openPoseFolder(dir: string, name: string, audioSeconds: number): Promise<string> {
  const frames = await patsFrames();
  await mkdir(join(dir, name), { recursive: true });
  for (const [i, f] of frames.entries()) await writeFile(join(dir, name, `${name}_${String(i).padStart(12, '0')}_keypoints.json`), openPoseJson(f));
  await writeFile(join(dir, `${name}.wav`), encodeWav(speechish(audioSeconds), SAMPLE_RATE));
  return dir;
}

export interface NpzWindow {
  interval: string;
  split: Split | '';
  /** First frame, in the PATS frames. */
  start: number;
  points?: 49 | 52;
  poison?: 'nan' | 'shape';
}

/**
 * Layout 3 from the PATS fixture: one .npz per window as the reference writes them (pose (64, 2, 49)
 * in pixels, audio 16 kHz), listed in a train.csv with splits.
 */
export async function npzFolder(dir: string, speaker: string, windows: readonly NpzWindow[]): Promise<string> {
  const frames = await patsFrames();
  const folder = join(dir, speaker, 'npz');
  await mkdir(folder, { recursive: true });
  const rows = ['audio_fn,dataset,end,interval_id,pose_fn,speaker,start,video_fn'];
  for (const [n, w] of windows.entries()) {
    const count = w.poison === 'shape' ? 60 : 64;
    const pose = new Float64Array(count * 2 * NUM_KEYPOINTS);
    for (let t = 0; t < count; t++) {
      const f = frames[w.start + t];
      for (let k = 0; k < NUM_KEYPOINTS; k++) {
        pose[t * 2 * NUM_KEYPOINTS + k] = f[k];
        pose[t * 2 * NUM_KEYPOINTS + NUM_KEYPOINTS + k] = f[NUM_KEYPOINTS + k];
      }
    }
    if (w.poison === 'nan') pose[7] = Number.NaN;
    const audio = speechish(64 / POSE_FPS).subarray(0, 67_200);
    const file = `${w.interval}-${n}.npz`;
    await writeFile(join(folder, file), encodeNpz({ pose: { shape: [count, 2, NUM_KEYPOINTS], data: pose }, audio: { shape: [audio.length], data: audio } }));
    const start = w.start / POSE_FPS;
    rows.push(`a.wav,${w.split},${(start + 63 / POSE_FPS).toFixed(6)},${w.interval},${speaker}/npz/${file},${speaker},${start.toFixed(6)},talk.mp4`);
  }
  await writeFile(join(dir, 'train.csv'), `${rows.join('\n')}\n`);
  return dir;
}

/** A zip of a folder's files, under `top/` (s3rver cannot page listings, so big datasets go up as one archive). */
export async function zipFolder(root: string, top: string): Promise<Uint8Array> {
  const files: Record<string, Uint8Array> = {};
  const walk = async (d: string): Promise<void> => {
    for (const e of await readdir(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) await walk(p);
      else files[`${top}/${relative(root, p)}`] = await readFile(p);
    }
  };
  await walk(root);
  return zipSync(files, { level: 1 });
}
