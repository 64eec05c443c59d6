import { DataSource } from 'typeorm';
import { ENTITIES } from './entities';
import { MIGRATIONS } from './migrations';
import { PostgresNamingStrategy } from './naming';

export const MIGRATIONS_TABLE = 'schema_migrations';

export interface DataSourceOptions {
  /**
   * Log every SQL statement (development). Off by default, failed queries included: they surface as
   * coded errors to the caller, and their parameters may hold secrets such as token hashes.
   */
  logging?: boolean;
  /** Connection pool size per process. Default 10. */
  poolSize?: number;
  /** Shown in pg_stat_activity, to tell the services apart. */
  applicationName?: string;
}

/**
 * A (not yet initialised) DataSource for a Postgres URL, with every entity and migration. The
 * schema comes from migrations only: `synchronize` is off and migrations never run implicitly.
 */
export function createDataSource(url: string, options: DataSourceOptions = {}): DataSource {
  return new DataSource({
    type: 'postgres',
    url,
    entities: ENTITIES,
    migrations: MIGRATIONS,
    migrationsTableName: MIGRATIONS_TABLE,
    migrationsTransactionMode: 'each',
    migrationsRun: false,
    synchronize: false,
    namingStrategy: new PostgresNamingStrategy(),
    logging: options.logging ? 'all' : ['warn', 'migration'],
    applicationName: options.applicationName ?? 's2g',
    poolSize: options.poolSize ?? 10,
  });
}

/** Readiness check: one round trip on a pooled connection. */
export async function pingDatabase(dataSource: DataSource): Promise<void> {
  await dataSource.query('SELECT 1');
}
