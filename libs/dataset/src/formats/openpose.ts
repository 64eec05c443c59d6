import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, extname } from 'node:path';
import { createGunzip } from 'node:zlib';
import { Unzip, UnzipInflate } from 'fflate';
import { extract } from 'tar-stream';
import { ErrorCode, S2gError } from '@s2g/contracts';
import { probe } from '@s2g/media';
import { FRAME_VALUES, NUM_KEYPOINTS, POSE_FPS, fillMissing, fromOpenPose, toFrame49 } from '@s2g/pose';
import { readCsvTable } from './csv';
import { findFiles, isDir, mapOrdered, nameKeys, parseSplit } from './files';
import { parseTimestamp } from './time';
import type { PoseFrame, ReadOptions, SourceInterval, SourceVideo, SpeakerSource } from './types';
import { IssueLog } from './types';

/**
 * Layout 2, a new speaker: per video, the media file plus keypoints from a pose detector, either
 * OpenPose JSON per frame (a folder, a .zip, or a .tar / .tar.gz of `*_<frame>_keypoints.json`) or a
 * CSV of frames, and optionally a CSV of intervals (else the whole video is one interval).
 *
 * Keypoints arrive at the video's rate (often 25-30 fps) and are resampled by timestamp onto the
 * 15 fps grid `k / 15` s (linear interpolation between the two nearest source frames by default;
 * `nearest` copies the closer one). A grid point whose two neighbours are more than `maxGap`
 * apart is left out, so windows never bridge a stretch without detections.
 *
 * Each video's keypoints are decoded when the speaker is read and kept as float32 (392 bytes a
 * frame), so every issue is known on return and `frames()` is cheap.
 */
export interface OpenPoseVideoInput {
  /** Defaults to the media (or keypoints) file name without extension. */
  name?: string;
  mediaPath?: string;
  audioPath?: string;
  /** Folder, .zip, .tar or .tar.gz of OpenPose JSON, or a .csv of frames. */
  keypoints: string;
  /** Rate of the keypoint frames (JSON, or CSV with a frame column); probed from `mediaPath` when absent. */
  fps?: number;
  /** CSV with start_time, end_time and optionally interval_id, dataset, video_fn. */
  intervals?: string;
}

export interface OpenPoseReadOptions extends ReadOptions {
  speaker: string;
  videos: readonly OpenPoseVideoInput[];
  resample?: 'linear' | 'nearest';
  /** Seconds; default 0.25. */
  maxGap?: number;
}

/** A source frame at its own time; NaN marks points the detector did not find. */
export interface TimedValues {
  time: number;
  values: ArrayLike<number>;
}

const BODY_POINTS = 7;

/** Resamples frames (sorted by time) onto the `k / fps` grid. Exported for reuse and tests. */
export function resampleFrames(
  frames: readonly TimedValues[],
  options: { fps?: number; method?: 'linear' | 'nearest'; maxGap?: number } = {},
): PoseFrame[] {
  const fps = options.fps ?? POSE_FPS;
  const method = options.method ?? 'linear';
  const maxGap = options.maxGap ?? 0.25;
  const out: PoseFrame[] = [];
  if (frames.length === 0) return out;
  const eps = 1e-6;
  // `+ 0` turns the -0 that ceil gives for tiny negatives into 0.
  const first = Math.ceil(frames[0].time * fps - eps) + 0;
  const last = Math.floor(frames[frames.length - 1].time * fps + eps);
  let i = 0;
  for (let k = first; k <= last; k++) {
    const t = k / fps;
    while (i + 1 < frames.length && frames[i + 1].time <= t + eps) i++;
    const a = frames[i];
    const keypoints = new Float32Array(FRAME_VALUES);
    if (Math.abs(a.time - t) <= eps) {
      for (let j = 0; j < FRAME_VALUES; j++) keypoints[j] = a.values[j];
    } else {
      const b = frames[i + 1];
      if (!b || b.time - a.time > maxGap) continue;
      const w = (t - a.time) / (b.time - a.time);
      for (let j = 0; j < FRAME_VALUES; j++) {
        keypoints[j] = method === 'nearest' ? (w < 0.5 ? a.values[j] : b.values[j]) : a.values[j] + w * (b.values[j] - a.values[j]);
      }
    }
    out.push({ time: t, keypoints });
  }
  return out;
}

