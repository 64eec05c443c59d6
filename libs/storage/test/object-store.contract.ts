import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode, S2gError } from '@s2g/contracts';
import type { ObjectInfo, ObjectStore } from '../src/index';

export interface StoreUnderTest {
  store: ObjectStore;
  stop(): Promise<void>;
}

export interface ContractOptions {
  /**
   * Whether the server behind the store checks presigned signatures. s3rver does not verify V4
   * signatures at all, so for it the tamper checks cannot pass; MinIO, S3 and the fs handler do.
   */
  verifiesSignatures: boolean;
}

async function collect(iterable: AsyncIterable<ObjectInfo>): Promise<ObjectInfo[]> {
  const out: ObjectInfo[] = [];
  for await (const info of iterable) out.push(info);
  return out;
}

async function readStream(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk as Uint8Array));
  return Buffer.concat(chunks);
}

/** A stream that yields `data` in small chunks asynchronously, like a network body. */
function chunked(data: Buffer, chunk = 64 * 1024): Readable {
  return Readable.from(
    (async function* () {
      for (let i = 0; i < data.length; i += chunk) {
        await new Promise((r) => setImmediate(r));
        yield data.subarray(i, i + chunk);
      }
    })(),
  );
}

async function codeOf(promise: Promise<unknown>): Promise<string | undefined> {
  try {
    await promise;
  } catch (e) {
    return e instanceof S2gError ? e.code : `not an S2gError: ${String(e)}`;
  }
  return undefined;
}

/**
 * The behaviour every ObjectStore driver must share. `create` makes a fresh, empty store (its
 * presigned URLs served over real HTTP); `stop` releases it.
 */
