import { ErrorCode, S2gError } from '@s2g/contracts';

/**
 * The object-storage key layout: the only place keys are built. Every driver validates keys with
 * `validateKey`, so a key that could escape a folder (fs) or alias another object never reaches one.
 *
 * ```
 * uploads/<uploadId>/<file>                          raw user uploads
 * speakers/<speakerId>/videos/<videoId>/<file>       source media, extracted 16 kHz audio
 * speakers/<speakerId>/samples/<shard>               training windows packed into shards
 * runs/<runId>/checkpoints/<step>/<file>             model + optimizer state
 * results/<resultId>/<file>                          predicted poses
 * renders/<renderId>/<file>                          videos and previews
 * ```
 */

/** S3's limit on a key, in UTF-8 bytes. */
export const MAX_KEY_BYTES = 1024;
/** Most filesystems' limit on one path component, in bytes. */
export const MAX_SEGMENT_BYTES = 255;
/** Checkpoint steps are zero-padded so that key order is step order. */
const STEP_DIGITS = 12;

// Control characters break HTTP headers, XML listings and terminals.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;

function invalid(key: unknown, reason: string): S2gError {
  return new S2gError(ErrorCode.STORAGE_KEY_INVALID, `invalid storage key ${JSON.stringify(key)}: ${reason}`, {
    key: typeof key === 'string' ? key.slice(0, 200) : String(key),
    reason,
  });
}

/** Returns `key` unchanged when it is a valid object key; throws S2gError(STORAGE_KEY_INVALID) otherwise. */
export function validateKey(key: string): string {
  if (typeof key !== 'string' || key.length === 0) throw invalid(key, 'empty');
  if (Buffer.byteLength(key, 'utf8') > MAX_KEY_BYTES) throw invalid(key, `longer than ${MAX_KEY_BYTES} bytes`);
  // Lone surrogates do not survive UTF-8 (S3 and filesystems would store a different key).
  if (Buffer.from(key, 'utf8').toString('utf8') !== key) throw invalid(key, 'not well-formed Unicode');
  if (CONTROL.test(key)) throw invalid(key, 'contains a control character');
  if (key.includes('\\')) throw invalid(key, 'contains a backslash');
  if (key.startsWith('/')) throw invalid(key, 'absolute path');
  if (key.endsWith('/')) throw invalid(key, 'ends with "/"');
  for (const segment of key.split('/')) {
    if (segment.length === 0) throw invalid(key, 'empty segment');
    if (segment === '.' || segment === '..') throw invalid(key, `"${segment}" segment`);
    if (Buffer.byteLength(segment, 'utf8') > MAX_SEGMENT_BYTES) throw invalid(key, `segment longer than ${MAX_SEGMENT_BYTES} bytes`);
  }
  return key;
}

/**
 * Normalises a listing prefix to folder form: `''` (everything) or `a/b/`. Prefixes are folders,
 * never partial names, so `runs/1` can never reach `runs/10/...` (which matters most for deletePrefix).
 */
export function normalizePrefix(prefix: string): string {
  if (prefix === '') return '';
  const bare = prefix.endsWith('/') ? prefix.slice(0, -1) : prefix;
  return `${validateKey(bare)}/`;
}

/** One path segment (an id or a shard name): no `/`, and valid on its own. */
function segment(value: string, what: string): string {
  if (typeof value !== 'string' || value.includes('/')) throw invalid(value, `${what} must be a single path segment`);
  validateKey(value);
  return value;
}

/** A file name below an owner's folder; may contain `/` for nested files. */
function file(value: string): string {
  return validateKey(value);
}

function step(value: number): string {
  if (!Number.isSafeInteger(value) || value < 0 || String(value).length > STEP_DIGITS) {
    throw invalid(String(value), 'checkpoint step must be a non-negative integer');
  }
  return String(value).padStart(STEP_DIGITS, '0');
}

function join(...parts: string[]): string {
  return validateKey(parts.join('/'));
}

/** Builders of every key and owner prefix. Prefixes end with `/`. */
export const StorageKeys = {
  uploadPrefix: (uploadId: string): string => `${join('uploads', segment(uploadId, 'upload id'))}/`,
  upload: (uploadId: string, fileName: string): string => join('uploads', segment(uploadId, 'upload id'), file(fileName)),

  speakerPrefix: (speakerId: string): string => `${join('speakers', segment(speakerId, 'speaker id'))}/`,
  videoPrefix: (speakerId: string, videoId: string): string =>
    `${join('speakers', segment(speakerId, 'speaker id'), 'videos', segment(videoId, 'video id'))}/`,
  video: (speakerId: string, videoId: string, fileName: string): string =>
    join('speakers', segment(speakerId, 'speaker id'), 'videos', segment(videoId, 'video id'), file(fileName)),
  samplesPrefix: (speakerId: string): string => `${join('speakers', segment(speakerId, 'speaker id'), 'samples')}/`,
  shard: (speakerId: string, shardName: string): string =>
    join('speakers', segment(speakerId, 'speaker id'), 'samples', segment(shardName, 'shard name')),

  runPrefix: (runId: string): string => `${join('runs', segment(runId, 'run id'))}/`,
  checkpointsPrefix: (runId: string): string => `${join('runs', segment(runId, 'run id'), 'checkpoints')}/`,
  checkpointPrefix: (runId: string, checkpointStep: number): string =>
    `${join('runs', segment(runId, 'run id'), 'checkpoints', step(checkpointStep))}/`,
  checkpoint: (runId: string, checkpointStep: number, fileName: string): string =>
    join('runs', segment(runId, 'run id'), 'checkpoints', step(checkpointStep), file(fileName)),

  resultPrefix: (resultId: string): string => `${join('results', segment(resultId, 'result id'))}/`,
  result: (resultId: string, fileName: string): string => join('results', segment(resultId, 'result id'), file(fileName)),

  renderPrefix: (renderId: string): string => `${join('renders', segment(renderId, 'render id'))}/`,
  render: (renderId: string, fileName: string): string => join('renders', segment(renderId, 'render id'), file(fileName)),
} as const;

/** The step of a checkpoint key or prefix built by StorageKeys, or null for any other key. */
export function parseCheckpointStep(key: string): number | null {
  const match = /^runs\/[^/]+\/checkpoints\/(\d+)(\/|$)/.exec(key);
  return match ? Number(match[1]) : null;
}
