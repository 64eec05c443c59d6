import { join } from 'node:path';
import { ErrorCode, S2gError } from '@s2g/contracts';
import { readCsvTable } from './csv';
import { FileIndex, isDir, isFile, listDir, mapOrdered, nameKeys, parseSplit, readKeypointFile } from './files';
import { parseFileTime, parseTimestamp } from './time';
import type { PoseFrame, ReadOptions, SourceInterval, SourceVideo, SpeakerSource } from './types';
import { IssueLog } from './types';

/**
 * Layout 1, the original speech2gesture dataset (ML-SPEC 8):
 *
 *   <root>/frames.csv          one row per pose frame (any speakers)
 *   <root>/intervals_df.csv    one row per clean interval (either CSV may be missing, not both)
 *   <root>/<speaker>/keypoints_simple/<video>/<frame>.txt
 *   <root>/<speaker>/videos/<video_fn>   and/or   <root>/<speaker>/audio/<video stem>.<any ext>
 *
 * The `<speaker>/` level may be absent (a folder holding one speaker). Keypoint paths come from
 * frames.csv `pose_fn` (relative to keypoints_simple, as the reference code resolves them); without
 * frames.csv the frames are the files in keypoints_simple/<video>/ whose names end in the original
 * `_H_MM_SS.ffffff.txt` time stamp and that fall inside an interval.
 */
export interface S2gReadOptions extends ReadOptions {
  speaker: string;
  /** Override the CSV locations (e.g. the published `frames_df_10_19_19.csv`). */
  framesCsv?: string;
  intervalsCsv?: string;
  /** Keypoint files read in parallel; default 16. */
  concurrency?: number;
}

interface FrameRef {
  time: number;
  /** frames.csv pose_fn until the video's folder is known, then the full path. */
  path: string;
}

/**
 * The keypoint folder of a video: the original names it after the video file name cut at the first
 * period with spaces as underscores; a folder named after the full stem is accepted too.
 */
async function keypointFolder(keypointsRoot: string, video: string): Promise<string> {
  const keys = nameKeys(video).reverse();
  for (const key of keys) if (await isDir(join(keypointsRoot, key))) return join(keypointsRoot, key);
  return join(keypointsRoot, keys[0]);
}

interface VideoDraft {
  intervals: Map<string, SourceInterval & { from: 'intervals' | 'frames' }>;
  frames: FrameRef[];
}

async function firstExisting(paths: readonly string[]): Promise<string | undefined> {
  for (const p of paths) if (await isFile(p)) return p;
  return undefined;
}

