import { randomBytes } from 'node:crypto';
import { mkdir, open, opendir, readdir, rename, rmdir, stat, unlink, type FileHandle } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import type { Readable } from 'node:stream';
import { ErrorCode, S2gError } from '@s2g/contracts';
import { checkExpiry, contentTypeOf, isStream, readAll, resolveSize, sizeMismatch, toBuffer } from './body';
import { normalizePrefix, validateKey } from './keys';
import type { ObjectBody, ObjectInfo, ObjectStore, PutOptions } from './object-store';
import { buildPresignedUrl, type PresignOp } from './presign';

export interface FsObjectStoreOptions {
  /** Folder holding `objects/` (one file per key) and `tmp/` (writes in progress). */
  root: string;
  /** Where handlePresignedRequest is mounted, e.g. `http://localhost:4000/files`. Needed for presigned URLs. */
  publicBaseUrl?: string;
  /** HMAC secret of presigned URLs. Needed for presigned URLs. */
  signingSecret?: string;
}

export interface OpenObject {
  readonly info: ObjectInfo;
  /** The whole object, or bytes `start..end` inclusive; closes the file when the stream ends. */
  read(start?: number, end?: number): Readable;
  close(): Promise<void>;
}

/** Temp files older than this are leftovers of a crashed write. */
const STALE_TMP_MS = 3_600_000;

function code(e: unknown): string | undefined {
  return (e as NodeJS.ErrnoException | undefined)?.code;
}

function notFound(key: string): S2gError {
  return new S2gError(ErrorCode.STORAGE_NOT_FOUND, `object not found: ${key}`, { key });
}

/** Sorting a folder's entries by this gives S3's key order over the whole tree (see list()). */
function orderName(name: string, isDir: boolean): Buffer {
  return Buffer.from(isDir ? `${name}/` : name, 'utf8');
}

/**
 * Object store on a local folder, for the embedded mode and tests. Writes go to `tmp/` and are
 * renamed into place, so readers never see half an object. Content types come from the extension.
 */
export class FsObjectStore implements ObjectStore {
  readonly driver = 'fs' as const;
  readonly root: string;
  readonly publicBaseUrl?: string;
  private readonly objectsDir: string;
  private readonly tmpDir: string;
  private readonly signingSecret?: string;

  constructor(options: FsObjectStoreOptions) {
    this.root = resolve(options.root);
    this.objectsDir = join(this.root, 'objects');
    this.tmpDir = join(this.root, 'tmp');
    this.publicBaseUrl = options.publicBaseUrl;
    this.signingSecret = options.signingSecret;
  }

  async ensureReady(): Promise<void> {
    await mkdir(this.objectsDir, { recursive: true });
    await mkdir(this.tmpDir, { recursive: true });
    const now = Date.now();
    for (const name of await readdir(this.tmpDir)) {
      const path = join(this.tmpDir, name);
      const info = await stat(path).catch(() => null);
      if (info && now - info.mtimeMs > STALE_TMP_MS) await unlink(path).catch(() => undefined);
    }
  }

  async ping(): Promise<void> {
    const info = await stat(this.objectsDir).catch((e: unknown) => {
      throw new S2gError(ErrorCode.UNAVAILABLE, `object store folder unavailable: ${this.objectsDir}`, undefined, { cause: e });
    });
    if (!info.isDirectory()) throw new S2gError(ErrorCode.UNAVAILABLE, `object store folder is not a folder: ${this.objectsDir}`);
  }

  /** The file of a key; validation guarantees it stays inside objects/. */
  pathOf(key: string): string {
    const path = join(this.objectsDir, ...validateKey(key).split('/'));
    if (!path.startsWith(this.objectsDir + sep)) throw new S2gError(ErrorCode.STORAGE_KEY_INVALID, `invalid storage key: ${key}`);
    return path;
  }

