/**
 * The files of an inference result (docs/RESULTS.md): `poses.json` for people and scripts, and
 * `poses.f32`, the same numbers packed as float32 for the renderer and for clients that want speed.
 */
import { ErrorCode, S2gError } from '@s2g/contracts';
import { FRAME_VALUES, KEYPOINT_NAMES, NUM_KEYPOINTS, PARENTS } from '@s2g/pose';

export const POSES_JSON_FILE = 'poses.json';
export const POSES_BINARY_FILE = 'poses.f32';
/** The 16 kHz audio of a sample used as input (uploads are kept where they were uploaded). */
export const RESULT_AUDIO_FILE = 'audio.wav';

export const POSES_FORMAT = 's2g-poses';
export const POSES_VERSION = 1;
export const POSES_MAGIC = 'S2GPOSES';
/** Bytes before the float data: magic, version, frames, keypoints, fps, sections, reserved. */
export const POSES_HEADER_BYTES = 32;
const SECTIONS = 2;

/**
 * Where the neck (and so the whole figure) sits in pixel coordinates: `sample` follows the ground
 * truth's neck of the sample the audio came from (so the pose lines up with that video), `fixed`
 * holds it at `origin` (uploaded audio has no video to line up with).
 */
export type NeckPlacement = 'sample' | 'fixed';

export interface PoseSequences {
  /** Frames x 98 (x0..x48, y0..y48), pixels of the speaker's videos. */
  pixels: Float32Array;
  /** Frames x 98, the model's output: neck-relative, z-scored with the speaker's statistics. */
  normalized: Float32Array;
  frames: number;
  fps: number;
}

export interface PosesJsonMeta {
  resultId: string;
  /** Seconds of input audio (the last frame starts at most one frame period before its end). */
  durationSeconds: number;
  speaker: { id: string; name: string };
  model: { runId: string; checkpointId: string; step: number; preset: string };
  input: Record<string, unknown>;
  neck: NeckPlacement;
  /** The fixed neck position (`neck: 'fixed'`), else null. */
  origin: [number, number] | null;
}

/** The JSON document, as parsed. */
export interface PosesJson extends Omit<PosesJsonMeta, 'neck' | 'origin'> {
  format: typeof POSES_FORMAT;
  version: typeof POSES_VERSION;
  fps: number;
  frames: number;
  keypoints: string[];
  parents: number[];
  coordinates: { units: 'pixels'; neck: NeckPlacement; origin: [number, number] | null };
  /** Per frame `[[x0..x48], [y0..y48]]` (the (2, 49) layout of ML-SPEC section 2), 2 decimals. */
  pixels: number[][][];
  /** Per frame `[[x0..x48], [y0..y48]]`, 4 decimals; the neck's entries are 0. */
  normalized: number[][][];
}

function checkSequences(seq: PoseSequences): void {
  const values = seq.frames * FRAME_VALUES;
  if (!Number.isInteger(seq.frames) || seq.frames < 1 || seq.pixels.length !== values || seq.normalized.length !== values) {
    throw new S2gError(ErrorCode.KEYPOINTS_INVALID, `pose sequences must hold frames x ${FRAME_VALUES} values (frames ${seq.frames})`);
  }
  if (!(seq.fps > 0)) throw new S2gError(ErrorCode.KEYPOINTS_INVALID, `fps must be positive, got ${seq.fps}`);
}

function frameArrays(values: Float32Array, frame: number, decimals: number): number[][] {
  const f = 10 ** decimals;
  const at = frame * FRAME_VALUES;
  const round = (v: number) => Math.round(v * f) / f;
  const xs: number[] = [];
  const ys: number[] = [];
  for (let k = 0; k < NUM_KEYPOINTS; k++) {
    xs.push(round(values[at + k]));
    ys.push(round(values[at + NUM_KEYPOINTS + k]));
  }
  return [xs, ys];
}

export function encodePosesJson(seq: PoseSequences, meta: PosesJsonMeta): Buffer {
  checkSequences(seq);
  const { neck, origin, ...rest } = meta;
  const doc: PosesJson = {
    format: POSES_FORMAT,
    version: POSES_VERSION,
    ...rest,
    fps: seq.fps,
    frames: seq.frames,
    keypoints: [...KEYPOINT_NAMES],
    parents: [...PARENTS],
    coordinates: { units: 'pixels', neck, origin },
    pixels: Array.from({ length: seq.frames }, (_, t) => frameArrays(seq.pixels, t, 2)),
    normalized: Array.from({ length: seq.frames }, (_, t) => frameArrays(seq.normalized, t, 4)),
  };
  return Buffer.from(JSON.stringify(doc));
}

/** Header then pixel and normalised values as little-endian float32 (see docs/RESULTS.md). */
export function encodePosesBinary(seq: PoseSequences): Buffer {
  checkSequences(seq);
  const values = seq.frames * FRAME_VALUES;
  const buf = Buffer.alloc(POSES_HEADER_BYTES + SECTIONS * values * 4);
  buf.write(POSES_MAGIC, 0, 'latin1');
  buf.writeUInt32LE(POSES_VERSION, 8);
  buf.writeUInt32LE(seq.frames, 12);
  buf.writeUInt32LE(NUM_KEYPOINTS, 16);
  buf.writeFloatLE(seq.fps, 20);
  buf.writeUInt32LE(SECTIONS, 24);
  let at = POSES_HEADER_BYTES;
  for (const section of [seq.pixels, seq.normalized]) {
    for (let i = 0; i < values; i++, at += 4) buf.writeFloatLE(section[i], at);
  }
  return buf;
}

/** Reads `poses.f32`; `name` labels errors. Throws RESULT_MISSING when the bytes are not such a file. */
export function decodePosesBinary(bytes: Uint8Array, name = POSES_BINARY_FILE): PoseSequences {
  const bad = (why: string) => new S2gError(ErrorCode.RESULT_MISSING, `${name} is not a readable pose file: ${why}`, { file: name });
  if (bytes.length < POSES_HEADER_BYTES) throw bad('too short');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (Buffer.from(bytes.subarray(0, 8)).toString('latin1') !== POSES_MAGIC) throw bad('wrong magic');
  const version = view.getUint32(8, true);
  if (version !== POSES_VERSION) throw bad(`version ${version}`);
  const frames = view.getUint32(12, true);
  const keypoints = view.getUint32(16, true);
  const fps = view.getFloat32(20, true);
  const sections = view.getUint32(24, true);
  const values = frames * keypoints * 2;
  if (keypoints !== NUM_KEYPOINTS || sections !== SECTIONS || frames < 1 || !(fps > 0)) throw bad('unexpected header');
  if (bytes.length !== POSES_HEADER_BYTES + sections * values * 4) throw bad(`${bytes.length} bytes for ${frames} frames`);
  const read = (section: number) => {
    const out = new Float32Array(values);
    const base = POSES_HEADER_BYTES + section * values * 4;
    for (let i = 0; i < values; i++) out[i] = view.getFloat32(base + 4 * i, true);
    return out;
  };
  return { frames, fps, pixels: read(0), normalized: read(1) };
}
