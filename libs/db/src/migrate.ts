import type { DataSource } from 'typeorm';
import { MIGRATIONS_TABLE } from './data-source';

/** Any constant works; it only has to be the same for every process migrating this database. */
const MIGRATION_LOCK = 7_347_215_001;

/**
 * Serialises migrations across processes (several replicas starting at once): a session-level
 * advisory lock held on a dedicated connection while TypeORM migrates on its own connections.
 */
async function withMigrationLock<T>(dataSource: DataSource, fn: () => Promise<T>): Promise<T> {
  const runner = dataSource.createQueryRunner();
  await runner.connect();
  try {
    await runner.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
    try {
      return await fn();
    } finally {
      await runner.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]);
    }
  } finally {
    await runner.release();
  }
}

/** Runs pending migrations, each in its own transaction; returns the names applied. */
export async function migrate(dataSource: DataSource): Promise<string[]> {
  return withMigrationLock(dataSource, async () => {
    const applied = await dataSource.runMigrations({ transaction: 'each' });
    return applied.map((m) => m.name);
  });
}

/** Names of the migrations already applied, oldest first ([] before the first migrate). */
export async function appliedMigrations(dataSource: DataSource): Promise<string[]> {
  const exists = await dataSource.query<{ exists: boolean }[]>('SELECT to_regclass($1) IS NOT NULL AS exists', [MIGRATIONS_TABLE]);
  if (!exists[0]?.exists) return [];
  const rows = await dataSource.query<{ name: string }[]>(`SELECT name FROM ${MIGRATIONS_TABLE} ORDER BY "timestamp", id`);
  return rows.map((r) => r.name);
}

/** Reverts every applied migration, newest first; returns how many were reverted. For tests and tear-down. */
export async function revertAll(dataSource: DataSource): Promise<number> {
  return withMigrationLock(dataSource, async () => {
    let reverted = 0;
    while ((await appliedMigrations(dataSource)).length > 0) {
      await dataSource.undoLastMigration({ transaction: 'each' });
      reverted += 1;
    }
    return reverted;
  });
}