export function objectStoreContract(name: string, create: () => Promise<StoreUnderTest>, options: ContractOptions): void {
  describe(`ObjectStore contract: ${name}`, () => {
    let sut: StoreUnderTest;
    let store: ObjectStore;

    beforeAll(async () => {
      sut = await create();
      store = sut.store;
      await store.ensureReady();
      // Twice: start-up of several replicas must not fail.
      await store.ensureReady();
    });
    afterAll(async () => {
      await sut?.stop();
    });

    it('is reachable', async () => {
      await expect(store.ping()).resolves.toBeUndefined();
    });

    it('round-trips a buffer and a Uint8Array, and reports sizes', async () => {
      const data = Buffer.from('{"hello":"world"}');
      await store.put('rt/buffer.json', data, undefined, { contentType: 'application/json' });
      expect(await store.getBuffer('rt/buffer.json')).toEqual(data);
      const info = await store.stat('rt/buffer.json');
      expect(info?.key).toBe('rt/buffer.json');
      expect(info?.size).toBe(data.length);
      expect(info?.contentType).toBe('application/json');
      expect(Math.abs((info?.lastModified.getTime() ?? 0) - Date.now())).toBeLessThan(60_000);

      // A view into a larger buffer: only the view's bytes may be stored.
      const backing = new Uint8Array([9, 9, 0, 1, 2, 250, 255, 9]);
      await store.put('rt/u8.bin', new Uint8Array(backing.buffer, 2, 5));
      expect([...(await store.getBuffer('rt/u8.bin'))]).toEqual([0, 1, 2, 250, 255]);
    });

    it('round-trips a multi-megabyte stream given its size', async () => {
      const data = randomBytes(3 * 1024 * 1024 + 17);
      await store.put('rt/stream.bin', chunked(data), data.length);
      expect((await store.stat('rt/stream.bin'))?.size).toBe(data.length);
      const back = await readStream(await store.get('rt/stream.bin'));
      expect(back.equals(data)).toBe(true);
    });

    it('stores empty objects', async () => {
      await store.put('rt/empty.txt', Buffer.alloc(0));
      expect((await store.stat('rt/empty.txt'))?.size).toBe(0);
      expect((await store.getBuffer('rt/empty.txt')).length).toBe(0);
    });

    it('overwrites an object as a whole', async () => {
      await store.put('rt/over.txt', Buffer.from('first version, long'));
      await store.put('rt/over.txt', Buffer.from('second'));
      expect((await store.getBuffer('rt/over.txt')).toString()).toBe('second');
      expect((await store.stat('rt/over.txt'))?.size).toBe(6);
    });

    it('refuses a stream without a size, or of another length, and stores nothing', async () => {
      expect(await codeOf(store.put('rt/nosize.bin', chunked(randomBytes(10))))).toBe(ErrorCode.BAD_USER_INPUT);
      expect(await codeOf(store.put('rt/short.bin', chunked(randomBytes(100)), 200))).toBe(ErrorCode.STORAGE_SIZE_MISMATCH);
      expect(await codeOf(store.put('rt/long.bin', chunked(randomBytes(300)), 200))).toBe(ErrorCode.STORAGE_SIZE_MISMATCH);
      expect(await codeOf(store.put('rt/buf.bin', randomBytes(10), 11))).toBe(ErrorCode.STORAGE_SIZE_MISMATCH);
      for (const key of ['rt/nosize.bin', 'rt/short.bin', 'rt/long.bin', 'rt/buf.bin']) expect(await store.stat(key)).toBeNull();
    });

    it('reports missing objects: stat null, get STORAGE_NOT_FOUND', async () => {
      expect(await store.stat('missing/nothing.bin')).toBeNull();
      expect(await codeOf(store.get('missing/nothing.bin'))).toBe(ErrorCode.STORAGE_NOT_FOUND);
      expect(await codeOf(store.getBuffer('missing/nothing.bin'))).toBe(ErrorCode.STORAGE_NOT_FOUND);
      // A "folder" is not an object.
      await store.put('missing/dir/file.txt', Buffer.from('x'));
      expect(await store.stat('missing/dir')).toBeNull();
      expect(await codeOf(store.get('missing/dir'))).toBe(ErrorCode.STORAGE_NOT_FOUND);
    });

    it('lists recursively in key order, without leaking sibling prefixes', async () => {
      const keys = ['ls/a/b/z.txt', 'ls/a/b/c/d.txt', 'ls/a/b/c.txt', 'ls/a/b-x.txt', 'ls/a/bc/e.txt', 'ls/a/b0.txt', 'ls/a/b/0.txt', 'ls/a/b/é.txt'];
      for (const key of keys) await store.put(key, Buffer.from(key));
      const under = await collect(store.list('ls/a/b'));
      // Byte order: '.' (0x2e) sorts before '/' (0x2f), so c.txt comes before c/d.txt.
      expect(under.map((i) => i.key)).toEqual(['ls/a/b/0.txt', 'ls/a/b/c.txt', 'ls/a/b/c/d.txt', 'ls/a/b/z.txt', 'ls/a/b/é.txt']);
      expect(under.map((i) => i.size)).toEqual(under.map((i) => Buffer.byteLength(i.key)));
      expect((await collect(store.list('ls/a/b/'))).map((i) => i.key)).toEqual(under.map((i) => i.key));
      const all = (await collect(store.list('ls'))).map((i) => i.key);
      expect(all).toEqual([...keys].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y))));
      expect(await collect(store.list('ls/none'))).toEqual([]);
      const everything = (await collect(store.list(''))).map((i) => i.key);
      expect(everything).toEqual(expect.arrayContaining(keys));
    });

    it('deletes idempotently', async () => {
      await store.put('del/one.txt', Buffer.from('1'));
      await store.delete('del/one.txt');
      expect(await store.stat('del/one.txt')).toBeNull();
      await expect(store.delete('del/one.txt')).resolves.toBeUndefined();
      await expect(store.delete('del/never/was.txt')).resolves.toBeUndefined();
    });

    it('deletes a prefix and counts, leaving siblings alone', async () => {
      for (const key of ['dp/runs/1/a.bin', 'dp/runs/1/ck/b.bin', 'dp/runs/1/ck/c.bin', 'dp/runs/10/a.bin', 'dp/runs/1a.bin']) {
        await store.put(key, Buffer.from('x'));
      }
      expect(await store.deletePrefix('dp/runs/1')).toBe(3);
      expect((await collect(store.list('dp'))).map((i) => i.key)).toEqual(['dp/runs/10/a.bin', 'dp/runs/1a.bin']);
      expect(await store.deletePrefix('dp/runs/1')).toBe(0);
      // An emptied folder can become an object again.
      await store.put('dp/runs/1', Buffer.from('file now'));
      expect((await store.getBuffer('dp/runs/1')).toString()).toBe('file now');
    });

    it('accepts a presigned PUT and serves a presigned GET over HTTP', async () => {
      const data = randomBytes(100_000);
      const putUrl = await store.presignedPut('ps/upload one.bin', 300);
      const put = await fetch(putUrl, { method: 'PUT', body: data, headers: { 'content-length': String(data.length) } });
      expect(put.status).toBe(200);
      expect((await store.getBuffer('ps/upload one.bin')).equals(data)).toBe(true);

      const getUrl = await store.presignedGet('ps/upload one.bin', 300);
      const got = await fetch(getUrl);
      expect(got.status).toBe(200);
      expect(Buffer.from(await got.arrayBuffer()).equals(data)).toBe(true);
    });

    // Not registered at all for a server that cannot verify (rather than a skip that shows under CI).
    if (options.verifiesSignatures) it('rejects tampered presigned URLs (server verifies signatures)', async () => {
      await store.put('ps/secret.txt', Buffer.from('secret'));
      const getUrl = await store.presignedGet('ps/secret.txt', 300);
      // A URL for one key does not open another.
      await store.put('ps/other.txt', Buffer.from('other'));
      const other = new URL(getUrl);
      other.pathname = other.pathname.replace('secret.txt', 'other.txt');
      expect((await fetch(other)).status).toBe(403);
      // Nor does a GET URL allow a PUT.
      expect((await fetch(getUrl, { method: 'PUT', body: 'x' })).status).toBe(403);
      expect((await store.getBuffer('ps/secret.txt')).toString()).toBe('secret');

      const url = new URL(getUrl);
      const sigParam = url.searchParams.has('sig') ? 'sig' : 'X-Amz-Signature';
      const sig = url.searchParams.get(sigParam) ?? '';
      url.searchParams.set(sigParam, (sig[0] === 'a' ? 'b' : 'a') + sig.slice(1));
      const res = await fetch(url);
      expect(res.status).toBe(403);
      expect(await res.text()).not.toBe('secret');
    });

    it('rejects invalid keys in every operation', async () => {
      const bad = ['', '/abs', '../up', 'a/../b', 'a//b', 'a/./b', 'back\\slash', 'nul\u0000', 'tab\tkey', 'trailing/', 'x'.repeat(1025)];
      for (const key of bad) {
        expect(await codeOf(store.put(key, Buffer.from('x'))), key).toBe(ErrorCode.STORAGE_KEY_INVALID);
        expect(await codeOf(store.get(key)), key).toBe(ErrorCode.STORAGE_KEY_INVALID);
        expect(await codeOf(store.stat(key)), key).toBe(ErrorCode.STORAGE_KEY_INVALID);
        expect(await codeOf(store.delete(key)), key).toBe(ErrorCode.STORAGE_KEY_INVALID);
        expect(await codeOf(store.presignedPut(key, 60)), key).toBe(ErrorCode.STORAGE_KEY_INVALID);
        expect(await codeOf(store.presignedGet(key, 60)), key).toBe(ErrorCode.STORAGE_KEY_INVALID);
      }
      expect(await codeOf(collect(store.list('../up')))).toBe(ErrorCode.STORAGE_KEY_INVALID);
      expect(await codeOf(store.deletePrefix('a//b'))).toBe(ErrorCode.STORAGE_KEY_INVALID);
    });

    it('rejects a presign expiry outside 1 s .. 7 days', async () => {
      expect(await codeOf(store.presignedGet('ps/x.bin', 0))).toBe(ErrorCode.BAD_USER_INPUT);
      expect(await codeOf(store.presignedPut('ps/x.bin', 8 * 24 * 3600))).toBe(ErrorCode.BAD_USER_INPUT);
    });
  });
}
