import { Readable, Transform, type TransformCallback } from 'node:stream';
import { ErrorCode, S2gError } from '@s2g/contracts';
import type { ObjectBody } from './object-store';

/** Upper bound of one presigned URL's life; S3 refuses more than seven days. */
export const MAX_PRESIGN_SECONDS = 7 * 24 * 3600;

export function toBuffer(body: Buffer | Uint8Array): Buffer {
  return Buffer.isBuffer(body) ? body : Buffer.from(body.buffer, body.byteOffset, body.byteLength);
}

export function isStream(body: ObjectBody): body is Readable {
  // Any Node readable (an http request, a stream from another copy of the stream module) counts.
  return body instanceof Readable || !(body instanceof Uint8Array);
}

/** The size a put will write, checking the caller's size against a buffer and demanding one for a stream. */
export function resolveSize(key: string, body: ObjectBody, size: number | undefined): number {
  if (size !== undefined && (!Number.isSafeInteger(size) || size < 0)) {
    throw new S2gError(ErrorCode.BAD_USER_INPUT, `put ${key}: size must be a non-negative integer, got ${size}`);
  }
  if (isStream(body)) {
    if (size === undefined) throw new S2gError(ErrorCode.BAD_USER_INPUT, `put ${key}: a stream needs its size`);
    return size;
  }
  const length = body.byteLength;
  if (size !== undefined && size !== length) throw sizeMismatch(key, size, length);
  return length;
}

export function sizeMismatch(key: string, expected: number, actual: number, atLeast = false): S2gError {
  return new S2gError(
    ErrorCode.STORAGE_SIZE_MISMATCH,
    `put ${key}: expected ${expected} bytes, got ${atLeast ? 'more than ' : ''}${actual}`,
    { key, expected, actual },
  );
}

/** Passes bytes through and fails the stream as soon as its length cannot be `expected`. */
export function sizeGuard(key: string, expected: number): Transform {
  let seen = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback) {
      seen += chunk.length;
      if (seen > expected) callback(sizeMismatch(key, expected, expected, true));
      else callback(null, chunk);
    },
    flush(callback: TransformCallback) {
      callback(seen === expected ? null : sizeMismatch(key, expected, seen));
    },
  });
}

export async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array));
  return Buffer.concat(chunks);
}

export function checkExpiry(expirySeconds: number): number {
  if (!Number.isInteger(expirySeconds) || expirySeconds < 1 || expirySeconds > MAX_PRESIGN_SECONDS) {
    throw new S2gError(ErrorCode.BAD_USER_INPUT, `presigned URL expiry must be 1..${MAX_PRESIGN_SECONDS} seconds, got ${expirySeconds}`);
  }
  return expirySeconds;
}

const TYPES: Record<string, string> = {
  json: 'application/json',
  bin: 'application/octet-stream',
  npz: 'application/octet-stream',
  npy: 'application/octet-stream',
  txt: 'text/plain; charset=utf-8',
  csv: 'text/csv; charset=utf-8',
  wav: 'audio/wav',
  mp3: 'audio/mpeg',
  m4a: 'audio/mp4',
  flac: 'audio/flac',
  ogg: 'audio/ogg',
  mp4: 'video/mp4',
  webm: 'video/webm',
  mov: 'video/quicktime',
  mkv: 'video/x-matroska',
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  gif: 'image/gif',
  webp: 'image/webp',
  tar: 'application/x-tar',
  gz: 'application/gzip',
  zip: 'application/zip',
};

/** A content type from a key's extension; the filesystem driver keeps no metadata beside the bytes. */
export function contentTypeOf(key: string): string {
  const dot = key.lastIndexOf('.');
  const slash = key.lastIndexOf('/');
  if (dot <= slash + 1) return 'application/octet-stream';
  return TYPES[key.slice(dot + 1).toLowerCase()] ?? 'application/octet-stream';
}
