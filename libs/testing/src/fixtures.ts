import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root: the nearest folder above this file holding nx.json. */
export function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'nx.json'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error('repoRoot: no nx.json above ' + fileURLToPath(import.meta.url));
    dir = parent;
  }
  return dir;
}

/**
 * The shared real-data fixtures: `S2G_FIXTURES` if set, else `../shared/fixtures` beside the
 * repository (where CI puts them). Throws when neither exists: a missing fixture must fail a test.
 */
export function fixturesDir(): string {
  const dir = process.env['S2G_FIXTURES'] ? resolve(process.env['S2G_FIXTURES']) : resolve(repoRoot(), '..', 'shared', 'fixtures');
  if (!existsSync(dir)) throw new Error(`fixtures not found at ${dir}: put shared/ beside the repository or set S2G_FIXTURES`);
  return dir;
}

/** The PATS interval (pose_data.csv, pose_confidence.csv, the .h5). */
export function patsFixtureDir(): string {
  return join(fixturesDir(), 'pats');
}
