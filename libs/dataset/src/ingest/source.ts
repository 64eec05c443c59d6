import { createWriteStream } from 'node:fs';
import { mkdir, readdir, stat } from 'node:fs/promises';
import { basename, dirname, join, sep } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { ErrorCode, type IngestSource, S2gError } from '@s2g/contracts';
import { normalizePrefix, type ObjectStore } from '@s2g/storage';
import { extractArchive, isArchive } from './archive';

/** A job's source as a local folder, and how to name its files to the user. */
export interface LocalSource {
  root: string;
  /** Rewrites local paths in a message to what the user gave: the object keys, or `archive:member`. */
  display(text: string): string;
}

export interface ResolveOptions {
  store: ObjectStore;
  /** Scratch folder of the job (downloads and unpacked archives go below it). */
  tmp: string;
  signal?: AbortSignal;
  /** Bytes downloaded so far, as they arrive. */
  onBytes?: (bytes: number) => void;
}

function replaceAll(text: string, from: string, to: string): string {
  return from === to ? text : text.split(from).join(to);
}

/** An archive unpacked into a folder holding only one folder: that folder is the dataset. */
async function unwrap(dir: string): Promise<string> {
  const entries = await readdir(dir, { withFileTypes: true });
  return entries.length === 1 && entries[0].isDirectory() ? unwrap(join(dir, entries[0].name)) : dir;
}

async function unpack(file: string, dest: string, label: string): Promise<LocalSource> {
  await extractArchive(file, dest, label);
  const root = await unwrap(dest);
  return { root, display: (text) => replaceAll(text, `${root}${sep}`, `${label}:`) };
}

/**
 * Makes the source readable as files. A folder path is read in place. Objects under a prefix (an
 * upload) are downloaded into `tmp`. Either way, a source that is a single archive (.zip, .tar,
 * .tar.gz, .tgz) is unpacked, and an archive whose content sits in one top folder is entered.
 */
export async function resolveSource(source: IngestSource, options: ResolveOptions): Promise<LocalSource> {
  const { store, tmp } = options;
  if (source.kind === 'path') {
    const info = await stat(source.path).catch(() => null);
    if (!info) throw new S2gError(ErrorCode.FILE_MISSING, `${source.path}: no such file or folder`, { file: source.path });
    if (info.isDirectory()) return { root: source.path, display: (t) => t };
    if (isArchive(source.path)) return unpack(source.path, join(tmp, 'unpacked'), source.path);
    throw new S2gError(ErrorCode.DATASET_INVALID, `${source.path}: a source must be a folder or an archive (.zip, .tar, .tar.gz)`, { file: source.path });
  }

  const prefix = normalizePrefix(source.prefix);
  const dest = join(tmp, 'download');
  let bytes = 0;
  const files: string[] = [];
  for await (const object of store.list(prefix)) {
    if (options.signal?.aborted) throw options.signal.reason;
    const rel = object.key.slice(prefix.length);
    // Keys are validated by the store (no `..`, no empty segments), so `rel` stays below `dest`.
    const path = join(dest, ...rel.split('/'));
    await mkdir(dirname(path), { recursive: true });
    await pipeline(await store.get(object.key), createWriteStream(path));
    files.push(path);
    bytes += object.size;
    options.onBytes?.(bytes);
  }
  if (files.length === 0) throw new S2gError(ErrorCode.FILE_MISSING, `${prefix}: no objects under this prefix`, { file: prefix });
  const shown = prefix.endsWith('/') ? prefix.slice(0, -1) : prefix;
  if (files.length === 1 && isArchive(files[0])) return unpack(files[0], join(tmp, 'unpacked'), `${shown}/${basename(files[0])}`);
  return {
    root: dest,
    display: (text) => replaceAll(text, `${dest}${sep}`, `${shown}/`),
  };
}
