/**
 * In-process fan-out from the bus bridge to the subscriptions of this gateway replica. Every replica
 * receives every bus event itself (see events.ts), so this never needs to cross processes.
 * Each subscriber has a bounded buffer: a client that reads slower than events arrive loses the
 * oldest ones (progress is superseded by the next report) instead of growing memory without bound.
 */

export const DEFAULT_SUBSCRIBER_BUFFER = 256;

class Subscriber<T> implements AsyncIterableIterator<T> {
  private readonly buffer: T[] = [];
  private waiting: ((result: IteratorResult<T>) => void) | null = null;
  private ended = false;
  dropped = 0;

  constructor(
    private readonly capacity: number,
    private readonly onEnd: (s: Subscriber<T>) => void,
  ) {}

  push(value: T): void {
    if (this.ended) return;
    if (this.waiting) {
      const resolve = this.waiting;
      this.waiting = null;
      resolve({ value, done: false });
      return;
    }
    if (this.buffer.length >= this.capacity) {
      this.buffer.shift();
      this.dropped += 1;
    }
    this.buffer.push(value);
  }

  next(): Promise<IteratorResult<T>> {
    if (this.buffer.length > 0) return Promise.resolve({ value: this.buffer.shift() as T, done: false });
    if (this.ended) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve) => {
      this.waiting = resolve;
    });
  }

  return(): Promise<IteratorResult<T>> {
    this.end();
    return Promise.resolve({ value: undefined, done: true });
  }

  end(): void {
    if (this.ended) return;
    this.ended = true;
    this.buffer.length = 0;
    this.onEnd(this);
    const resolve = this.waiting;
    this.waiting = null;
    resolve?.({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<T> {
    return this;
  }
}

/** Topics with ids: `publish('training', runId, event)` reaches every `subscribe('training', runId)`. */
export class TopicPubSub<T> {
  private readonly subscribers = new Map<string, Set<Subscriber<T>>>();

  constructor(private readonly bufferSize = DEFAULT_SUBSCRIBER_BUFFER) {}

  private static key(topic: string, id: string): string {
    return `${topic}\u0000${id}`;
  }

  publish(topic: string, id: string, value: T): void {
    const set = this.subscribers.get(TopicPubSub.key(topic, id));
    if (!set) return;
    for (const s of set) s.push(value);
  }

  subscribe(topic: string, id: string): AsyncIterableIterator<T> {
    const key = TopicPubSub.key(topic, id);
    const set = this.subscribers.get(key) ?? new Set<Subscriber<T>>();
    this.subscribers.set(key, set);
    const subscriber = new Subscriber<T>(this.bufferSize, (s) => {
      set.delete(s);
      if (set.size === 0 && this.subscribers.get(key) === set) this.subscribers.delete(key);
    });
    set.add(subscriber);
    return subscriber;
  }

  /** Subscribers now listening (for the gauge and for tests). */
  get size(): number {
    let n = 0;
    for (const set of this.subscribers.values()) n += set.size;
    return n;
  }

  /** Ends every subscription (their clients get `complete`). */
  close(): void {
    for (const set of [...this.subscribers.values()]) for (const s of [...set]) s.end();
  }
}
