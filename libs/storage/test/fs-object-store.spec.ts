import { readdir } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode } from '@s2g/contracts';
import { tempDir, type TempDir } from '@s2g/testing';
import { buildPresignedUrl, createObjectStore, FsObjectStore, handlePresignedRequest, type PresignedRequestOptions } from '../src/index';
import { objectStoreContract } from './object-store.contract';

const SECRET = 'test-signing-secret';

/** An FsObjectStore whose presigned URLs are served by handlePresignedRequest on a real HTTP server. */
async function serve(options: PresignedRequestOptions = {}): Promise<{ store: FsObjectStore; dir: TempDir; baseUrl: string; stop(): Promise<void> }> {
  const dir = await tempDir('fs-store');
  const holder: { store?: FsObjectStore } = {};
  const server: Server = createServer((req, res) => {
    if (!holder.store) throw new Error('store not ready');
    void handlePresignedRequest(holder.store, SECRET, req, res, options);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/files`;
  const created = createObjectStore({ driver: 'fs', root: dir.path, publicBaseUrl: baseUrl, signingSecret: SECRET });
  if (!(created instanceof FsObjectStore)) throw new Error('factory did not return the fs driver');
  const store = created;
  holder.store = store;
  await store.ensureReady();
  return {
    store,
    dir,
    baseUrl,
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await dir.cleanup();
    },
  };
}

objectStoreContract('fs', async () => serve(), { verifiesSignatures: true });

describe('FsObjectStore specifics', () => {
  let ctx: Awaited<ReturnType<typeof serve>>;
  beforeAll(async () => {
    ctx = await serve({ maxPutBytes: 1000 });
  });
  afterAll(async () => {
    await ctx?.stop();
  });

  it('keeps objects under objects/ and leaves no temp files after writes, failed or not', async () => {
    await ctx.store.put('a/b.txt', Buffer.from('x'));
    await expect(ctx.store.put('a/c.txt', Buffer.from('xy'), 3)).rejects.toMatchObject({ code: ErrorCode.STORAGE_SIZE_MISMATCH });
    expect(await readdir(join(ctx.dir.path, 'objects', 'a'))).toEqual(['b.txt']);
    expect(await readdir(join(ctx.dir.path, 'tmp'))).toEqual([]);
  });

  it('prunes folders emptied by delete', async () => {
    await ctx.store.put('prune/x/y/z.txt', Buffer.from('x'));
    await ctx.store.delete('prune/x/y/z.txt');
    expect(await readdir(join(ctx.dir.path, 'objects'))).not.toContain('prune');
  });

  it('rejects an expired presigned URL', async () => {
    await ctx.store.put('exp/a.txt', Buffer.from('hi'));
    const past = Math.floor(Date.now() / 1000) - 1;
    const res = await fetch(buildPresignedUrl(ctx.baseUrl, SECRET, 'get', 'exp/a.txt', past));
    expect(res.status).toBe(403);
    expect(await res.json()).toMatchObject({ code: ErrorCode.FORBIDDEN, message: 'URL expired' });
    const fresh = await fetch(buildPresignedUrl(ctx.baseUrl, SECRET, 'get', 'exp/a.txt', past + 120));
    expect(await fresh.text()).toBe('hi');
  });

  it('rejects a URL signed with another secret, or with the expiry changed', async () => {
    const future = Math.floor(Date.now() / 1000) + 120;
    await ctx.store.put('sig/a.txt', Buffer.from('hi'));
    expect((await fetch(buildPresignedUrl(ctx.baseUrl, 'other-secret', 'get', 'sig/a.txt', future))).status).toBe(403);
    const url = new URL(buildPresignedUrl(ctx.baseUrl, SECRET, 'get', 'sig/a.txt', future));
    url.searchParams.set('exp', String(future + 3600));
    expect((await fetch(url)).status).toBe(403);
  });

  it('refuses uploads over the size limit and without Content-Length', async () => {
    const url = await ctx.store.presignedPut('up/big.bin', 60);
    const big = await fetch(url, { method: 'PUT', body: Buffer.alloc(1001) });
    expect(big.status).toBe(413);
    expect(await ctx.store.stat('up/big.bin')).toBeNull();
    const chunkedBody = new ReadableStream({
      start(controller) {
        controller.enqueue(new Uint8Array([1, 2, 3]));
        controller.close();
      },
    });
    const noLength = await fetch(url, { method: 'PUT', body: chunkedBody, duplex: 'half' } as RequestInit);
    expect(noLength.status).toBe(411);
    const ok = await fetch(url, { method: 'PUT', body: Buffer.alloc(1000, 7) });
    expect(ok.status).toBe(200);
    expect((await ctx.store.stat('up/big.bin'))?.size).toBe(1000);
  });

  it('serves byte ranges and content types, for video seeking', async () => {
    await ctx.store.put('renders/r1/video.mp4', Buffer.from('0123456789'));
    const url = await ctx.store.presignedGet('renders/r1/video.mp4', 60);
    const whole = await fetch(url);
    expect(whole.headers.get('content-type')).toBe('video/mp4');
    expect(whole.headers.get('accept-ranges')).toBe('bytes');
    const part = await fetch(url, { headers: { range: 'bytes=2-5' } });
    expect(part.status).toBe(206);
    expect(part.headers.get('content-range')).toBe('bytes 2-5/10');
    expect(await part.text()).toBe('2345');
    const tail = await fetch(url, { headers: { range: 'bytes=-3' } });
    expect(await tail.text()).toBe('789');
    expect((await fetch(url, { headers: { range: 'bytes=20-' } })).status).toBe(416);
    const head = await fetch(url, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers.get('content-length')).toBe('10');
  });

  it('answers 404 for a validly signed URL of a missing object, and 400 for a bad key', async () => {
    const url = await ctx.store.presignedGet('nothing/here.bin', 60);
    const res = await fetch(url);
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ code: ErrorCode.STORAGE_NOT_FOUND });
    expect((await fetch(`${ctx.baseUrl}/a%5Cb?op=get&exp=1&sig=x`)).status).toBe(400);
  });

  it('refuses presigning without a public URL and secret', async () => {
    const bare = new FsObjectStore({ root: ctx.dir.path });
    await expect(bare.presignedGet('a/b.txt', 60)).rejects.toMatchObject({ code: ErrorCode.CONFIG_INVALID });
  });

  it('refuses a key that would need an object to be a folder', async () => {
    await ctx.store.put('clash/file', Buffer.from('x'));
    await expect(ctx.store.put('clash/file/inner', Buffer.from('y'))).rejects.toMatchObject({ code: ErrorCode.STORAGE_KEY_INVALID });
  });
});
