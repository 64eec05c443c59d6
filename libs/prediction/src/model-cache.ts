/**
 * A bounded least-recently-used cache of loaded models, so repeated requests for one checkpoint do
 * not read and rebuild it. Loads of one key run once however many requests wait for it; a model is
 * disposed only when it has been evicted and no request is still using it.
 */

export interface ModelCacheOptions<V> {
  /** Models kept loaded; the least recently used beyond this are evicted. */
  capacity: number;
  load: (key: string) => Promise<V>;
  /** Frees an evicted model (its tensors). */
  dispose: (value: V) => void;
}

export interface ModelCacheStats {
  /** Calls of `load` (successful or not). */
  loads: number;
  hits: number;
  evictions: number;
}

interface Entry<V> {
  promise: Promise<V>;
  users: number;
  evicted: boolean;
}

export class ModelCache<V> {
  readonly capacity: number;
  /** Map order is recency: the first key is the least recently used. */
  private readonly entries = new Map<string, Entry<V>>();
  private readonly counters: ModelCacheStats = { loads: 0, hits: 0, evictions: 0 };

  constructor(private readonly options: ModelCacheOptions<V>) {
    if (!Number.isInteger(options.capacity) || options.capacity < 1) throw new RangeError(`cache capacity must be a positive integer, got ${options.capacity}`);
    this.capacity = options.capacity;
  }

  get stats(): Readonly<ModelCacheStats> {
    return { ...this.counters };
  }

  /** Keys held, least recently used first. */
  keys(): string[] {
    return [...this.entries.keys()];
  }

  /**
   * Runs `fn` with the model of `key`, loading it on a miss. The model stays alive until `fn`
   * settles, even if it is evicted meanwhile. A failed load is not cached.
   */
  async use<T>(key: string, fn: (value: V) => Promise<T>): Promise<T> {
    let entry = this.entries.get(key);
    if (entry) {
      this.counters.hits++;
      this.entries.delete(key);
      this.entries.set(key, entry);
    } else {
      this.counters.loads++;
      const created: Entry<V> = { promise: this.options.load(key), users: 0, evicted: false };
      entry = created;
      this.entries.set(key, created);
      created.promise.catch(() => {
        if (this.entries.get(key) === created) this.entries.delete(key);
      });
      this.evictBeyondCapacity();
    }
    entry.users++;
    try {
      return await fn(await entry.promise);
    } finally {
      entry.users--;
      this.release(entry);
    }
  }

  /** Evicts and disposes everything (models in use are disposed when their last user finishes). */
  clear(): void {
    for (const [key, entry] of [...this.entries]) this.evict(key, entry);
  }

  private evictBeyondCapacity(): void {
    for (const [key, entry] of this.entries) {
      if (this.entries.size <= this.capacity) return;
      this.evict(key, entry);
    }
  }

  private evict(key: string, entry: Entry<V>): void {
    this.entries.delete(key);
    entry.evicted = true;
    this.counters.evictions++;
    this.release(entry);
  }

  private release(entry: Entry<V>): void {
    if (!entry.evicted || entry.users > 0) return;
    // A load that failed has nothing to dispose.
    entry.promise.then(this.options.dispose, () => undefined);
  }
}
