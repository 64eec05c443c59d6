#!/usr/bin/env node
// Launcher of the `s2g` command: the built bundle when there is one (`nx build cli`), else the
// TypeScript sources through tsx's loader, in this same process: tsx's own CLI would run them in a
// child and SIGKILL it when a signal is not acknowledged within 30 ms, which a busy training step
// cannot do, so nothing would shut down in order. tsx compiles decorators (the TypeORM entities)
// only with a tsconfig that enables them, hence tsconfig.base.json.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const app = join(dirname(fileURLToPath(import.meta.url)), '..');
const root = join(app, '..', '..');
const built = join(root, 'dist', 'apps', 'cli', 'main.js');

if (existsSync(built)) {
  await import(pathToFileURL(built).href);
} else {
  const { register } = await import('tsx/esm/api');
  register({ tsconfig: join(root, 'tsconfig.base.json') });
  await import(pathToFileURL(join(app, 'src', 'main.ts')).href);
}
