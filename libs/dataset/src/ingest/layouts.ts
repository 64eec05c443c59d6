import { join } from 'node:path';
import { ErrorCode, S2gError } from '@s2g/contracts';
import { readNpzSpeaker, type NpzSource } from '../formats/npz';
import { readOpenPoseSpeaker } from '../formats/openpose';
import { readS2gSpeaker } from '../formats/s2g';
import type { DatasetIssue, SourceVideo } from '../formats/types';
import { generateSyntheticSpeaker } from '../synthetic/generate';
import { STYLE_PRESETS, type StylePreset } from '../synthetic/style';
import { scanOpenPoseFolder } from './openpose-folder';
import type { IngestRequest } from './types';

/** A source read into videos (layouts 1, 2 and synthetic) or into ready-cut windows (npz). */
export type OpenedSource =
  | { kind: 'videos'; speaker: string; videos: SourceVideo[]; expected: number }
  | { kind: 'windows'; speaker: string; npz: NpzSource };

/** A name the synthetic generator accepts (it becomes a folder): the speaker's, or a cleaned-up form of it. */
function generatorName(name: string): string {
  const clean = name.replace(/[^A-Za-z0-9_-]+/g, '_').replace(/^_+|_+$/g, '');
  return clean.length > 0 ? clean.slice(0, 64) : 'synth';
}

export interface OpenLayoutOptions {
  job: IngestRequest;
  /** The speaker's name in the source. */
  sourceSpeaker: string;
  /** The local folder of the source (ignored by `synthetic`). */
  root: string | null;
  tmp: string;
  onIssue: (issue: DatasetIssue) => void;
}

/** Reads the job's source with the reader of its layout. Per-file problems go to `onIssue`. */
export async function openLayout(options: OpenLayoutOptions): Promise<OpenedSource> {
  const { job, sourceSpeaker, root, tmp, onIssue } = options;
  switch (job.layout) {
    case 'synthetic': {
      const spec = job.options.synthetic;
      if (!spec) throw new S2gError(ErrorCode.BAD_USER_INPUT, 'the synthetic layout needs options.synthetic ({ minutes, seed })');
      if (spec.style !== undefined && !Object.hasOwn(STYLE_PRESETS, spec.style)) {
        throw new S2gError(ErrorCode.BAD_USER_INPUT, `synthetic style '${spec.style}' is not one of ${Object.keys(STYLE_PRESETS).join(', ')}`);
      }
      const name = generatorName(sourceSpeaker);
      const outDir = join(tmp, 'synthetic');
      await generateSyntheticSpeaker({
        seed: spec.seed,
        name,
        minutes: spec.minutes,
        outDir,
        video: spec.video,
        ...(spec.style ? { style: spec.style as StylePreset } : {}),
      });
      const source = await readS2gSpeaker(outDir, { speaker: name, onIssue });
      return { kind: 'videos', speaker: name, videos: source.videos, expected: source.videos.length };
    }
    case 's2g': {
      const source = await readS2gSpeaker(need(root), { speaker: sourceSpeaker, onIssue });
      return { kind: 'videos', speaker: sourceSpeaker, videos: source.videos, expected: source.videos.length };
    }
    case 'openpose': {
      const folder = await scanOpenPoseFolder(need(root));
      folder.issues.forEach(onIssue);
      const fps = job.options.keypointFps;
      const videos = fps ? folder.videos.map((v) => ({ ...v, fps })) : folder.videos;
      const source = await readOpenPoseSpeaker({ speaker: sourceSpeaker, videos, onIssue });
      return { kind: 'videos', speaker: sourceSpeaker, videos: source.videos, expected: folder.videos.length };
    }
    case 'npz': {
      const npz = await readNpzSpeaker(need(root), { speaker: sourceSpeaker, splitSeed: job.options.splitSeed, onIssue });
      return { kind: 'windows', speaker: sourceSpeaker, npz };
    }
  }
}

function need(root: string | null): string {
  if (root === null) throw new Error('ingest: this layout reads a source folder');
  return root;
}
