import { readdir, readFile, stat } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';
import type { Split } from '@s2g/contracts';
import { ErrorCode, S2gError } from '@s2g/contracts';
import { parseKeypointsText } from '@s2g/pose';

export async function isFile(path: string): Promise<boolean> {
  return stat(path).then(
    (s) => s.isFile(),
    () => false,
  );
}

export async function isDir(path: string): Promise<boolean> {
  return stat(path).then(
    (s) => s.isDirectory(),
    () => false,
  );
}

/** Names in a folder, or [] when it does not exist. */
export async function listDir(path: string): Promise<string[]> {
  return readdir(path).catch(() => []);
}

/** Every file under `root` whose name passes `accept`, sorted, recursing into subfolders. */
export async function findFiles(root: string, accept: (name: string) => boolean): Promise<string[]> {
  const out: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
    for (const e of entries) {
      const p = join(dir, e.name);
      if (e.isDirectory()) await walk(p);
      else if (e.isFile() && accept(e.name)) out.push(p);
    }
  };
  await walk(root);
  return out.sort();
}

/**
 * Keys a video file name can be found under: the name itself, without its extension, cut at the
 * first period, and each with spaces as underscores (the original dataset's folder names end at the
 * first period and replace spaces).
 */
export function nameKeys(name: string): string[] {
  const base = basename(name);
  const stem = base.slice(0, base.length - extname(base).length);
  const first = base.split('.')[0];
  const keys = [base, stem, first].flatMap((k) => [k, k.replace(/ /g, '_')]);
  return [...new Set(keys.filter((k) => k.length > 0))];
}

/** Files in a set of folders, found by any of `nameKeys` of their own name. */
export class FileIndex {
  private readonly byKey = new Map<string, string>();

  static async of(dirs: readonly string[]): Promise<FileIndex> {
    const index = new FileIndex();
    for (const dir of dirs) {
      for (const name of (await listDir(dir)).sort()) {
        const path = join(dir, name);
        if (!(await isFile(path))) continue;
        for (const key of nameKeys(name)) if (!index.byKey.has(key)) index.byKey.set(key, path);
      }
    }
    return index;
  }

  find(name: string): string | undefined {
    for (const key of nameKeys(name)) {
      const hit = this.byKey.get(key);
      if (hit) return hit;
    }
    return undefined;
  }
}

/** A dataset's split label (train/dev/test; val/valid/validation mean dev); undefined when blank or unknown. */
export function parseSplit(value: string | undefined): Split | undefined {
  const v = value?.trim().toLowerCase();
  if (v === 'train' || v === 'dev' || v === 'test') return v;
  if (v === 'val' || v === 'valid' || v === 'validation') return 'dev';
  return undefined;
}

/**
 * Reads one keypoints_simple text file into 98 float32 values. Missing files become FILE_MISSING,
 * bad content KEYPOINTS_INVALID, both naming the file.
 */
export async function readKeypointFile(path: string): Promise<Float32Array> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    const missing = (e as NodeJS.ErrnoException).code === 'ENOENT';
    throw new S2gError(
      missing ? ErrorCode.FILE_MISSING : ErrorCode.DATASET_INVALID,
      `${path}: ${missing ? 'keypoint file missing' : `cannot read keypoint file: ${(e as Error).message}`}`,
      { file: path },
    );
  }
  return Float32Array.from(parseKeypointsText(text, path));
}

/**
 * Maps items through an async function with at most `concurrency` in flight, yielding results in
 * input order: keypoint files are small and many, so reading them one at a time is latency-bound.
 */
export async function* mapOrdered<T, R>(items: readonly T[], concurrency: number, fn: (item: T) => Promise<R>): AsyncGenerator<R> {
  const pending: Promise<R>[] = [];
  let next = 0;
  const start = (): void => {
    const p = fn(items[next++]);
    // A later item may fail while an earlier one is awaited: mark it handled now, it rethrows when its turn comes.
    p.catch(() => undefined);
    pending.push(p);
  };
  while (next < items.length && pending.length < concurrency) start();
  while (pending.length > 0) {
    const head = pending.shift() as Promise<R>;
    if (next < items.length) start();
    yield await head;
  }
}
