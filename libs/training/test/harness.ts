/**
 * Real services for the training tests: a Postgres database (migrated), an S3 server, a NATS
 * namespace, and a recorder of every training event published on it.
 */
import { connect } from '@nats-io/transport-node';
import type { AnyEvent, CommandName, EventName, EventPayload } from '@s2g/contracts';
import { createDataSource, Database, migrate } from '@s2g/db';
import { BusNames, type EventBus, NatsBus, type Subscription } from '@s2g/messaging';
import { type ObjectStore, S3ObjectStore } from '@s2g/storage';
import { type TestNats, type TestPostgres, type TestS3, testNats, testPostgres, testS3 } from '@s2g/testing';
import type { DataSource } from 'typeorm';

export interface Harness {
  db: Database;
  store: ObjectStore;
  bus: EventBus;
  events: EventLog;
  /** Publishes bytes on a command's subject as they are, bypassing the publisher's validation. */
  injectRaw(command: CommandName, data: string): Promise<void>;
  /** What a worker process needs to join: the same database, S3 bucket and NATS namespace. */
  env: Record<string, string>;
  close(): Promise<void>;
}

/** `value`, which the test expects to be there. */
export function present<T>(value: T | null | undefined, what: string): T {
  if (value === null || value === undefined) throw new Error(`expected ${what}`);
  return value;
}

/** The run an event is about (training events all name one). */
export function runOf(event: AnyEvent): string | undefined {
  return 'runId' in event.payload ? event.payload.runId : undefined;
}

export class EventLog {
  readonly all: AnyEvent[] = [];
  private waiters: { match: (e: AnyEvent) => boolean; resolve: (e: AnyEvent) => void }[] = [];

  push(event: AnyEvent): void {
    this.all.push(event);
    this.waiters = this.waiters.filter((w) => {
      if (!w.match(event)) return true;
      w.resolve(event);
      return false;
    });
  }

  of<N extends EventName>(name: N, runId: string): EventPayload<N>[] {
    return this.all.filter((e) => e.name === name && runOf(e) === runId).map((e) => e.payload as EventPayload<N>);
  }

  /** Resolves with the first event (already seen or to come) that matches. */
  waitFor(match: (e: AnyEvent) => boolean, timeoutMs: number, what: string): Promise<AnyEvent> {
    const seen = this.all.find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}; saw ${this.all.map((e) => e.name).join(', ')}`)), timeoutMs);
      this.waiters.push({
        match,
        resolve: (e) => {
          clearTimeout(timer);
          resolve(e);
        },
      });
    });
  }

  /** The run's terminal event: completed, failed or cancelled. */
  end(runId: string, timeoutMs: number): Promise<AnyEvent> {
    const terminal = ['s2g.training.completed', 's2g.training.failed', 's2g.training.cancelled'];
    return this.waitFor((e) => terminal.includes(e.name) && runOf(e) === runId, timeoutMs, `the end of run ${runId}`);
  }
}

let namespaces = 0;

export async function startHarness(): Promise<Harness> {
  const cleanups: (() => Promise<unknown>)[] = [];
  const close = async (): Promise<void> => {
    for (const fn of cleanups.reverse()) await fn().catch(() => undefined);
  };
  try {
    const pg: TestPostgres = await testPostgres();
    cleanups.push(() => pg.stop());
    const url = await pg.createDatabase('training');
    const dataSource: DataSource = createDataSource(url);
    await dataSource.initialize();
    cleanups.push(() => dataSource.destroy());
    await migrate(dataSource);

    const s3: TestS3 = await testS3();
    cleanups.push(() => s3.stop());
    const store = S3ObjectStore.fromUrl(`http://${s3.accessKey}:${s3.secretKey}@${new URL(s3.endpoint).host}/${s3.bucket}`);
    await store.ensureReady();

    const nats: TestNats = await testNats();
    cleanups.push(() => nats.stop());
    const namespace = `training${process.pid}x${Date.now().toString(36)}x${namespaces++}`;
    const bus = await NatsBus.connect({ servers: nats.url, name: 'training-test', namespace });
    cleanups.push(() => bus.close({ timeoutMs: 2000 }));

    const raw = await connect({ servers: nats.url });
    cleanups.push(() => raw.close());
    const names = new BusNames(namespace);

    const events = new EventLog();
    const sub: Subscription = await bus.subscribeEvents('s2g.training.*', (event) => events.push(event));
    cleanups.push(() => sub.unsubscribe());

    return {
      db: Database.of(dataSource),
      store,
      bus,
      events,
      injectRaw: async (command, data) => {
        // A request on a stream's subject returns the stream's acknowledgement: the command is stored.
        await raw.request(names.subject(command), data);
      },
      env: {
        S2G_MODE: 'distributed',
        DATABASE_URL: url,
        NATS_URL: nats.url,
        NATS_NAMESPACE: namespace,
        S3_ENDPOINT: s3.endpoint,
        S3_ACCESS_KEY: s3.accessKey,
        S3_SECRET_KEY: s3.secretKey,
        S3_BUCKET: s3.bucket,
        TF_BACKEND: 'wasm',
      },
      close,
    };
  } catch (e) {
    await close();
    throw e;
  }
}