export async function readS2gSpeaker(root: string, options: S2gReadOptions): Promise<SpeakerSource> {
  const { speaker } = options;
  // The name becomes a folder below root: it must not lead out of it.
  if (speaker === '' || speaker === '.' || speaker === '..' || /[/\\]/.test(speaker)) {
    throw new S2gError(ErrorCode.BAD_USER_INPUT, `speaker name '${speaker}' is not a plain folder name`);
  }
  const log = new IssueLog(options.onIssue);
  const speakerRoot = (await isDir(join(root, speaker))) ? join(root, speaker) : root;
  const framesCsv = options.framesCsv ?? (await firstExisting([join(root, 'frames.csv'), join(speakerRoot, 'frames.csv')]));
  const intervalsCsv = options.intervalsCsv ?? (await firstExisting([join(root, 'intervals_df.csv'), join(speakerRoot, 'intervals_df.csv')]));
  if (!framesCsv && !intervalsCsv) {
    throw new S2gError(ErrorCode.DATASET_INVALID, `${root}: neither frames.csv nor intervals_df.csv found`, { file: root });
  }
  const keypointsRoot = join(speakerRoot, 'keypoints_simple');
  const videos = new Map<string, VideoDraft>();
  const draft = (video: string): VideoDraft => {
    let v = videos.get(video);
    if (!v) videos.set(video, (v = { intervals: new Map(), frames: [] }));
    return v;
  };
  const known = new Set<string>();

  if (intervalsCsv) {
    for await (const row of readCsvTable(intervalsCsv, ['speaker', 'video_fn', 'start_time', 'end_time', 'interval_id'])) {
      const who = row.get('speaker') ?? '';
      known.add(who);
      if (who !== speaker) continue;
      const id = row.get('interval_id') ?? '';
      const start = parseTimestamp(row.get('start_time') ?? '');
      const end = parseTimestamp(row.get('end_time') ?? '');
      if (id === '' || start === undefined || end === undefined || end < start) {
        log.add({
          code: ErrorCode.DATASET_INVALID,
          file: intervalsCsv,
          message: `${intervalsCsv} row ${row.index + 2}: bad interval (id '${id}', start '${row.get('start_time')}', end '${row.get('end_time')}')`,
        });
        continue;
      }
      draft(row.get('video_fn') ?? '').intervals.set(id, { id, start, end, split: parseSplit(row.get('dataset')), from: 'intervals' });
    }
  }

  if (framesCsv) {
    for await (const row of readCsvTable(framesCsv, ['speaker', 'video_fn', 'pose_dt', 'interval_id'])) {
      const who = row.get('speaker') ?? '';
      known.add(who);
      if (who !== speaker) continue;
      const video = row.get('video_fn') ?? '';
      const time = parseTimestamp(row.get('pose_dt') ?? '');
      const poseFn = row.get('pose_fn')?.trim() ?? '';
      if (time === undefined || poseFn === '') {
        log.add({
          code: ErrorCode.DATASET_INVALID,
          file: framesCsv,
          message: `${framesCsv} row ${row.index + 2}: ${time === undefined ? `bad pose_dt '${row.get('pose_dt')}'` : 'empty pose_fn'}`,
        });
        continue;
      }
      const v = draft(video);
      v.frames.push({ time, path: poseFn });
      const id = row.get('interval_id') ?? '';
      const interval = v.intervals.get(id);
      if (!interval) v.intervals.set(id, { id, start: time, end: time, split: parseSplit(row.get('dataset')), from: 'frames' });
      else if (interval.from === 'frames') {
        interval.start = Math.min(interval.start, time);
        interval.end = Math.max(interval.end, time);
      } else interval.split ??= parseSplit(row.get('dataset'));
    }
  }

  if (!known.has(speaker)) {
    const list = [...known].filter((k) => k !== '').sort();
    const files = [framesCsv, intervalsCsv].filter(Boolean).join(' and ');
    throw new S2gError(
      ErrorCode.SPEAKER_UNKNOWN,
      `${files}: no rows for speaker '${speaker}' (speakers present: ${list.slice(0, 20).join(', ') || 'none'})`,
      { file: framesCsv ?? intervalsCsv, speaker, known: list },
    );
  }

  const videoIndex = await FileIndex.of([join(speakerRoot, 'videos'), join(root, 'videos')]);
  const audioIndex = await FileIndex.of([join(speakerRoot, 'audio'), join(root, 'audio')]);
  const concurrency = options.concurrency ?? 16;
  const out: SourceVideo[] = [];

  for (const [name, v] of [...videos].sort(([a], [b]) => a.localeCompare(b))) {
    const videoPath = videoIndex.find(name);
    const audioPath = audioIndex.find(name);
    if (!videoPath && !audioPath) {
      log.add({
        code: ErrorCode.FILE_MISSING,
        file: join(speakerRoot, 'videos', name),
        message: `${join(speakerRoot, 'videos', name)}: video '${name}' not found in videos/ or audio/`,
      });
    }
    const intervals = [...v.intervals.values()].map(({ id, start, end, split }) => ({ id, start, end, ...(split ? { split } : {}) }));
    intervals.sort((a, b) => a.start - b.start);
    const folder = await keypointFolder(keypointsRoot, name);
    // frames.csv pose_fn is relative to keypoints_simple; a bare file name is taken to be in the video's folder.
    let refs = v.frames.map((f) => ({ time: f.time, path: f.path.includes('/') ? join(keypointsRoot, f.path) : join(folder, f.path) }));
    if (!framesCsv) refs = await framesFromFolder(folder, intervals, log);
    refs.sort((a, b) => a.time - b.time);
    out.push({
      name,
      ...(videoPath || audioPath ? { mediaPath: videoPath ?? audioPath } : {}),
      ...(audioPath ? { audioPath } : {}),
      intervals,
      frameCount: refs.length,
      frames: () => readFrames(refs, concurrency, log),
    });
  }
  return { speaker, videos: out, issues: log.issues };
}

/** Without frames.csv: the keypoint files of a video whose file-name time falls inside an interval. */
async function framesFromFolder(dir: string, intervals: readonly SourceInterval[], log: IssueLog): Promise<FrameRef[]> {
  const names = await listDir(dir);
  if (names.length === 0) {
    log.add({ code: ErrorCode.FILE_MISSING, file: dir, message: `${dir}: keypoint folder missing or empty` });
    return [];
  }
  const refs: FrameRef[] = [];
  for (const name of names) {
    if (!name.endsWith('.txt')) continue;
    const time = parseFileTime(name);
    if (time === undefined) {
      log.add({ code: ErrorCode.DATASET_INVALID, file: join(dir, name), message: `${join(dir, name)}: no _H_MM_SS.ffffff time in the file name` });
      continue;
    }
    // Rounding in the file names is at most a microsecond.
    if (intervals.some((i) => time >= i.start - 1e-3 && time <= i.end + 1e-3)) refs.push({ time, path: join(dir, name) });
  }
  return refs;
}

async function* readFrames(refs: readonly FrameRef[], concurrency: number, log: IssueLog): AsyncGenerator<PoseFrame> {
  const results = mapOrdered(refs, concurrency, async (ref) => {
    try {
      return { ok: true as const, frame: { time: ref.time, keypoints: await readKeypointFile(ref.path) } };
    } catch (e) {
      return { ok: false as const, path: ref.path, error: e };
    }
  });
  for await (const r of results) {
    if (r.ok) yield r.frame;
    else log.addError(r.path, r.error, ErrorCode.KEYPOINTS_INVALID);
  }
}

/** Speakers named in a layout-1 dataset's CSVs, for listing what an import could take. */
export async function listS2gSpeakers(root: string): Promise<string[]> {
  const names = new Set<string>();
  for (const file of ['frames.csv', 'intervals_df.csv']) {
    const path = join(root, file);
    if (!(await isFile(path))) continue;
    for await (const row of readCsvTable(path, ['speaker'])) names.add(row.get('speaker') ?? '');
  }
  names.delete('');
  return [...names].sort();
}
