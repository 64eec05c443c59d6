import type { Readable } from 'node:stream';

/** What a stat or a listing tells about one object. */
export interface ObjectInfo {
  key: string;
  size: number;
  lastModified: Date;
  contentType?: string;
}

export interface PutOptions {
  contentType?: string;
}

/** A body a driver accepts: bytes in memory, or a stream with its size given next to it. */
export type ObjectBody = Buffer | Uint8Array | Readable;

/**
 * The object-store port. Drivers: S3 through the MinIO client (any S3 endpoint) and the local
 * filesystem. Keys are validated by every driver (see keys.ts); all keys live in one bucket.
 * Prefixes are folders: `list('a/b')` and `list('a/b/')` both mean everything under `a/b/` and never
 * `a/bc`; `''` means everything.
 */
export interface ObjectStore {
  readonly driver: 's3' | 'fs';
  /** Creates the bucket / root folder if it does not exist. */
  ensureReady(): Promise<void>;
  /** Cheap reachability check for readiness probes. */
  ping(): Promise<void>;
  /**
   * Writes an object atomically: readers see the whole object or none. A stream needs its size
   * (S2gError(BAD_USER_INPUT) without one); a stream of another length fails with
   * S2gError(STORAGE_SIZE_MISMATCH) and leaves no object behind.
   */
  put(key: string, body: ObjectBody, size?: number, options?: PutOptions): Promise<void>;
  /** Throws S2gError(STORAGE_NOT_FOUND) when absent. */
  get(key: string): Promise<Readable>;
  /** Throws S2gError(STORAGE_NOT_FOUND) when absent. */
  getBuffer(key: string): Promise<Buffer>;
  /** null when absent. */
  stat(key: string): Promise<ObjectInfo | null>;
  /** Every object under a prefix, recursively, in key order (UTF-8 byte order, as S3 lists). */
  list(prefix: string): AsyncIterable<ObjectInfo>;
  /** Idempotent: deleting a missing key is not an error. */
  delete(key: string): Promise<void>;
  /** Deletes everything under a prefix; returns how many objects were removed. */
  deletePrefix(prefix: string): Promise<number>;
  /** A URL a client can PUT the object to without credentials, valid for `expirySeconds`. */
  presignedPut(key: string, expirySeconds: number): Promise<string>;
  /** A URL a client can GET the object from without credentials, valid for `expirySeconds`. */
  presignedGet(key: string, expirySeconds: number): Promise<string>;
}