/** Frame number of an OpenPose output file (`<prefix>_000000000123_keypoints.json`), or the last number in the name. */
export function openPoseFrameIndex(name: string): number | undefined {
  const base = basename(name);
  const m = /(\d+)_keypoints\.json$/i.exec(base) ?? /(\d+)(?=\D*$)/.exec(base);
  return m ? Number(m[1]) : undefined;
}

interface Entry {
  name: string;
  bytes: Uint8Array;
}

/** JSON members of a zip, streamed through fflate so the archive is never held whole in memory. */
async function* zipEntries(path: string): AsyncGenerator<Entry> {
  const ready: Entry[] = [];
  let failure: unknown;
  const unzip = new Unzip((file) => {
    if (!file.name.toLowerCase().endsWith('.json')) return;
    const chunks: Uint8Array[] = [];
    file.ondata = (err, chunk, final) => {
      if (err) {
        failure = err;
        return;
      }
      chunks.push(chunk);
      if (final) ready.push({ name: file.name, bytes: Buffer.concat(chunks) });
    };
    file.start();
  });
  unzip.register(UnzipInflate);
  const stream = createReadStream(path, { highWaterMark: 1 << 20 });
  try {
    for await (const chunk of stream) {
      unzip.push(chunk as Uint8Array);
      if (failure) throw failure;
      yield* ready.splice(0);
    }
    unzip.push(new Uint8Array(0), true);
    if (failure) throw failure;
    yield* ready.splice(0);
  } finally {
    stream.destroy();
  }
}

async function* tarEntries(path: string): AsyncGenerator<Entry> {
  const ex = extract();
  const source = createReadStream(path);
  (/\.(tgz|tar\.gz)$/i.test(path) ? source.pipe(createGunzip()) : source).pipe(ex);
  source.on('error', (e) => ex.destroy(e));
  for await (const entry of ex) {
    const chunks: Buffer[] = [];
    for await (const chunk of entry) chunks.push(chunk as Buffer);
    if (entry.header.type === 'file' && entry.header.name.toLowerCase().endsWith('.json')) {
      yield { name: entry.header.name, bytes: Buffer.concat(chunks) };
    }
  }
}

async function* folderEntries(path: string): AsyncGenerator<Entry> {
  const files = await findFiles(path, (n) => n.toLowerCase().endsWith('.json'));
  yield* mapOrdered(files, 16, async (f) => ({ name: f, bytes: await readFile(f) }));
}

function archiveError(path: string, e: unknown): S2gError {
  return e instanceof S2gError
    ? e
    : new S2gError(ErrorCode.DATASET_INVALID, `${path}: cannot read keypoint archive: ${(e as Error).message ?? String(e)}`, { file: path }, { cause: e });
}

/** OpenPose JSON frames of one video, at their own times. */
async function jsonFrames(path: string, fps: number, log: IssueLog): Promise<TimedValues[]> {
  const lower = path.toLowerCase();
  const entries = (await isDir(path))
    ? folderEntries(path)
    : lower.endsWith('.zip')
      ? zipEntries(path)
      : /\.(tar|tgz|tar\.gz)$/.test(lower)
        ? tarEntries(path)
        : undefined;
  if (!entries) throw new S2gError(ErrorCode.DATASET_INVALID, `${path}: keypoints must be a folder, .zip, .tar, .tar.gz or .csv`, { file: path });
  const frames: TimedValues[] = [];
  try {
    for await (const entry of entries) {
      // Names inside an archive are shown as archive:member so the bad member can be found.
      const label = entry.name.startsWith(path) ? entry.name : `${path}:${entry.name}`;
      const index = openPoseFrameIndex(entry.name);
      if (index === undefined) {
        log.add({ code: ErrorCode.DATASET_INVALID, file: label, message: `${label}: no frame number in the file name` });
        continue;
      }
      try {
        const { frame } = fromOpenPose(new TextDecoder().decode(entry.bytes), { name: label });
        frames.push({ time: index / fps, values: frame });
      } catch (e) {
        log.addError(label, e, ErrorCode.KEYPOINTS_INVALID);
      }
    }
  } catch (e) {
    throw archiveError(path, e);
  }
  return frames;
}

