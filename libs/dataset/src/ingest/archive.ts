import { closeSync, createReadStream, createWriteStream, mkdirSync, openSync, writeSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname, isAbsolute, join, normalize, sep } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { Unzip, UnzipInflate } from 'fflate';
import { extract } from 'tar-stream';
import { ErrorCode, S2gError } from '@s2g/contracts';

const ARCHIVE = /\.(zip|tar|tgz|tar\.gz)$/i;

/** True for the archive types an upload may come as: .zip, .tar, .tar.gz, .tgz. */
export function isArchive(name: string): boolean {
  return ARCHIVE.test(name);
}

/** Members that are packaging debris, not data (macOS resource forks and Finder files). */
function isDebris(rel: string): boolean {
  return rel.split(sep).some((s) => s === '__MACOSX' || s === '.DS_Store');
}

/**
 * Where a member goes under `dest`, or null for a member to skip. A name that would land outside
 * `dest` (absolute, or climbing with `..`) is refused outright: the archive is hostile or broken.
 */
function target(dest: string, name: string, archive: string): string | null {
  const rel = normalize(name.replace(/\\/g, '/')).replace(/^(\.\/)+/, '');
  if (rel === '.' || rel === '' || rel.endsWith(sep) || isDebris(rel)) return null;
  if (isAbsolute(rel) || rel === '..' || rel.startsWith(`..${sep}`) || rel.includes('\0')) {
    throw new S2gError(ErrorCode.DATASET_INVALID, `${archive}: member '${name}' points outside the archive`, { file: archive });
  }
  return join(dest, rel);
}

async function unzipTo(file: string, dest: string, label: string): Promise<number> {
  let count = 0;
  let failure: unknown;
  const unzip = new Unzip((member) => {
    let path: string | null;
    try {
      path = target(dest, member.name, label);
    } catch (e) {
      failure ??= e;
      return;
    }
    if (!path || member.name.endsWith('/')) return;
    mkdirSync(dirname(path), { recursive: true });
    // Written synchronously as chunks arrive: fflate pushes without back-pressure, so this keeps memory flat.
    const fd = openSync(path, 'w');
    count += 1;
    member.ondata = (err, chunk, final) => {
      if (err) failure ??= err;
      else writeSync(fd, chunk);
      if (err || final) closeSync(fd);
    };
    member.start();
  });
  unzip.register(UnzipInflate);
  for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 })) {
    unzip.push(chunk as Uint8Array);
    if (failure) throw failure;
  }
  unzip.push(new Uint8Array(0), true);
  if (failure) throw failure;
  return count;
}

async function untarTo(file: string, dest: string, label: string): Promise<number> {
  let count = 0;
  const ex = extract();
  const source = createReadStream(file);
  const feed = /\.(tgz|tar\.gz)$/i.test(file) ? pipeline(source, createGunzip(), ex) : pipeline(source, ex);
  // A read or gunzip failure destroys `ex`, which ends the loop below with that error.
  feed.catch(() => undefined);
  try {
    for await (const entry of ex) {
      const path = entry.header.type === 'file' ? target(dest, entry.header.name, label) : null;
      if (!path) {
        entry.resume();
        continue;
      }
      await mkdir(dirname(path), { recursive: true });
      await pipeline(entry, createWriteStream(path));
      count += 1;
    }
    await feed;
  } finally {
    source.destroy();
  }
  return count;
}

/**
 * Unpacks a .zip, .tar, .tar.gz or .tgz into `dest` (streamed: archives of any size), keeping only
 * regular files. DATASET_INVALID naming the archive when it cannot be read.
 */
export async function extractArchive(file: string, dest: string, label = file): Promise<number> {
  await mkdir(dest, { recursive: true });
  try {
    const count = /\.zip$/i.test(file) ? await unzipTo(file, dest, label) : await untarTo(file, dest, label);
    if (count === 0) throw new S2gError(ErrorCode.DATASET_INVALID, `${label}: the archive holds no files`, { file: label });
    return count;
  } catch (e) {
    if (e instanceof S2gError) throw e;
    throw new S2gError(ErrorCode.DATASET_INVALID, `${label}: cannot unpack the archive: ${(e as Error).message ?? String(e)}`, { file: label }, { cause: e });
  }
}
