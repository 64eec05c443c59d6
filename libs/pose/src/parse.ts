import { ErrorCode, S2gError } from '@s2g/contracts';
import { validatePoses } from './frames';
import { FACE_POINTS_52, FRAME_VALUES, KEYPOINT_NAMES, LEFT_HAND_ROOT, NUM_KEYPOINTS, RIGHT_HAND_ROOT } from './skeleton';

const POINTS_52 = NUM_KEYPOINTS + FACE_POINTS_52.length;
const KEEP_52: readonly number[] = Array.from({ length: POINTS_52 }, (_, i) => i).filter((i) => !FACE_POINTS_52.includes(i));

function invalid(message: string, details?: Record<string, unknown>): S2gError {
  return new S2gError(ErrorCode.KEYPOINTS_INVALID, message, details);
}

/** Flattens a (2, K) nested array or passes a flat one through, checking the shape. */
function flatten(frame: ArrayLike<number> | readonly (readonly number[])[], points: number, what: string): ArrayLike<number> {
  if (Array.isArray(frame) && frame.length > 0 && Array.isArray(frame[0])) {
    const rows = frame as readonly (readonly number[])[];
    if (rows.length !== 2 || rows[0].length !== points || rows[1].length !== points) {
      throw invalid(`${what}: expected shape (2, ${points}), got (${rows.length}, ${rows.map((r) => r.length).join('/')})`);
    }
    return [...rows[0], ...rows[1]];
  }
  const flat = frame as ArrayLike<number>;
  if (flat.length !== 2 * points) throw invalid(`${what}: expected ${2 * points} values, got ${flat.length}`);
  return flat;
}

function checkFinite(values: ArrayLike<number>, what: string): void {
  for (let i = 0; i < values.length; i++) {
    if (!Number.isFinite(values[i])) throw invalid(`${what}: value ${i} is ${String(values[i])}`, { index: i });
  }
}

/**
 * A 52-point frame (shape (2, 52) or flat x0..x51, y0..y51) to the 49-point skeleton by dropping
 * nose and eyes (indices 7, 8, 9).
 */
export function from52(frame: ArrayLike<number> | readonly (readonly number[])[], what = 'frame'): Float64Array {
  const flat = flatten(frame, POINTS_52, what);
  checkFinite(flat, what);
  const out = new Float64Array(FRAME_VALUES);
  KEEP_52.forEach((src, dst) => {
    out[dst] = flat[src];
    out[NUM_KEYPOINTS + dst] = flat[POINTS_52 + src];
  });
  return out;
}

/** A frame of 49 points (shape (2, 49) or flat) or 52 points (face dropped), as 98 values. */
export function toFrame49(frame: ArrayLike<number> | readonly (readonly number[])[], what = 'frame'): Float64Array {
  const n = Array.isArray(frame) && Array.isArray(frame[0]) ? (frame[0] as readonly number[]).length * 2 : frame.length;
  if (n === 2 * POINTS_52) return from52(frame, what);
  const flat = flatten(frame, NUM_KEYPOINTS, what);
  checkFinite(flat, what);
  return Float64Array.from(flat);
}

/**
 * One `keypoints_simple/<video>/<frame>.txt` file: whitespace-separated text of shape (2, 49) or
 * (2, 52), x values on the first line, y on the second.
 */
export function parseKeypointsText(text: string, name = 'keypoints'): Float64Array {
  const lines = text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l.length > 0);
  if (lines.length !== 2) throw invalid(`${name}: expected 2 lines (x and y), got ${lines.length}`, { file: name });
  const rows = lines.map((l) => l.split(/\s+/).map(Number));
  if (rows[0].length !== rows[1].length) throw invalid(`${name}: rows have ${rows[0].length} and ${rows[1].length} values`, { file: name });
  if (rows[0].length !== NUM_KEYPOINTS && rows[0].length !== POINTS_52) {
    throw invalid(`${name}: expected 49 or 52 keypoints per row, got ${rows[0].length}`, { file: name });
  }
  return toFrame49(rows, name);
}

/** Parsed PATS pose arrays: absolute pixel coordinates, 49 points per frame. */
export interface PatsPose {
  poses: Float64Array;
  frames: number;
}