const TIME_COLUMNS = ['time', 't', 'seconds', 'timestamp', 'pose_dt'];
const FRAME_COLUMNS = ['frame', 'frame_id', 'frame_index', 'index'];

/**
 * A CSV of frames: a header, a time column (seconds or HH:MM:SS.ffffff) or a frame-number column
 * (at `fps`), then 98 values x0..x48, y0..y48 (or 104 for the 52-point layout).
 */
async function csvFrames(path: string, fps: number | undefined, log: IssueLog): Promise<TimedValues[]> {
  const frames: TimedValues[] = [];
  for await (const row of readCsvTable(path)) {
    const timeCol = row.header.findIndex((h) => TIME_COLUMNS.includes(h));
    const frameCol = timeCol >= 0 ? -1 : row.header.findIndex((h) => FRAME_COLUMNS.includes(h));
    const line = `${path} row ${row.index + 2}`;
    if (timeCol < 0 && frameCol < 0) {
      throw new S2gError(ErrorCode.DATASET_INVALID, `${path}: no time (${TIME_COLUMNS.join('/')}) or frame (${FRAME_COLUMNS.join('/')}) column`, { file: path });
    }
    if (frameCol >= 0 && !fps) throw new S2gError(ErrorCode.DATASET_INVALID, `${path}: frame numbers need the video's fps (not given, not probed)`, { file: path });
    const col = timeCol >= 0 ? timeCol : frameCol;
    const raw = row.values[col] ?? '';
    const time = timeCol >= 0 ? parseTimestamp(raw) : Number(raw) / (fps as number);
    const values = row.values.filter((_, i) => i !== col).map(parseNumber);
    if (time === undefined || !Number.isFinite(time)) {
      log.add({ code: ErrorCode.DATASET_INVALID, file: path, message: `${line}: bad ${row.header[col]} '${raw}'` });
      continue;
    }
    try {
      frames.push({ time, values: toFrame49(values, line) });
    } catch (e) {
      log.addError(path, e, ErrorCode.KEYPOINTS_INVALID);
    }
  }
  return frames;
}

/** A CSV number, including the `inf` / `nan` spellings numpy and pandas write. */
function parseNumber(text: string): number {
  const t = text.trim().toLowerCase();
  if (t === '' || t === 'nan') return Number.NaN;
  const inf = /^([+-]?)inf(inity)?$/.exec(t);
  if (inf) return inf[1] === '-' ? -Infinity : Infinity;
  return Number(t);
}

async function readIntervals(path: string, video: string, log: IssueLog): Promise<SourceInterval[]> {
  const keys = new Set(nameKeys(video));
  const out: SourceInterval[] = [];
  for await (const row of readCsvTable(path)) {
    const get = (...names: string[]) => names.map((n) => row.get(n)).find((v) => v !== undefined);
    const forVideo = get('video_fn', 'video');
    if (forVideo !== undefined && forVideo !== '' && !nameKeys(forVideo).some((k) => keys.has(k))) continue;
    const start = parseTimestamp(get('start_time', 'start') ?? '');
    const end = parseTimestamp(get('end_time', 'end') ?? '');
    if (start === undefined || end === undefined || end < start) {
      log.add({ code: ErrorCode.DATASET_INVALID, file: path, message: `${path} row ${row.index + 2}: bad start/end time` });
      continue;
    }
    const split = parseSplit(get('dataset', 'split'));
    out.push({ id: get('interval_id', 'id') || `${video}-${out.length}`, start, end, ...(split ? { split } : {}) });
  }
  return out.sort((a, b) => a.start - b.start);
}

