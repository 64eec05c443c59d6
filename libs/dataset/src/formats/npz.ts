import { readFile } from 'node:fs/promises';
import { basename, dirname, join, sep } from 'node:path';
import { WINDOW_AUDIO_SAMPLES, WINDOW_FRAMES, cropOrPad } from '@s2g/audio';
import type { Split } from '@s2g/contracts';
import { ErrorCode, S2gError } from '@s2g/contracts';
import { FRAME_VALUES, NUM_KEYPOINTS, POSE_FPS, toFrame49 } from '@s2g/pose';
import { assignSplit } from '../windows';
import type { WindowSample } from '../windows';
import { readCsvTable } from './csv';
import { findFiles, isFile, parseSplit } from './files';
import { parseNpz, toFloat32 } from './npy';
import { parseTimestamp } from './time';
import type { DatasetIssue, ReadOptions } from './types';
import { IssueLog } from './types';

/**
 * Layout 3: ready-cut training windows as the reference extraction script writes them, one `.npz`
 * per window with `pose` (64, 2, 49 or 52) in pixels and `audio` (16 kHz float waveform; `imgs` is
 * ignored). Metadata comes from a `train.csv` next to them (audio_fn, dataset, end, interval_id,
 * pose_fn, speaker, start, video_fn) when there is one, else from the file name
 * `<interval>-<start>-<end>.npz` and the folder `<speaker>/.../npz/`.
 */
export interface NpzReadOptions extends ReadOptions {
  /** Keep only this speaker's windows (and name windows without metadata after it). */
  speaker?: string;
  /** A train.csv listing the windows; default `<root>/train.csv` when present. */
  index?: string;
  /** Seed of the split assignment of windows without a `dataset` column (see `assignSplit`). */
  splitSeed?: number;
}

export interface NpzSource {
  speaker?: string;
  files: string[];
  /** Windows in file order; a bad file is skipped and reported in `issues`. */
  samples(): AsyncGenerator<WindowSample>;
  issues: DatasetIssue[];
}

interface NpzEntry {
  path: string;
  speaker: string;
  video: string;
  intervalId: string;
  split?: Split;
  start?: number;
  end?: number;
}

const NAME = /^(.+)-(\d+:\d{1,2}:\d{1,2}(?:\.\d+)?)-(\d+:\d{1,2}:\d{1,2}(?:\.\d+)?)\.npz$/;

/**
 * Metadata of a window without an index: interval and times from the reference's file name
 * `<interval>-<start>-<end>.npz`, the speaker from the reference's folders `<speaker>/<split>/npz/`.
 */
function fromFileName(path: string, root: string): NpzEntry {
  const segs = dirname(path).split(sep);
  const npzAt = segs.findLastIndex((s) => /^npz/i.test(s));
  const who = npzAt >= 2 ? segs[npzAt - 2] : basename(root);
  const m = NAME.exec(basename(path));
  if (!m) return { path, speaker: who, video: basename(dirname(path)), intervalId: basename(path, '.npz') };
  return { path, speaker: who, video: m[1], intervalId: m[1], start: parseTimestamp(m[2]), end: parseTimestamp(m[3]) };
}

/** Decodes one window file into a sample (pose 64 x 98 float32, audio cropped/padded to 67,267). */
export function npzSample(bytes: Uint8Array, entry: Omit<NpzEntry, 'path'> & { path?: string }, splitSeed = 0): WindowSample {
  const file = entry.path ?? 'window.npz';
  const arrays = parseNpz(bytes, file, ['pose', 'audio']);
  const { pose, audio } = arrays;
  const points = pose.shape[2];
  if (pose.shape.length !== 3 || pose.shape[0] !== WINDOW_FRAMES || pose.shape[1] !== 2 || (points !== NUM_KEYPOINTS && points !== 52)) {
    throw new S2gError(ErrorCode.KEYPOINTS_INVALID, `${file}: pose has shape (${pose.shape.join(', ')}), expected (${WINDOW_FRAMES}, 2, 49 or 52)`, {
      file,
    });
  }
  if (audio.shape.length !== 1 && !(audio.shape.length === 2 && audio.shape[1] === 1)) {
    throw new S2gError(ErrorCode.MEDIA_UNREADABLE, `${file}: audio has shape (${audio.shape.join(', ')}), expected a mono waveform`, { file });
  }
  const flat = toFloat32(pose.data);
  const out = new Float32Array(WINDOW_FRAMES * FRAME_VALUES);
  for (let t = 0; t < WINDOW_FRAMES; t++) {
    out.set(toFrame49(flat.subarray(t * 2 * points, (t + 1) * 2 * points), `${file} frame ${t}`), t * FRAME_VALUES);
  }
  const wave = toFloat32(audio.data);
  for (let i = 0; i < wave.length; i++) {
    if (!Number.isFinite(wave[i])) throw new S2gError(ErrorCode.MEDIA_UNREADABLE, `${file}: audio sample ${i} is ${wave[i]}`, { file });
  }
  const start = entry.start ?? 0;
  return {
    id: `${entry.video}/${entry.intervalId}/${basename(file, '.npz')}`,
    speaker: entry.speaker,
    video: entry.video,
    intervalId: entry.intervalId,
    split: entry.split ?? assignSplit(entry.speaker, entry.video, entry.intervalId, splitSeed),
    startTime: start,
    endTime: entry.end ?? start + (WINDOW_FRAMES - 1) / POSE_FPS,
    pose: out,
    audio: wave.length === WINDOW_AUDIO_SAMPLES ? wave : cropOrPad(wave, WINDOW_AUDIO_SAMPLES),
  };
}