/** Splits CSV text into numeric rows, dropping the header row of column indices. */
function csvRows(text: string, name: string, width: number): number[][] {
  const lines = text.split(/\r?\n/).filter((l) => l.trim().length > 0);
  if (lines.length < 2) throw invalid(`${name}: no data rows`, { file: name });
  return lines.slice(1).map((line, r) => {
    const cells = line.split(',').map((c) => Number(c.trim()));
    if (cells.length !== width) throw invalid(`${name}: row ${r + 1} has ${cells.length} values, expected ${width}`, { file: name, row: r + 1 });
    cells.forEach((v, c) => {
      if (!Number.isFinite(v)) throw invalid(`${name}: row ${r + 1}, column ${c} is not a number`, { file: name, row: r + 1, column: c });
    });
    return cells;
  });
}

/**
 * PATS `pose/data` exported as CSV (header row of column indices, then one row per frame of 104
 * values). Columns are x0..x51 then y0..y51 (not interleaved); the neck (point 0) is absolute and
 * every other point is relative to it. Returns absolute pixel coordinates with the face dropped.
 */
export function parsePatsPoseCsv(text: string, name = 'pose_data.csv'): PatsPose {
  const rows = csvRows(text, name, 2 * POINTS_52);
  const poses = new Float64Array(rows.length * FRAME_VALUES);
  rows.forEach((row, t) => {
    const nx = row[0];
    const ny = row[POINTS_52];
    const abs = row.slice();
    for (let k = 1; k < POINTS_52; k++) {
      abs[k] += nx;
      abs[POINTS_52 + k] += ny;
    }
    poses.set(from52(abs, `${name} row ${t + 1}`), t * FRAME_VALUES);
  });
  validatePoses(poses, name);
  return { poses, frames: rows.length };
}

/**
 * PATS `pose/confidence` as CSV: the same layout, each joint's confidence repeated in its x and y
 * column. Returns T x 49 confidences (face dropped).
 */
export function parsePatsConfidenceCsv(text: string, name = 'pose_confidence.csv'): Float64Array {
  const rows = csvRows(text, name, 2 * POINTS_52);
  const out = new Float64Array(rows.length * NUM_KEYPOINTS);
  rows.forEach((row, t) => KEEP_52.forEach((src, dst) => (out[t * NUM_KEYPOINTS + dst] = row[src])));
  return out;
}

/** OpenPose BODY_25 indices used by the skeleton: neck, then right and left shoulder/elbow/wrist. */
const BODY25_TO_49: readonly (readonly [number, number])[] = [
  [1, 0],
  [2, 1],
  [3, 2],
  [4, 3],
  [5, 4],
  [6, 5],
  [7, 6],
];
const BODY25_POINTS = 25;
const HAND_POINTS = 21;

export interface OpenPosePerson {
  pose_keypoints_2d?: number[];
  hand_left_keypoints_2d?: number[];
  hand_right_keypoints_2d?: number[];
}

export interface OpenPoseFrame {
  people?: OpenPosePerson[];
}

export interface OpenPoseResult {
  /** 98 values; points OpenPose did not detect (confidence 0) are NaN: see `fillMissing`. */
  frame: Float64Array;
  /** Confidence of each of the 49 points. */
  confidence: Float64Array;
  /** Indices of the undetected points. */
  missing: number[];
}

function triples(values: unknown, count: number, what: string): number[] {
  if (values === undefined) return new Array<number>(count * 3).fill(0);
  if (!Array.isArray(values) || values.length !== count * 3 || !values.every((v) => typeof v === 'number' && Number.isFinite(v))) {
    throw invalid(`${what}: expected ${count * 3} numbers (x, y, confidence for ${count} points)`);
  }
  return values as number[];
}

/**
 * One OpenPose JSON frame (BODY_25 with hands) to the 49-point skeleton.
 *
 * Left and right are the person's own, in OpenPose and in the skeleton alike: BODY_25 2-4 (RShoulder,
 * RElbow, RWrist) become 1-3, 5-7 become 4-6, `hand_left_keypoints_2d` (the person's left hand, on
 * the image's right for a speaker facing the camera) becomes 7-27 and `hand_right_keypoints_2d`
 * becomes 28-48. That matches the PATS data, where point 1 lies left of the neck in the image. Each
 * hand's 21 points are already root, then thumb, index, middle, ring, little from root to tip.
 *
 * With several people, the one with the highest summed confidence over the used points is taken
 * unless `person` picks one.
 */
