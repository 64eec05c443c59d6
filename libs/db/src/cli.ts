/**
 * `tsx libs/db/src/cli.ts up|down-all|status`, with DATABASE_URL set. Not part of the library's
 * exports: an entry point for the migration Job and for operators.
 */
import { describeError } from '@s2g/contracts';
import { runMigrationCommand } from './migration-command';

const url = process.env['DATABASE_URL'];
const command = process.argv[2] ?? 'up';
if (!url) {
  process.stderr.write('DATABASE_URL is not set\n');
  process.exit(2);
}
try {
  for (const line of await runMigrationCommand(command, url)) process.stdout.write(`${line}\n`);
} catch (e) {
  const { code, message } = describeError(e);
  process.stderr.write(`${code}: ${message}\n`);
  process.exit(1);
}
