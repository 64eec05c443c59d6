/**
 * Real services for the ingest specs: Postgres (migrated), an S3 server and NATS JetStream, plus the
 * checks every import test makes (rows, objects) and a store that fails on purpose.
 */
import { randomUUID } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import type { DataSource } from 'typeorm';
import { type Payload, type EventName, SPLITS, type Split } from '@s2g/contracts';
import { createDataSource, Database, migrate } from '@s2g/db';
import { type EventBus, NatsBus } from '@s2g/messaging';
import { createObjectStore, type ObjectStore, StorageKeys } from '@s2g/storage';
import { testNats, testPostgres, testS3, type TestNats, type TestPostgres, type TestS3 } from '@s2g/testing';

export interface World {
  db: Database;
  dataSource: DataSource;
  store: ObjectStore;
  s3: TestS3;
  nats: TestNats;
  /** A NATS bus in a namespace of its own. */
  bus(): Promise<EventBus>;
  stop(): Promise<void>;
}

export async function startWorld(prefix: string): Promise<World> {
  const pg: TestPostgres = await testPostgres();
  const s3 = await testS3();
  const nats = await testNats();
  const dataSource = createDataSource(await pg.createDatabase(prefix), { poolSize: 4 });
  await dataSource.initialize();
  await migrate(dataSource);
  const store = createObjectStore({ driver: 's3', url: s3.url });
  await store.ensureReady();
  const buses: EventBus[] = [];
  let n = 0;
  return {
    db: Database.of(dataSource),
    dataSource,
    store,
    s3,
    nats,
    async bus() {
      const bus = await NatsBus.connect({ servers: nats.url, name: 'ingest-test', namespace: `ingest${process.pid}x${Date.now().toString(36)}x${n++}`, pullExpiresMs: 500 });
      buses.push(bus);
      return bus;
    },
    async stop() {
      for (const b of buses) await b.close({ timeoutMs: 1000 }).catch(() => undefined);
      if (dataSource.isInitialized) await dataSource.destroy();
      await pg.stop();
      await s3.stop();
      await nats.stop();
    },
  };
}

/** Uploads a local folder (or one file) under `uploads/<id>/` as the gateway would; returns the prefix. */
export async function upload(store: ObjectStore, path: string, uploadId = randomUUID()): Promise<string> {
  const files: string[] = [];
  const walk = async (p: string): Promise<void> => {
    const entries = await readdir(p, { withFileTypes: true }).catch(() => null);
    if (!entries) {
      files.push(p);
      return;
    }
    for (const e of entries) await (e.isDirectory() ? walk(join(p, e.name)) : Promise.resolve(files.push(join(p, e.name))));
  };
  await walk(path);
  const single = files.length === 1 && files[0] === path;
  for (const f of files) {
    const bytes = await readFile(f);
    await store.put(StorageKeys.upload(uploadId, single ? relative(join(path, '..'), f) : relative(path, f)), bytes, bytes.length);
  }
  return StorageKeys.uploadPrefix(uploadId);
}

export interface SpeakerRows {
  videos: number;
  intervals: number;
  samples: Record<Split, number>;
  shards: number;
  shardSamples: number;
}

/** Row counts of a speaker; all zero when it has nothing. */
export async function speakerRows(db: Database, speakerId: string): Promise<SpeakerRows> {
  const stats = await db.speakers.stats(speakerId);
  const shards = await db.shards.listBySpeaker(speakerId);
  return { videos: stats.videos, intervals: stats.intervals, samples: stats.samples, shards: shards.length, shardSamples: shards.reduce((n, s) => n + s.sampleCount, 0) };
}

export const total = (by: Record<Split, number>): number => SPLITS.reduce((n, s) => n + by[s], 0);

/** Keys of every object under a speaker. */
export async function speakerObjects(store: ObjectStore, speakerId: string): Promise<string[]> {
  const keys: string[] = [];
  for await (const o of store.list(StorageKeys.speakerPrefix(speakerId))) keys.push(o.key);
  return keys;
}

/** Collects events of some names as they arrive; `next` waits for the first matching one. */
export class EventLog {
  readonly seen: { name: EventName; payload: Payload<EventName> }[] = [];
  private waiters: { match: (e: { name: EventName; payload: Payload<EventName> }) => boolean; resolve: () => void }[] = [];

  static async on(bus: EventBus): Promise<EventLog> {
    const log = new EventLog();
    await bus.subscribeEvents('s2g.ingest.*', (event) => {
      log.seen.push(event);
      log.waiters = log.waiters.filter((w) => {
        if (!w.match(event)) return true;
        w.resolve();
        return false;
      });
    });
    return log;
  }

  of<N extends EventName>(name: N, jobId: string): Payload<N>[] {
    return this.seen.filter((e) => e.name === name && (e.payload as { jobId?: string }).jobId === jobId).map((e) => e.payload as Payload<N>);
  }

  /** The job's completed or failed event (whichever comes), within `timeoutMs`. */
  async end(jobId: string, timeoutMs = 60_000): Promise<{ name: 's2g.ingest.completed' | 's2g.ingest.failed'; payload: Payload<'s2g.ingest.completed'> & Payload<'s2g.ingest.failed'> }> {
    const match = (e: { name: EventName; payload: Payload<EventName> }) =>
      (e.name === 's2g.ingest.completed' || e.name === 's2g.ingest.failed') && (e.payload as { jobId?: string }).jobId === jobId;
    if (!this.seen.some(match)) {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no end event for job ${jobId} within ${timeoutMs} ms`)), timeoutMs);
        this.waiters.push({ match, resolve: () => (clearTimeout(timer), resolve()) });
      });
    }
    return this.seen.find(match) as never;
  }
}

/** An object store that fails the n-th write of a shard (once), to break a job half-way. */
export function failingOnShard(store: ObjectStore, n: number): ObjectStore & { shardPuts: number } {
  const wrapper: ObjectStore & { shardPuts: number } = {
    driver: store.driver,
    shardPuts: 0,
    ensureReady: () => store.ensureReady(),
    ping: () => store.ping(),
    async put(key, body, size, options) {
      if (key.endsWith('.s2gshard') && ++wrapper.shardPuts === n) throw new Error(`injected failure writing ${key}`);
      return store.put(key, body, size, options);
    },
    get: (key) => store.get(key),
    getBuffer: (key) => store.getBuffer(key),
    stat: (key) => store.stat(key),
    list: (prefix) => store.list(prefix),
    delete: (key) => store.delete(key),
    deletePrefix: (prefix) => store.deletePrefix(prefix),
    presignedPut: (key, s) => store.presignedPut(key, s),
    presignedGet: (key, s) => store.presignedGet(key, s),
  };
  return wrapper;
}
