import { readFileSync } from 'node:fs';

/** The PATS fixture (see /work/shared/fixtures/README.md). */
export const PATS_DIR = process.env.S2G_FIXTURES ? `${process.env.S2G_FIXTURES}/pats` : '/work/shared/fixtures/pats';

export function readPats(file: 'pose_data.csv' | 'pose_confidence.csv'): string {
  return readFileSync(`${PATS_DIR}/${file}`, 'utf8');
}
