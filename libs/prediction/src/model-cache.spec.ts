import { describe, expect, it } from 'vitest';
import { ModelCache } from './model-cache';

interface Fake {
  key: string;
  disposed: boolean;
}

function fakeCache(capacity: number, fail: (key: string) => boolean = () => false) {
  const loaded: Fake[] = [];
  const cache = new ModelCache<Fake>({
    capacity,
    load: async (key) => {
      await new Promise((r) => setTimeout(r, 5));
      if (fail(key)) throw new Error(`cannot load ${key}`);
      const model = { key, disposed: false };
      loaded.push(model);
      return model;
    },
    dispose: (m) => {
      if (m.disposed) throw new Error(`${m.key} disposed twice`);
      m.disposed = true;
    },
  });
  return { cache, loaded };
}

const use = <V>(cache: ModelCache<V>, key: string) => cache.use(key, async (m) => m);

describe('ModelCache', () => {
  it('loads a model once and reuses it', async () => {
    const { cache } = fakeCache(2);
    const a = await use(cache, 'a');
    expect(await use(cache, 'a')).toBe(a);
    expect(cache.stats).toEqual({ loads: 1, hits: 1, evictions: 0 });
  });

  it('shares one load between requests that arrive while it runs', async () => {
    const { cache, loaded } = fakeCache(2);
    const [x, y, z] = await Promise.all([use(cache, 'a'), use(cache, 'a'), use(cache, 'a')]);
    expect(x).toBe(y);
    expect(y).toBe(z);
    expect(loaded).toHaveLength(1);
  });

  it('evicts the least recently used model beyond its capacity and disposes it', async () => {
    const { cache } = fakeCache(2);
    const a = await use(cache, 'a');
    const b = await use(cache, 'b');
    await use(cache, 'a');
    const c = await use(cache, 'c');
    expect(cache.keys()).toEqual(['a', 'c']);
    expect(b.disposed).toBe(true);
    expect(a.disposed).toBe(false);
    expect(c.disposed).toBe(false);
    expect(cache.stats.evictions).toBe(1);
    // b comes back by loading it again.
    const b2 = await use(cache, 'b');
    expect(b2).not.toBe(b);
    expect(cache.stats.loads).toBe(4);
  });

  it('keeps an evicted model alive until the request using it finishes', async () => {
    const { cache } = fakeCache(1);
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let seen: Fake | undefined;
    const running = cache.use('a', async (m) => {
      seen = m;
      await gate;
      return m.disposed;
    });
    await new Promise((r) => setTimeout(r, 20));
    await use(cache, 'b');
    expect(seen?.disposed).toBe(false);
    release();
    expect(await running).toBe(false);
    await new Promise((r) => setTimeout(r, 0));
    expect(seen?.disposed).toBe(true);
  });

  it('does not keep a failed load', async () => {
    let failing = true;
    const { cache } = fakeCache(2, () => failing);
    await expect(use(cache, 'a')).rejects.toThrow('cannot load a');
    expect(cache.keys()).toEqual([]);
    failing = false;
    await expect(use(cache, 'a')).resolves.toMatchObject({ key: 'a' });
    expect(cache.stats.loads).toBe(2);
  });

  it('clear disposes every model', async () => {
    const { cache, loaded } = fakeCache(3);
    await use(cache, 'a');
    await use(cache, 'b');
    cache.clear();
    await new Promise((r) => setTimeout(r, 0));
    expect(loaded.every((m) => m.disposed)).toBe(true);
    expect(cache.keys()).toEqual([]);
  });

  it('refuses a capacity below one', () => {
    expect(() => new ModelCache({ capacity: 0, load: async () => 1, dispose: () => undefined })).toThrow(RangeError);
  });
});
