import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { ErrorCode, isS2gError } from '@s2g/contracts';
import { createDataSource } from '@s2g/db';
import { tempDir, type TempDir } from '@s2g/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../src/logger';
import { startEmbeddedPostgres } from '../src/platform';

/**
 * The embedded Postgres of a data folder against the two ways a folder can be busy: another live s2g
 * process on it (refused with CONFLICT), and a Postgres left running by an s2g process that was
 * killed outright (stopped, so the folder works again).
 */
const fixture = fileURLToPath(new URL('./fixtures/embedded-postgres.ts', import.meta.url));
const root = fileURLToPath(new URL('../../../', import.meta.url));
const logger = createLogger({ name: 'test', level: 'silent' });

let dir: TempDir;

beforeAll(async () => {
  dir = await tempDir('embedded-pg');
});

afterAll(async () => {
  await dir?.cleanup();
});

async function selectOne(url: string): Promise<unknown> {
  const ds = createDataSource(url);
  await ds.initialize();
  try {
    return await ds.query('SELECT 1 AS one');
  } finally {
    await ds.destroy();
  }
}

describe('embedded Postgres', () => {
  it('refuses a data folder another live process is using, naming it', { timeout: 120_000 }, async () => {
    const pg = await startEmbeddedPostgres(dir.path, logger);
    try {
      const second = await startEmbeddedPostgres(dir.path, logger).then(
        () => null,
        (e: unknown) => e,
      );
      expect(isS2gError(second) && second.code).toBe(ErrorCode.CONFLICT);
      expect((second as Error).message).toContain(dir.path);
      // The first one is untouched.
      expect(await selectOne(pg.url)).toEqual([{ one: 1 }]);
    } finally {
      await pg.stop();
    }
  });

  it('stops a Postgres left running by a killed s2g process and starts cleanly', { timeout: 120_000 }, async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', fixture, dir.path], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    await new Promise<void>((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (c: Buffer) => {
        out += c.toString();
        if (out.includes('"started":true')) resolve();
      });
      child.once('exit', (code) => reject(new Error(`fixture exited early (${code}): ${out}`)));
    });
    // SIGKILL: no shutdown hooks run, so its Postgres is orphaned, still holding the folder.
    child.kill('SIGKILL');
    await exited;
    const pg = await startEmbeddedPostgres(dir.path, logger);
    try {
      expect(await selectOne(pg.url)).toEqual([{ one: 1 }]);
    } finally {
      await pg.stop();
    }
  });
});