export function fromOpenPose(json: OpenPoseFrame | string, opts: { person?: number; name?: string } = {}): OpenPoseResult {
  const name = opts.name ?? 'openpose';
  let data: unknown;
  try {
    data = typeof json === 'string' ? JSON.parse(json) : json;
  } catch {
    throw invalid(`${name}: not valid JSON`, { file: name });
  }
  const people = (data as OpenPoseFrame | null)?.people;
  if (!Array.isArray(people) || people.length === 0) throw invalid(`${name}: no people detected`, { file: name });
  const parsed = people.map((p, i) => {
    const body = triples(p.pose_keypoints_2d, BODY25_POINTS, `${name} person ${i} pose_keypoints_2d`);
    const left = triples(p.hand_left_keypoints_2d, HAND_POINTS, `${name} person ${i} hand_left_keypoints_2d`);
    const right = triples(p.hand_right_keypoints_2d, HAND_POINTS, `${name} person ${i} hand_right_keypoints_2d`);
    const pts: [number, number, number][] = new Array(NUM_KEYPOINTS);
    for (const [src, dst] of BODY25_TO_49) pts[dst] = [body[3 * src], body[3 * src + 1], body[3 * src + 2]];
    for (let h = 0; h < HAND_POINTS; h++) {
      pts[LEFT_HAND_ROOT + h] = [left[3 * h], left[3 * h + 1], left[3 * h + 2]];
      pts[RIGHT_HAND_ROOT + h] = [right[3 * h], right[3 * h + 1], right[3 * h + 2]];
    }
    return pts;
  });
  let chosen = opts.person;
  if (chosen === undefined) {
    let best = -1;
    parsed.forEach((pts, i) => {
      const score = pts.reduce((s, p) => s + p[2], 0);
      if (score > best) {
        best = score;
        chosen = i;
      }
    });
  }
  if (chosen === undefined || chosen < 0 || chosen >= parsed.length) throw invalid(`${name}: person ${String(opts.person)} not found`);
  const pts = parsed[chosen];
  const frame = new Float64Array(FRAME_VALUES);
  const confidence = new Float64Array(NUM_KEYPOINTS);
  const missing: number[] = [];
  pts.forEach(([x, y, c], k) => {
    confidence[k] = c;
    if (c > 0) {
      frame[k] = x;
      frame[NUM_KEYPOINTS + k] = y;
    } else {
      frame[k] = Number.NaN;
      frame[NUM_KEYPOINTS + k] = Number.NaN;
      missing.push(k);
    }
  });
  return { frame, confidence, missing };
}

/**
 * Fills undetected points (NaN, or confidence below `minConfidence` when confidences are given) by
 * linear interpolation in time between the nearest frames where the point was seen, holding the
 * first/last seen position at the ends. Throws KEYPOINTS_INVALID for a point never seen.
 */
export function fillMissing(poses: ArrayLike<number>, confidence?: ArrayLike<number>, minConfidence = 0): Float64Array {
  const frames = poses.length / FRAME_VALUES;
  if (!Number.isInteger(frames)) throw invalid(`poses: length ${poses.length} is not a multiple of ${FRAME_VALUES}`);
  if (confidence && confidence.length !== frames * NUM_KEYPOINTS) {
    throw invalid(`confidence: expected ${frames * NUM_KEYPOINTS} values, got ${confidence.length}`);
  }
  const out = Float64Array.from(poses);
  for (let k = 0; k < NUM_KEYPOINTS; k++) {
    const seen = (t: number): boolean =>
      Number.isFinite(out[t * FRAME_VALUES + k]) &&
      Number.isFinite(out[t * FRAME_VALUES + NUM_KEYPOINTS + k]) &&
      (!confidence || confidence[t * NUM_KEYPOINTS + k] > minConfidence);
    const valid: number[] = [];
    for (let t = 0; t < frames; t++) if (seen(t)) valid.push(t);
    if (valid.length === 0) throw invalid(`keypoint ${k} (${KEYPOINT_NAMES[k]}) is missing in every frame`, { keypoint: k });
    if (valid.length === frames) continue;
    let j = 0;
    for (let t = 0; t < frames; t++) {
      while (j + 1 < valid.length && valid[j + 1] <= t) j++;
      const a = valid[j];
      if (a === t) continue;
      const b = valid[j + 1];
      for (const off of [k, NUM_KEYPOINTS + k]) {
        if (t < a || b === undefined) {
          out[t * FRAME_VALUES + off] = out[a * FRAME_VALUES + off];
        } else {
          const f = (t - a) / (b - a);
          out[t * FRAME_VALUES + off] = out[a * FRAME_VALUES + off] * (1 - f) + out[b * FRAME_VALUES + off] * f;
        }
      }
    }
  }
  return out;
}
