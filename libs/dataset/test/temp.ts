import { patsFixtureDir } from '@s2g/testing';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';

/** A temp folder removed after the spec file's tests. */
export async function tempFolder(prefix: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), `s2g-dataset-${prefix}-`));
  afterAll(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

export const FIXTURES = new URL('./fixtures/', import.meta.url).pathname;
export const PATS = patsFixtureDir();