/**
 * Drops frames without a detected body (neck, shoulders, elbows, wrists), then fills hand points the
 * detector missed by interpolating in time (`fillMissing`).
 */
function cleanFrames(frames: TimedValues[], file: string, log: IssueLog): TimedValues[] {
  frames.sort((a, b) => a.time - b.time);
  const kept = frames.filter((f, i) => {
    if (i > 0 && f.time === frames[i - 1].time) return false;
    for (let k = 0; k < BODY_POINTS; k++) if (!Number.isFinite(f.values[k]) || !Number.isFinite(f.values[NUM_KEYPOINTS + k])) return false;
    return true;
  });
  if (kept.length < frames.length) {
    log.add({
      code: ErrorCode.KEYPOINTS_INVALID,
      file,
      message: `${file}: ${frames.length - kept.length} of ${frames.length} frames dropped (no body detected, or a duplicate time)`,
    });
  }
  if (kept.length === 0) return [];
  const stacked = new Float64Array(kept.length * FRAME_VALUES);
  kept.forEach((f, i) => stacked.set(f.values, i * FRAME_VALUES));
  let filled: Float64Array;
  try {
    filled = fillMissing(stacked);
  } catch (e) {
    log.addError(file, e, ErrorCode.KEYPOINTS_INVALID);
    return [];
  }
  return kept.map((f, i) => ({ time: f.time, values: filled.subarray(i * FRAME_VALUES, (i + 1) * FRAME_VALUES) }));
}

async function videoFps(input: OpenPoseVideoInput): Promise<number | undefined> {
  if (input.fps) return input.fps;
  if (!input.mediaPath) return undefined;
  const info = await probe(input.mediaPath);
  return info.video?.fps;
}

export async function readOpenPoseSpeaker(options: OpenPoseReadOptions): Promise<SpeakerSource> {
  const log = new IssueLog(options.onIssue);
  const videos: SourceVideo[] = [];
  for (const input of options.videos) {
    const name = input.name ?? stem(input.mediaPath ?? input.keypoints);
    try {
      const isCsv = input.keypoints.toLowerCase().endsWith('.csv');
      const fps = await videoFps(input);
      if (!isCsv && !fps) {
        throw new S2gError(ErrorCode.DATASET_INVALID, `${input.keypoints}: the keypoint frame rate is unknown (give fps or a video)`, { file: input.keypoints });
      }
      const raw = isCsv ? await csvFrames(input.keypoints, fps, log) : await jsonFrames(input.keypoints, fps as number, log);
      const frames = resampleFrames(cleanFrames(raw, input.keypoints, log), { method: options.resample, maxGap: options.maxGap });
      if (frames.length === 0) log.add({ code: ErrorCode.KEYPOINTS_INVALID, file: input.keypoints, message: `${input.keypoints}: no usable frames` });
      const intervals = input.intervals
        ? await readIntervals(input.intervals, name, log)
        : frames.length > 0
          ? [{ id: `${name}-0`, start: frames[0].time, end: frames[frames.length - 1].time }]
          : [];
      const times = Float64Array.from(frames, (f) => f.time);
      const packed = new Float32Array(frames.length * FRAME_VALUES);
      frames.forEach((f, i) => packed.set(f.keypoints, i * FRAME_VALUES));
      videos.push({
        name,
        ...(input.mediaPath ? { mediaPath: input.mediaPath } : input.audioPath ? { mediaPath: input.audioPath } : {}),
        ...(input.audioPath ? { audioPath: input.audioPath } : {}),
        intervals,
        frameCount: frames.length,
        frames: async function* () {
          for (let i = 0; i < times.length; i++) yield { time: times[i], keypoints: packed.subarray(i * FRAME_VALUES, (i + 1) * FRAME_VALUES) };
        },
      });
    } catch (e) {
      log.addError(input.keypoints, e, ErrorCode.DATASET_INVALID);
    }
  }
  return { speaker: options.speaker, videos, issues: log.issues };
}

function stem(path: string): string {
  const base = basename(path.replace(/[/\\]+$/, ''));
  return base.slice(0, base.length - extname(base).length) || base;
}
