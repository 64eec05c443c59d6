import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, tempDir, testPostgres, testS3, type TestPostgres } from '../src/index';

describe('freePort / tempDir', () => {
  it('gives distinct usable ports', async () => {
    const a = await freePort();
    const b = await freePort();
    expect(a).toBeGreaterThan(0);
    expect(b).toBeGreaterThan(0);
  });

  it('creates and removes a folder', async () => {
    const dir = await tempDir('unit/../x');
    expect(dir.path).toMatch(/s2g-unit----x-/);
    await writeFile(join(dir.path, 'f'), 'x');
    await dir.cleanup();
    expect(existsSync(dir.path)).toBe(false);
    await dir.cleanup();
  });
});

describe('testPostgres', () => {
  let postgres: TestPostgres;
  beforeAll(async () => {
    postgres = await testPostgres();
  });
  afterAll(async () => {
    await postgres?.stop();
  });

  it('creates isolated databases that are dropped on stop', async () => {
    const a = await postgres.createDatabase('iso');
    const b = await postgres.createDatabase('iso');
    expect(a).not.toBe(b);
    const ca = new pg.Client({ connectionString: a });
    // Left open on purpose: stop() must still drop the database, which ends this connection.
    ca.on('error', () => undefined);
    await ca.connect();
    await ca.query('CREATE TABLE t (x int)');
    await ca.query('INSERT INTO t VALUES (1)');
    const name = (await ca.query<{ d: string }>('SELECT current_database() AS d')).rows[0].d;
    expect(a).toContain(name);
    const cb = new pg.Client({ connectionString: b });
    await cb.connect();
    const tables = await cb.query("SELECT 1 FROM pg_tables WHERE tablename = 't'");
    expect(tables.rowCount).toBe(0);
    await cb.end();

    const other = await testPostgres();
    await other.stop();
    const admin = new pg.Client({ connectionString: postgres.adminUrl });
    await admin.connect();
    // A second handle stopping must not stop the shared server or drop this handle's databases.
    const exists = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    expect(exists.rowCount).toBe(1);
    await admin.end();
  });

  it('drops its databases on stop, even with connections open', async () => {
    const handle = await testPostgres();
    const url = await handle.createDatabase('dropme');
    const name = new URL(url).pathname.slice(1);
    const open = new pg.Client({ connectionString: url });
    open.on('error', () => undefined);
    await open.connect();
    await handle.stop();
    const admin = new pg.Client({ connectionString: postgres.adminUrl });
    await admin.connect();
    const exists = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    await admin.end();
    expect(exists.rowCount).toBe(0);
  });
});

describe('testS3', () => {
  it('serves S3 on a free port with a fresh bucket name per call', async () => {
    const a = await testS3();
    const b = await testS3();
    try {
      expect(a.bucket).not.toBe(b.bucket);
      expect(a.bucket).toMatch(/^[a-z0-9][a-z0-9-]{2,62}$/);
      const res = await fetch(`${a.endpoint}/`);
      // Unsigned requests reach s3rver and are refused by its auth, which proves it is S3 speaking.
      expect([200, 403]).toContain(res.status);
    } finally {
      await a.stop();
      await b.stop();
    }
  });
});
