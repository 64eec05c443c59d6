import { patsFixtureDir } from '@s2g/testing';
import { readFileSync } from 'node:fs';
import { FACE_POINTS_52, FRAME_VALUES, NUM_KEYPOINTS } from '@s2g/pose';

/** The PATS fixture (see shared/fixtures/README.md beside the repository). */
export const PATS_DIR = patsFixtureDir();

/**
 * pose_data.csv as a flattened T x 98 sequence in absolute pixels: column 0 / 52 hold the neck's
 * absolute x / y, every other joint is relative to the neck; nose and eyes are dropped.
 */
export function loadPatsPose(): Float32Array {
  const rows = readFileSync(`${PATS_DIR}/pose_data.csv`, 'utf8').trim().split('\n').slice(1);
  const keep = Array.from({ length: 52 }, (_, j) => j).filter((j) => !FACE_POINTS_52.includes(j));
  const out = new Float32Array(rows.length * FRAME_VALUES);
  rows.forEach((line, t) => {
    const v = line.split(',').map(Number);
    keep.forEach((j, k) => {
      out[t * FRAME_VALUES + k] = j === 0 ? v[0] : v[0] + v[j];
      out[t * FRAME_VALUES + NUM_KEYPOINTS + k] = j === 0 ? v[52] : v[52] + v[52 + j];
    });
  });
  return out;
}
