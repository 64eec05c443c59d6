import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testPostgres, type TestPostgres } from '@s2g/testing';
import { appliedMigrations, createDataSource, MIGRATIONS, MIGRATIONS_TABLE, migrate, revertAll, runMigrationCommand } from '../src/index';

const NAMES = MIGRATIONS.map((m) => new m().name);

const TABLES = [
  'api_tokens',
  'checkpoints',
  'evaluations',
  'inference_results',
  'ingest_jobs',
  'intervals',
  'renders',
  'run_metrics',
  'samples',
  'shards',
  'speakers',
  'training_runs',
  'videos',
];

describe('migrations', () => {
  let postgres: TestPostgres;
  beforeAll(async () => {
    postgres = await testPostgres();
  });
  afterAll(async () => {
    await postgres?.stop();
  });

  async function tables(ds: ReturnType<typeof createDataSource>): Promise<string[]> {
    const rows = await ds.query<{ tablename: string }[]>(`SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename`);
    return rows.map((r) => r.tablename);
  }

  it('migrates an empty database up, matches the entities exactly, and reverts to empty', async () => {
    const ds = createDataSource(await postgres.createDatabase('migrate'));
    await ds.initialize();
    try {
      expect(await tables(ds)).toEqual([]);
      expect(await appliedMigrations(ds)).toEqual([]);

      const applied = await migrate(ds);
      expect(applied).toEqual(NAMES);
      expect(await tables(ds)).toEqual([...TABLES, MIGRATIONS_TABLE].sort());
      expect(await migrate(ds)).toEqual([]);

      // The entities and the hand-written SQL must describe the same schema: TypeORM's diff of
      // the two is the SQL `synchronize` would run, and it must be empty.
      const diff = await ds.driver.createSchemaBuilder().log();
      expect(diff.upQueries.map((q) => q.query)).toEqual([]);

      expect(await revertAll(ds)).toBe(MIGRATIONS.length);
      expect(await tables(ds)).toEqual([MIGRATIONS_TABLE]);
      expect(await appliedMigrations(ds)).toEqual([]);
      const types = await ds.query<{ n: number }[]>(`SELECT count(*)::int AS n FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace WHERE n.nspname = 'public' AND t.typtype = 'e'`);
      expect(types[0]?.n).toBe(0);

      // And up again from there.
      expect(await migrate(ds)).toEqual(NAMES);
      expect(await tables(ds)).toHaveLength(TABLES.length + 1);
    } finally {
      await ds.destroy();
    }
  });

  it('lets several processes migrate one database at once', async () => {
    const url = await postgres.createDatabase('concurrent');
    const sources = [createDataSource(url), createDataSource(url), createDataSource(url)];
    await Promise.all(sources.map((s) => s.initialize()));
    try {
      const results = await Promise.all(sources.map((s) => migrate(s)));
      // Exactly one process applied each migration; the others found nothing pending.
      expect(results.flat().sort()).toEqual([...NAMES].sort());
      expect(await appliedMigrations(sources[0])).toEqual(NAMES);
    } finally {
      await Promise.all(sources.map((s) => s.destroy()));
    }
  });

  it('runs the migration commands operators use', async () => {
    const url = await postgres.createDatabase('command');
    expect(await runMigrationCommand('status', url)).toEqual(NAMES.map((n) => `pending ${n}`));
    expect(await runMigrationCommand('up', url)).toEqual(NAMES.map((n) => `applied ${n}`));
    expect(await runMigrationCommand('up', url)).toEqual(['schema is up to date']);
    expect(await runMigrationCommand('status', url)).toEqual(NAMES.map((n) => `applied ${n}`));
    expect(await runMigrationCommand('down-all', url)).toEqual([`reverted ${NAMES.length} migration(s)`]);
    await expect(runMigrationCommand('sideways', url)).rejects.toMatchObject({ code: 'BAD_USER_INPUT' });
  });

  it('never synchronizes implicitly', () => {
    const ds = createDataSource('postgres://nobody@127.0.0.1:1/none');
    expect(ds.options.synchronize).toBe(false);
    expect(ds.options.migrationsRun).toBe(false);
  });
});
