import type { DataSource } from 'typeorm';
import { testPostgres, type TestPostgres } from '@s2g/testing';
import { createDataSource, Database, migrate } from '../src/index';

export interface TestDb {
  postgres: TestPostgres;
  /** A fresh, migrated database. */
  open(prefix: string): Promise<{ dataSource: DataSource; db: Database; url: string }>;
  stop(): Promise<void>;
}

/** One Postgres per spec file; each `open` gets its own database so tests cannot see each other's rows. */
export async function testDb(): Promise<TestDb> {
  const postgres = await testPostgres();
  const sources: DataSource[] = [];
  return {
    postgres,
    async open(prefix) {
      const url = await postgres.createDatabase(prefix);
      const dataSource = createDataSource(url, { poolSize: 4 });
      await dataSource.initialize();
      sources.push(dataSource);
      await migrate(dataSource);
      return { dataSource, db: Database.of(dataSource), url };
    },
    async stop() {
      for (const ds of sources) if (ds.isInitialized) await ds.destroy();
      await postgres.stop();
    },
  };
}
