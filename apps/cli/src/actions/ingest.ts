/**
 * Adding data to a speaker through the API: the speaker (created when missing), the data uploaded
 * (a folder zipped, an archive or a video with its keypoints as they are) or named on the server,
 * the ingest job started and followed to its end.
 */
import { ErrorCode } from '@s2g/contracts';
import { readdir, stat } from 'node:fs/promises';
import { basename, extname, isAbsolute, join, resolve } from 'node:path';
import { CliError, type S2gClient } from '../client';
import { type JobState, Q, type SpeakerSummary } from '../operations';
import { createProgress, type Io } from '../output';
import { waitForJob } from './jobs';
import { extensionOf, MEDIA_EXTENSIONS, uploadFile, uploadName, zipFolder } from './upload';

export const UPLOAD_LAYOUTS = ['s2g', 'openpose', 'npz'] as const;
export type UploadLayout = (typeof UPLOAD_LAYOUTS)[number];

export interface IngestInput {
  /** A folder, an archive, an .npz or a video (with `keypoints`); on the server with `serverPath`. */
  path: string;
  speaker: string;
  layout?: UploadLayout;
  /** OpenPose keypoints of a single video: a folder, .zip, .tar(.gz) or .csv. */
  keypoints?: string;
  /** `path` is a folder on the ingest workers' filesystem (admin token). */
  serverPath?: boolean;
  options?: { replace?: boolean; maxSamples?: number; maxVideos?: number; keypointFps?: number; sourceSpeaker?: string; splitSeed?: number };
}

