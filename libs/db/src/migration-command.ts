import { ErrorCode, S2gError } from '@s2g/contracts';
import { createDataSource } from './data-source';
import { appliedMigrations, migrate, revertAll } from './migrate';
import { MIGRATIONS } from './migrations';

export const MIGRATION_COMMANDS = ['up', 'down-all', 'status'] as const;
export type MigrationCommand = (typeof MIGRATION_COMMANDS)[number];

/**
 * What `s2g-migrate <command>` does (the Kubernetes migration Job and operators run it):
 * `up` applies pending migrations, `down-all` reverts every one, `status` lists applied and pending.
 * Returns the lines to print.
 */
export async function runMigrationCommand(command: string, url: string): Promise<string[]> {
  if (!(MIGRATION_COMMANDS as readonly string[]).includes(command)) {
    throw new S2gError(ErrorCode.BAD_USER_INPUT, `unknown command "${command}"; use one of: ${MIGRATION_COMMANDS.join(', ')}`);
  }
  const dataSource = createDataSource(url, { poolSize: 2, applicationName: 's2g-migrate' });
  await dataSource.initialize();
  try {
    switch (command as MigrationCommand) {
      case 'up': {
        const applied = await migrate(dataSource);
        return applied.length === 0 ? ['schema is up to date'] : applied.map((name) => `applied ${name}`);
      }
      case 'down-all':
        return [`reverted ${await revertAll(dataSource)} migration(s)`];
      case 'status': {
        const applied = new Set(await appliedMigrations(dataSource));
        return MIGRATIONS.map((m) => {
          const name = new m().name;
          return `${applied.has(name) ? 'applied' : 'pending'} ${name}`;
        });
      }
    }
  } finally {
    await dataSource.destroy();
  }
}
