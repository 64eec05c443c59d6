/**
 * Files on this machine into the API's uploads: a name and content type the gateway accepts, a
 * folder zipped on the way (streamed, so a large dataset never sits in memory), then the presigned
 * PUT. Several files can share one upload (a video and its keypoints).
 */
import { ErrorCode } from '@s2g/contracts';
import { Zip, ZipDeflate, ZipPassThrough } from 'fflate';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, extname, join, relative, sep } from 'node:path';
import { CliError, type S2gClient } from '../client';
import { type UploadGrant, Q } from '../operations';

const CONTENT_TYPES: Record<string, string> = {
  zip: 'application/zip',
  tar: 'application/x-tar',
  tgz: 'application/gzip',
  gz: 'application/gzip',
  csv: 'text/csv',
  json: 'application/json',
  npz: 'application/octet-stream',
  npy: 'application/octet-stream',
  wav: 'audio/wav',
  mp3: 'audio/mpeg',
  m4a: 'audio/mp4',
  aac: 'audio/aac',
  flac: 'audio/flac',
  ogg: 'audio/ogg',
  oga: 'audio/ogg',
  opus: 'audio/opus',
  mp4: 'video/mp4',
  m4v: 'video/mp4',
  mov: 'video/quicktime',
  webm: 'video/webm',
  mkv: 'video/x-matroska',
  avi: 'video/x-msvideo',
};

export const MEDIA_EXTENSIONS = ['wav', 'mp3', 'm4a', 'aac', 'flac', 'ogg', 'oga', 'opus', 'mp4', 'm4v', 'mov', 'webm', 'mkv', 'avi'];
/** Already compressed: stored in a zip as they are, deflating them again only costs time. */
const STORED_EXTENSIONS = new Set([...MEDIA_EXTENSIONS, 'zip', 'gz', 'tgz', 'npz', 'png', 'jpg', 'jpeg']);

export function extensionOf(path: string): string {
  const name = basename(path).toLowerCase();
  if (name.endsWith('.tar.gz')) return 'gz';
  return extname(name).slice(1);
}

export function contentTypeOf(path: string): string {
  const type = CONTENT_TYPES[extensionOf(path)];
  if (!type) throw new CliError(ErrorCode.BAD_USER_INPUT, `${path}: files of this type cannot be uploaded (${Object.keys(CONTENT_TYPES).join(', ')})`);
  return type;
}

/** A file name the gateway accepts: letters, digits, ".", "_" and "-", starting with a letter or digit. */
export function uploadName(path: string): string {
  const clean = basename(path)
    .replace(/[^A-Za-z0-9._-]+/g, '_')
    .replace(/\.{2,}/g, '.')
    .replace(/^[^A-Za-z0-9]+/, '');
  return (clean || 'file').slice(-200);
}

async function walk(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await walk(path)));
    else if (entry.isFile()) out.push(path);
  }
  return out.sort();
}

export interface ZippedFolder {
  path: string;
  files: number;
  bytes: number;
  cleanup(): Promise<void>;
}

/** Zips a folder (its contents at the archive's root) into a temporary file. */
export async function zipFolder(folder: string, name: string, onFile?: (done: number, total: number) => void): Promise<ZippedFolder> {
  const files = await walk(folder);
  if (files.length === 0) throw new CliError(ErrorCode.FILE_MISSING, `${folder}: the folder is empty`);
  const dir = await mkdtemp(join(tmpdir(), 's2g-upload-'));
  const path = join(dir, name);
  const out = createWriteStream(path);
  const written = new Promise<void>((resolve, reject) => {
    out.once('finish', resolve);
    out.once('error', reject);
  });
  let failure: Error | null = null;
  const zip = new Zip((err, chunk, final) => {
    if (err) failure = err;
    else out.write(chunk);
    if (final || err) out.end();
  });
  try {
    for (const [i, file] of files.entries()) {
      const entryName = relative(folder, file).split(sep).join('/');
      const entry = STORED_EXTENSIONS.has(extensionOf(file)) ? new ZipPassThrough(entryName) : new ZipDeflate(entryName, { level: 6 });
      zip.add(entry);
      for await (const chunk of createReadStream(file)) {
        entry.push(chunk as Uint8Array);
        // Let the file stream drain what the zip produced before reading more.
        if (out.writableNeedDrain) await new Promise<void>((resolve) => out.once('drain', () => resolve()));
      }
      entry.push(new Uint8Array(0), true);
      onFile?.(i + 1, files.length);
    }
    zip.end();
    await written;
    if (failure) throw failure;
  } catch (e) {
    out.destroy();
    await rm(dir, { recursive: true, force: true });
    throw e;
  }
  return { path, files: files.length, bytes: (await stat(path)).size, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** Uploads one file; adds it to `uploadId` when given. Returns the upload id. */
export async function uploadFile(client: S2gClient, path: string, options: { uploadId?: string; filename?: string; onProgress?: (sent: number, total: number) => void } = {}): Promise<string> {
  const info = await stat(path).catch(() => null);
  if (!info?.isFile()) throw new CliError(ErrorCode.FILE_MISSING, `${path}: no such file`);
  const filename = options.filename ?? uploadName(path);
  const contentType = contentTypeOf(filename);
  const { createUpload } = await client.request<{ createUpload: UploadGrant }>(Q.createUpload, {
    input: { filename, contentType, size: info.size, ...(options.uploadId ? { uploadId: options.uploadId } : {}) },
  });
  await client.upload(createUpload.url, path, createUpload.contentType, options.onProgress);
  return createUpload.uploadId;
}