  async put(key: string, body: ObjectBody, size?: number, _options?: PutOptions): Promise<void> {
    const target = this.pathOf(key);
    const expected = resolveSize(key, body, size);
    const tmp = join(this.tmpDir, `${randomBytes(12).toString('hex')}.part`);
    let handle: FileHandle | undefined;
    try {
      handle = await open(tmp, 'wx').catch(async (e: unknown) => {
        if (code(e) !== 'ENOENT') throw e;
        // ensureReady was not called (or tmp/ was removed): create it rather than fail the write.
        await mkdir(this.tmpDir, { recursive: true });
        return open(tmp, 'wx');
      });
      if (isStream(body)) {
        let written = 0;
        for await (const chunk of body) {
          const bytes = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array);
          written += bytes.length;
          if (written > expected) {
            body.destroy();
            throw sizeMismatch(key, expected, expected, true);
          }
          await handle.write(bytes);
        }
        if (written !== expected) throw sizeMismatch(key, expected, written);
      } else {
        await handle.writeFile(toBuffer(body));
      }
      // Rename is atomic, but only durable once the bytes are: a crash must not leave an empty object.
      await handle.sync();
      await handle.close();
      handle = undefined;
      await this.moveIntoPlace(key, tmp, target);
    } catch (e) {
      await handle?.close().catch(() => undefined);
      await unlink(tmp).catch(() => undefined);
      throw e;
    }
  }

  private async moveIntoPlace(key: string, tmp: string, target: string): Promise<void> {
    // A concurrent delete may prune the parent folder between mkdir and rename: retry a few times.
    for (let attempt = 0; ; attempt++) {
      try {
        await mkdir(dirname(target), { recursive: true });
        await rename(tmp, target);
        return;
      } catch (e) {
        const c = code(e);
        if (c === 'ENOTDIR' || c === 'EEXIST' || c === 'EISDIR') {
          // S3 allows `a` and `a/b` side by side; a filesystem cannot. The key layout never needs both.
          throw new S2gError(ErrorCode.STORAGE_KEY_INVALID, `key ${key} collides with an object used as its folder (or the reverse)`, { key });
        }
        if (c !== 'ENOENT' || attempt >= 3) throw e;
      }
    }
  }

  async get(key: string): Promise<Readable> {
    return (await this.open(key)).read();
  }

  /**
   * Opens an object for reading: its info and bytes come from one open file, so they agree even if
   * the key is overwritten meanwhile (rename replaces the name, not the open file). Call `read` once
   * (the stream closes the file) or `close`.
   */
  async open(key: string): Promise<OpenObject> {
    const path = this.pathOf(key);
    let handle: FileHandle;
    try {
      handle = await open(path, 'r');
    } catch (e) {
      if (code(e) === 'ENOENT' || code(e) === 'ENOTDIR') throw notFound(key);
      throw e;
    }
    const info = await handle.stat().catch(async (e: unknown) => {
      await handle.close();
      throw e;
    });
    if (!info.isFile()) {
      await handle.close();
      throw notFound(key);
    }
    return {
      info: { key, size: info.size, lastModified: info.mtime, contentType: contentTypeOf(key) },
      read: (start?: number, end?: number) => handle.createReadStream({ start, end }),
      close: () => handle.close(),
    };
  }

  async getBuffer(key: string): Promise<Buffer> {
    return readAll(await this.get(key));
  }

  async stat(key: string): Promise<ObjectInfo | null> {
    const info = await stat(this.pathOf(key)).catch((e: unknown) => {
      if (code(e) === 'ENOENT' || code(e) === 'ENOTDIR') return null;
      throw e;
    });
    if (!info || !info.isFile()) return null;
    return { key, size: info.size, lastModified: info.mtime, contentType: contentTypeOf(key) };
  }

  async *list(prefix: string): AsyncIterable<ObjectInfo> {
    const folder = normalizePrefix(prefix);
    const start = folder === '' ? this.objectsDir : join(this.objectsDir, ...folder.slice(0, -1).split('/'));
    yield* this.walk(start, folder);
  }

  /**
   * Depth-first in S3 key order: a folder `a` holds keys `a/...`, so it sorts as `a/` among its
   * siblings (after `a-b` and `a.b`, before `a0`), which makes the walk's order the keys' byte order.
   */
  private async *walk(dir: string, keyPrefix: string): AsyncGenerator<ObjectInfo> {
    let entries;
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch (e) {
      if (code(e) === 'ENOENT' || code(e) === 'ENOTDIR') return;
      throw e;
    }
    const sorted = entries
      .filter((d) => d.isFile() || d.isDirectory())
      .map((d) => ({ name: d.name, isDir: d.isDirectory(), order: orderName(d.name, d.isDirectory()) }))
      .sort((a, b) => Buffer.compare(a.order, b.order));
    for (const entry of sorted) {
      const path = join(dir, entry.name);
      const key = keyPrefix + entry.name;
      if (entry.isDir) {
        yield* this.walk(path, `${key}/`);
      } else {
        const info = await stat(path).catch(() => null);
        // Deleted between readdir and stat: it is simply no longer listed.
        if (info) yield { key, size: info.size, lastModified: info.mtime, contentType: contentTypeOf(key) };
      }
    }
  }

  async delete(key: string): Promise<void> {
    const path = this.pathOf(key);
    try {
      await unlink(path);
    } catch (e) {
      const c = code(e);
      if (c === 'ENOENT' || c === 'ENOTDIR' || c === 'EISDIR' || c === 'EPERM') return;
      throw e;
    }
    await this.pruneEmptyParents(dirname(path));
  }

  /** S3 has no folders: removing a folder's last object removes the folder, so `a` can be written later. */
  private async pruneEmptyParents(dir: string): Promise<void> {
    let current = dir;
    while (current.startsWith(this.objectsDir + sep)) {
      try {
        const handle = await opendir(current);
        const first = await handle.read();
        await handle.close();
        if (first) return;
        await rmdir(current);
      } catch {
        // Not empty any more, or gone already: either way there is nothing left to prune.
        return;
      }
      current = dirname(current);
    }
  }

  async deletePrefix(prefix: string): Promise<number> {
    const keys: string[] = [];
    for await (const info of this.list(prefix)) keys.push(info.key);
    for (const key of keys) await this.delete(key);
    return keys.length;
  }

  private presign(op: PresignOp, key: string, expirySeconds: number): string {
    validateKey(key);
    checkExpiry(expirySeconds);
    if (!this.publicBaseUrl || !this.signingSecret) {
      throw new S2gError(ErrorCode.CONFIG_INVALID, 'filesystem object store needs publicBaseUrl and signingSecret for presigned URLs');
    }
    const expiresAt = Math.floor(Date.now() / 1000) + expirySeconds;
    return buildPresignedUrl(this.publicBaseUrl, this.signingSecret, op, key, expiresAt);
  }

  async presignedPut(key: string, expirySeconds: number): Promise<string> {
    return this.presign('put', key, expirySeconds);
  }

  async presignedGet(key: string, expirySeconds: number): Promise<string> {
    return this.presign('get', key, expirySeconds);
  }
}
