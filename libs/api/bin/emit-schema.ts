/**
 * Writes schema.graphql at the repository root from the code: `npx tsx libs/api/bin/emit-schema.ts`.
 * With `--check`, writes nothing and exits 1 when the committed file differs.
 */
import { spawnSync } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

// tsx compiles decorators only for files its tsconfig includes; the root one covers tools/ only,
// so this script runs itself again under the lib's tsconfig.
if (!process.env['TSX_TSCONFIG_PATH']) {
  const env = { ...process.env, TSX_TSCONFIG_PATH: fileURLToPath(new URL('./tsconfig.json', import.meta.url)) };
  const child = spawnSync(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), ...process.argv.slice(2)], { stdio: 'inherit', env });
  process.exit(child.status ?? 1);
}

const { buildApiSchema, printApiSchema } = await import('../src/schema/build');
const target = fileURLToPath(new URL('../../../schema.graphql', import.meta.url));
const text = printApiSchema(await buildApiSchema());
if (process.argv.includes('--check')) {
  const committed = await readFile(target, 'utf8').catch(() => '');
  if (committed !== text) {
    process.stderr.write('schema.graphql is out of date: run `npx tsx libs/api/bin/emit-schema.ts` and commit the result.\n');
    process.exit(1);
  }
  process.stdout.write('schema.graphql is up to date\n');
} else {
  await writeFile(target, text);
  process.stdout.write(`wrote ${target}\n`);
}