export interface StartedIngest {
  jobId: string;
  speaker: SpeakerSummary;
  createdSpeaker: boolean;
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

/** The layout of a local folder or file, from what it holds; null when it cannot tell. */
export async function detectLayout(path: string): Promise<UploadLayout | null> {
  const info = await stat(path).catch(() => null);
  if (!info) throw new CliError(ErrorCode.FILE_MISSING, `${path}: no such file or folder`);
  if (info.isFile()) {
    const ext = extensionOf(path);
    if (ext === 'npz') return 'npz';
    if (MEDIA_EXTENSIONS.includes(ext)) return 'openpose';
    return null;
  }
  if ((await exists(join(path, 'frames.csv'))) || (await exists(join(path, 'intervals_df.csv')))) return 's2g';
  const names = await readdir(path);
  if (names.includes('train.csv') || names.some((n) => n.endsWith('.npz'))) return 'npz';
  if (names.some((n) => MEDIA_EXTENSIONS.includes(extensionOf(n)))) return 'openpose';
  // One level down: a dataset folder wrapped in another (as archives often are).
  const dirs = (await readdir(path, { withFileTypes: true })).filter((d) => d.isDirectory());
  if (dirs.length === 1) return detectLayout(join(path, dirs[0].name));
  return null;
}

/** The speaker by name, created when it does not exist yet. */
export async function ensureSpeaker(client: S2gClient, name: string): Promise<{ speaker: SpeakerSummary; created: boolean }> {
  const { speakerByName } = await client.request<{ speakerByName: SpeakerSummary | null }>(Q.speakerByName, { name });
  if (speakerByName) return { speaker: speakerByName, created: false };
  const { createSpeaker } = await client.request<{ createSpeaker: SpeakerSummary }>(Q.createSpeaker, { input: { name } });
  return { speaker: createSpeaker, created: true };
}

/** Uploads `path` (and its keypoints) as one upload; returns its id. */
async function uploadSource(client: S2gClient, input: IngestInput, io: Io): Promise<string> {
  const path = resolve(input.path);
  const info = await stat(path).catch(() => null);
  if (!info) throw new CliError(ErrorCode.FILE_MISSING, `${input.path}: no such file or folder`);
  const send = async (file: string, label: string, uploadId?: string, filename?: string): Promise<string> => {
    const size = (await stat(file)).size;
    const bar = createProgress(io, `uploading ${label}`, size);
    try {
      return await uploadFile(client, file, { ...(uploadId ? { uploadId } : {}), ...(filename ? { filename } : {}), onProgress: (sent) => bar.update(sent) });
    } finally {
      bar.stop();
    }
  };
  const sendFolder = async (folder: string, name: string, uploadId?: string): Promise<string> => {
    const bar = createProgress(io, `zipping ${basename(folder)}`, 1);
    const zipped = await zipFolder(folder, name, (done, total) => bar.update(done, '', total)).finally(() => bar.stop());
    try {
      return await send(zipped.path, name, uploadId);
    } finally {
      await zipped.cleanup();
    }
  };

  const uploadId = info.isDirectory() ? await sendFolder(path, `${uploadName(path)}.zip`) : await send(path, basename(path));
  if (input.keypoints) {
    const keypoints = resolve(input.keypoints);
    const kpInfo = await stat(keypoints).catch(() => null);
    if (!kpInfo) throw new CliError(ErrorCode.FILE_MISSING, `${input.keypoints}: no such file or folder`);
    // Named after the video, so the ingest worker pairs them (`talk.mp4` + `talk_keypoints.zip`).
    const stem = uploadName(basename(path, extname(path)));
    if (kpInfo.isDirectory()) await sendFolder(keypoints, `${stem}_keypoints.zip`, uploadId);
    else await send(keypoints, basename(keypoints), uploadId, `${stem}_keypoints.${extensionOf(keypoints) === 'gz' ? 'tar.gz' : extensionOf(keypoints)}`);
  }
  return uploadId;
}

/** Starts an ingest job for `input`; the speaker is created when missing. */
export async function startIngest(client: S2gClient, input: IngestInput, io: Io): Promise<StartedIngest> {
  if (input.keypoints && input.serverPath) throw new CliError(ErrorCode.BAD_USER_INPUT, '--keypoints is for local files; with --server-path the folder must hold the keypoints');
  let layout = input.layout ?? null;
  if (!input.serverPath) {
    const detected = await detectLayout(input.path);
    layout ??= detected;
    if (layout === 'openpose' && !input.keypoints && (await stat(input.path)).isFile()) {
      throw new CliError(ErrorCode.BAD_USER_INPUT, `${input.path}: a video needs its pose keypoints: pass --keypoints <folder|zip|tar|csv>`);
    }
  } else if (!isAbsolute(input.path)) {
    throw new CliError(ErrorCode.BAD_USER_INPUT, `--server-path needs an absolute path on the server, got ${input.path}`);
  }
  if (!layout) throw new CliError(ErrorCode.BAD_USER_INPUT, `cannot tell the layout of ${input.path}: pass --layout ${UPLOAD_LAYOUTS.join('|')}`);

  const { speaker, created } = await ensureSpeaker(client, input.speaker);
  if (created) io.err(`created speaker ${speaker.name} (${speaker.id})\n`);
  const source = input.serverPath ? { serverPath: input.path } : { uploadId: await uploadSource(client, input, io) };
  const { startIngest } = await client.request<{ startIngest: { id: string } }>(Q.startIngest, {
    input: { speakerId: speaker.id, layout, source, ...(input.options ? { options: input.options } : {}) },
  });
  return { jobId: startIngest.id, speaker, createdSpeaker: created };
}

export interface IngestSummary {
  state: JobState;
  summary: Record<string, unknown> | null;
}

/** Follows an ingest job with a progress bar (stage, files, samples) to its end. */
export async function followIngest(client: S2gClient, jobId: string, io: Io): Promise<IngestSummary> {
  const bar = createProgress(io, 'ingesting', 1);
  // Source files, once the scan has counted them.
  let total = 1;
  let state: JobState;
  try {
    state = await waitForJob(client, jobId, {
      onUpdate: (u) => {
        // Progress events count samples; the completed event splits them by train/dev/test.
        const d = u.details as { files?: number; totalFiles?: number; videos?: number; samples?: number | Record<string, number> };
        const samples = typeof d.samples === 'number' ? d.samples : d.samples ? Object.values(d.samples).reduce((a, b) => a + b, 0) : undefined;
        if (d.totalFiles && d.totalFiles > 0) total = d.totalFiles;
        const files = u.status === 'completed' ? total : Math.min(d.files ?? 0, total);
        bar.update(files, `${u.stage ?? u.status}${samples !== undefined ? `, ${samples} windows` : ''}`, total);
      },
    });
  } finally {
    bar.stop();
  }
  const { ingestJob } = await client.request<{ ingestJob: { summary: Record<string, unknown> | null } | null }>(Q.ingestJob, { id: jobId });
  return { state, summary: ingestJob?.summary ?? null };
}