/**
 * The reference writes absolute paths of the machine it ran on: take the path as it is if it
 * exists, else the longest tail of it that exists under `root`.
 */
async function locate(root: string, poseFn: string): Promise<string> {
  if (await isFile(poseFn)) return poseFn;
  const parts = poseFn.split(/[\\/]+/).filter((p) => p.length > 0);
  for (let i = 0; i < parts.length; i++) {
    const candidate = join(root, ...parts.slice(i));
    if (await isFile(candidate)) return candidate;
  }
  return join(root, ...parts);
}

/** Lists the windows of a layout-3 dataset (every `.npz` under `root`, or those a train.csv names). */
export async function readNpzSpeaker(root: string, options: NpzReadOptions = {}): Promise<NpzSource> {
  const log = new IssueLog(options.onIssue);
  const index = options.index ?? ((await isFile(join(root, 'train.csv'))) ? join(root, 'train.csv') : undefined);
  let entries: NpzEntry[] = [];
  const seen = new Set<string>();
  if (index) {
    for await (const row of readCsvTable(index, ['pose_fn'])) {
      const who = row.get('speaker') ?? options.speaker ?? '';
      seen.add(who);
      if (options.speaker && who !== options.speaker) continue;
      const poseFn = row.get('pose_fn') ?? '';
      const path = await locate(root, poseFn);
      const split = parseSplit(row.get('dataset'));
      entries.push({
        path,
        speaker: who,
        video: row.get('video_fn') ?? '',
        intervalId: row.get('interval_id') ?? basename(poseFn, '.npz'),
        ...(split ? { split } : {}),
        start: parseTimestamp(row.get('start') ?? ''),
        end: parseTimestamp(row.get('end') ?? ''),
      });
    }
  } else {
    entries = (await findFiles(root, (n) => n.endsWith('.npz'))).map((p) => fromFileName(p, root));
    for (const e of entries) seen.add(e.speaker);
    if (options.speaker) {
      const named = entries.filter((e) => e.speaker === options.speaker);
      // A folder of one speaker's windows has no speaker level: take them all under the given name.
      entries = named.length > 0 || seen.size > 1 ? named : entries.map((e) => ({ ...e, speaker: options.speaker as string }));
    }
  }
  if (entries.length === 0) {
    const where = index ?? root;
    if (options.speaker && seen.size > 0) {
      throw new S2gError(ErrorCode.SPEAKER_UNKNOWN, `${where}: no windows for speaker '${options.speaker}' (speakers present: ${[...seen].sort().join(', ')})`, {
        file: where,
        speaker: options.speaker,
      });
    }
    throw new S2gError(ErrorCode.DATASET_INVALID, `${where}: no .npz windows found`, { file: where });
  }
  return {
    ...(options.speaker ? { speaker: options.speaker } : {}),
    files: entries.map((e) => e.path),
    issues: log.issues,
    async *samples() {
      for (const entry of entries) {
        let bytes: Uint8Array;
        try {
          bytes = await readFile(entry.path);
        } catch {
          log.add({ code: ErrorCode.FILE_MISSING, file: entry.path, message: `${entry.path}: window file missing` });
          continue;
        }
        let sample: WindowSample;
        try {
          sample = npzSample(bytes, entry, options.splitSeed);
        } catch (e) {
          log.addError(entry.path, e, ErrorCode.DATASET_INVALID);
          continue;
        }
        yield sample;
      }
    },
  };
}
