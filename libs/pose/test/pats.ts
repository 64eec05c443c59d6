import { patsFixtureDir } from '@s2g/testing';
import { readFileSync } from 'node:fs';

/** The PATS fixture (see shared/fixtures/README.md beside the repository). */
export const PATS_DIR = patsFixtureDir();

export function readPats(file: 'pose_data.csv' | 'pose_confidence.csv'): string {
  return readFileSync(`${PATS_DIR}/${file}`, 'utf8');
}
