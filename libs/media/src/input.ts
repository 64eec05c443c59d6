import { createWriteStream } from 'node:fs';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ErrorCode, S2gError } from '@s2g/contracts';

/** A media source: a file path, bytes in memory, or a readable stream (an upload, an object store). */
export type MediaInput = string | Uint8Array | Readable;

/** A scratch folder for one media call, removed by `cleanup`. */
export async function scratch(): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 's2g-media-'));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/**
 * A file path ffmpeg can seek in. Bytes and streams are written to a scratch file first: MP4/M4A
 * whose index (moov) comes after the data cannot be demuxed from a pipe.
 */
export async function asFile(input: MediaInput, dir: string, name: string): Promise<string> {
  if (typeof input === 'string') {
    try {
      if ((await stat(input)).isFile()) return input;
    } catch {
      // Reported below with the code callers expect for a missing file.
    }
    throw new S2gError(ErrorCode.FILE_MISSING, `${input}: file not found`, { file: input });
  }
  const path = join(dir, 'input');
  if (input instanceof Uint8Array) await writeFile(path, input);
  else await pipeline(input, createWriteStream(path));
  const size = (await stat(path)).size;
  if (size === 0) throw new S2gError(ErrorCode.MEDIA_UNREADABLE, `${name}: empty input`, { file: name });
  return path;
}

/** Label for error messages. */
export function inputName(input: MediaInput, name?: string): string {
  return name ?? (typeof input === 'string' ? input : input instanceof Uint8Array ? 'audio bytes' : 'input stream');
}
