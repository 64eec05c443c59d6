import { readdir } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { ErrorCode, S2gError } from '@s2g/contracts';
import type { OpenPoseVideoInput } from '../formats/openpose';
import type { DatasetIssue } from '../formats/types';

/** Containers ffmpeg reads that a speaker's recording typically comes in (video, or audio alone). */
const MEDIA = /\.(mp4|m4v|mov|mkv|webm|avi|mpg|mpeg|flv|wmv|ts|wav|mp3|m4a|aac|flac|ogg|oga|opus)$/i;
const KEYPOINT_FILE = /\.(zip|tar|tgz|tar\.gz|csv)$/i;
const OWN_INTERVALS = /[._-]intervals\.csv$/i;

/** The name a video's files pair on: lower case, without extensions or a `_keypoints`-like suffix. */
function pairKey(name: string, isFolder = false): string {
  return (isFolder ? name : name.replace(/\.(tar\.gz|[^.]+)$/i, '')).replace(/([._-](keypoints|openpose|json|pose|frames))+$/i, '').toLowerCase();
}

function hasJson(names: readonly string[]): boolean {
  return names.some((n) => n.toLowerCase().endsWith('.json'));
}

export interface OpenPoseFolder {
  videos: OpenPoseVideoInput[];
  issues: DatasetIssue[];
}

/**
 * Layout 2 as a folder (or an unpacked upload): for each video, a media file and its keypoints,
 * paired by name. Keypoints are a folder of OpenPose JSON, a .zip / .tar / .tar.gz of them, or a .csv
 * of frames, named like the media file (optionally with a `_keypoints` / `.openpose` suffix):
 *
 *   talk1.mp4   talk1/ (JSON)      talk2.mov   talk2_keypoints.zip    talk3.webm   talk3.csv
 *   talk1.intervals.csv (optional) or one intervals.csv with a video_fn column for every video
 *
 * A folder with exactly one media file and one keypoint source pairs them whatever their names.
 * Media without keypoints, and keypoints without media, are reported as FILE_MISSING issues.
 */
export async function scanOpenPoseFolder(root: string): Promise<OpenPoseFolder> {
  const entries = await readdir(root, { withFileTypes: true });
  const media = new Map<string, string>();
  const keypoints = new Map<string, string>();
  const intervals = new Map<string, string>();
  let shared: string | undefined;
  for (const e of entries.sort((a, b) => a.name.localeCompare(b.name))) {
    const path = join(root, e.name);
    if (e.isDirectory()) {
      if (hasJson(await readdir(path))) keypoints.set(pairKey(e.name, true), path);
    } else if (!e.isFile()) continue;
    else if (/^intervals(_df)?\.csv$/i.test(e.name)) shared = path;
    else if (OWN_INTERVALS.test(e.name)) intervals.set(e.name.replace(OWN_INTERVALS, '').toLowerCase(), path);
    else if (MEDIA.test(e.name)) media.set(pairKey(e.name), path);
    else if (KEYPOINT_FILE.test(e.name)) keypoints.set(pairKey(e.name), path);
  }
  if (media.size === 0 && keypoints.size === 0) {
    throw new S2gError(ErrorCode.DATASET_INVALID, `${root}: no media files and no keypoints (OpenPose JSON folder, .zip, .tar or frames .csv) found`, { file: root });
  }
  const issues: DatasetIssue[] = [];
  const videos: OpenPoseVideoInput[] = [];
  const lonePair = media.size === 1 && keypoints.size === 1;
  for (const [key, mediaPath] of media) {
    const kp = lonePair ? [...keypoints.values()][0] : keypoints.get(key);
    if (!kp) {
      issues.push({ code: ErrorCode.FILE_MISSING, file: mediaPath, message: `${mediaPath}: no keypoints found for this video (expected ${key}/, ${key}.zip, ${key}.tar or ${key}.csv)` });
      continue;
    }
    keypoints.delete(lonePair ? [...keypoints.keys()][0] : key);
    const own = intervals.get(key) ?? shared;
    videos.push({ name: basename(mediaPath).replace(MEDIA, ''), mediaPath, keypoints: kp, ...(own ? { intervals: own } : {}) });
  }
  for (const path of keypoints.values()) {
    issues.push({ code: ErrorCode.FILE_MISSING, file: path, message: `${path}: keypoints without a media file of the same name (the audio is needed)` });
  }
  return { videos, issues };
}
