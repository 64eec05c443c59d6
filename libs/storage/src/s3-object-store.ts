import { pipeline, type Readable } from 'node:stream';
import { Client } from 'minio';
import { ErrorCode, S2gError } from '@s2g/contracts';
import { checkExpiry, isStream, readAll, resolveSize, sizeGuard, toBuffer } from './body';
import { normalizePrefix, validateKey } from './keys';
import type { ObjectBody, ObjectInfo, ObjectStore, PutOptions } from './object-store';

export interface S3Location {
  endPoint: string;
  port?: number;
  useSSL: boolean;
  accessKey: string;
  secretKey: string;
  bucket: string;
  region: string;
}

export interface S3ObjectStoreOptions extends S3Location {
  /**
   * Endpoint clients reach for presigned URLs (`https://files.example.com`), when it differs from
   * the one services use (e.g. `http://minio:9000` inside a cluster). The host is part of the
   * signature, so URLs are signed by a second client configured with this endpoint.
   */
  publicUrl?: string;
}

const DEFAULT_REGION = 'us-east-1';
/** S3's largest listing page. */
const LIST_PAGE = 1000;
/** S3's limit per DeleteObjects request. */
const DELETE_BATCH = 1000;

/**
 * Parses `http(s)://<accessKey>:<secretKey>@<host>[:port]/<bucket>[?region=..]` or
 * `s3://...` (TLS unless `?ssl=false`). Credentials are percent-decoded.
 */
export function parseS3Url(url: string): S3Location {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new S2gError(ErrorCode.CONFIG_INVALID, 'object store URL is not a URL');
  }
  const scheme = parsed.protocol.replace(/:$/, '');
  if (scheme !== 'http' && scheme !== 'https' && scheme !== 's3') {
    throw new S2gError(ErrorCode.CONFIG_INVALID, `object store URL must be http://, https:// or s3://, got ${scheme}://`);
  }
  const bucket = parsed.pathname.replace(/^\/+|\/+$/g, '');
  if (!bucket || bucket.includes('/')) throw new S2gError(ErrorCode.CONFIG_INVALID, 'object store URL must name exactly one bucket as its path');
  if (!parsed.username || !parsed.password) {
    throw new S2gError(ErrorCode.CONFIG_INVALID, 'object store URL must carry credentials as <accessKey>:<secretKey>@');
  }
  const ssl = parsed.searchParams.get('ssl');
  const useSSL = scheme === 'https' || (scheme === 's3' && ssl !== 'false');
  return {
    endPoint: parsed.hostname.replace(/^\[|\]$/g, ''),
    port: parsed.port ? Number(parsed.port) : undefined,
    useSSL,
    accessKey: decodeURIComponent(parsed.username),
    secretKey: decodeURIComponent(parsed.password),
    bucket,
    region: parsed.searchParams.get('region') ?? DEFAULT_REGION,
  };
}

function errorCode(e: unknown): string | undefined {
  return (e as { code?: string } | undefined)?.code;
}

const NOT_FOUND = new Set(['NoSuchKey', 'NotFound']);
const NETWORK = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'EPIPE']);

/** Store errors callers act on get codes: missing bucket and network failures are UNAVAILABLE (retry later). */
function mapError(e: unknown, what: string): unknown {
  if (e instanceof S2gError) return e;
  const code = errorCode(e);
  if (code === 'NoSuchBucket') return new S2gError(ErrorCode.UNAVAILABLE, `${what}: bucket does not exist (run ensureReady)`, undefined, { cause: e });
  if (code && NETWORK.has(code)) return new S2gError(ErrorCode.UNAVAILABLE, `${what}: object store unreachable (${code})`, undefined, { cause: e });
  return e;
}

/** S3 (any endpoint: MinIO, AWS, s3rver in tests) through the MinIO client. */
export class S3ObjectStore implements ObjectStore {
  readonly driver = 's3' as const;
  readonly bucket: string;
  private readonly client: Client;
  private readonly presigner: Client;
  private readonly region: string;

  constructor(options: S3ObjectStoreOptions) {
    this.bucket = options.bucket;
    this.region = options.region || DEFAULT_REGION;
    const credentials = { accessKey: options.accessKey, secretKey: options.secretKey, region: this.region };
    this.client = new Client({ endPoint: options.endPoint, port: options.port, useSSL: options.useSSL, ...credentials });
    if (options.publicUrl) {
      const pub = new URL(options.publicUrl);
      this.presigner = new Client({
        endPoint: pub.hostname.replace(/^\[|\]$/g, ''),
        port: pub.port ? Number(pub.port) : undefined,
        useSSL: pub.protocol === 'https:',
        ...credentials,
      });
    } else {
      this.presigner = this.client;
    }
  }

  static fromUrl(url: string, options: { publicUrl?: string } = {}): S3ObjectStore {
    return new S3ObjectStore({ ...parseS3Url(url), publicUrl: options.publicUrl });
  }

  async ensureReady(): Promise<void> {
    try {
      if (await this.client.bucketExists(this.bucket)) return;
      await this.client.makeBucket(this.bucket, this.region);
    } catch (e) {
      // Another replica created it first.
      if (errorCode(e) === 'BucketAlreadyOwnedByYou' || errorCode(e) === 'BucketAlreadyExists') return;
      throw mapError(e, `ensureReady ${this.bucket}`);
    }
  }

  async ping(): Promise<void> {
    let exists: boolean;
    try {
      exists = await this.client.bucketExists(this.bucket);
    } catch (e) {
      throw mapError(e, 'ping');
    }
    if (!exists) throw new S2gError(ErrorCode.UNAVAILABLE, `bucket ${this.bucket} does not exist`);
  }

  async put(key: string, body: ObjectBody, size?: number, options: PutOptions = {}): Promise<void> {
    validateKey(key);
    const length = resolveSize(key, body, size);
    const metadata = { 'Content-Type': options.contentType ?? 'application/octet-stream' };
    try {
      if (isStream(body)) {
        // The size goes to S3 as Content-Length (no multipart needed up to the client's part size);
        // the guard fails the upload if the stream disagrees, so no truncated object is stored.
        const guarded = pipeline(body, sizeGuard(key, length), () => undefined);
        await this.client.putObject(this.bucket, key, guarded, length, metadata);
      } else {
        await this.client.putObject(this.bucket, key, toBuffer(body), length, metadata);
      }
    } catch (e) {
      throw mapError(e, `put ${key}`);
    }
  }

  async get(key: string): Promise<Readable> {
    validateKey(key);
    try {
      return await this.client.getObject(this.bucket, key);
    } catch (e) {
      if (NOT_FOUND.has(errorCode(e) ?? '')) throw new S2gError(ErrorCode.STORAGE_NOT_FOUND, `object not found: ${key}`, { key });
      throw mapError(e, `get ${key}`);
    }
  }

  async getBuffer(key: string): Promise<Buffer> {
    return readAll(await this.get(key));
  }

  async stat(key: string): Promise<ObjectInfo | null> {
    validateKey(key);
    try {
      const info = await this.client.statObject(this.bucket, key);
      const contentType = (info.metaData as Record<string, unknown>)['content-type'];
      return {
        key,
        size: info.size,
        lastModified: info.lastModified,
        ...(typeof contentType === 'string' ? { contentType } : {}),
      };
    } catch (e) {
      if (NOT_FOUND.has(errorCode(e) ?? '')) return null;
      throw mapError(e, `stat ${key}`);
    }
  }

  async *list(prefix: string): AsyncIterable<ObjectInfo> {
    const folder = normalizePrefix(prefix);
    let token = '';
    for (;;) {
      let page;
      try {
        page = await this.client.listObjectsV2Query(this.bucket, folder, token, '', LIST_PAGE, '');
      } catch (e) {
        throw mapError(e, `list ${folder}`);
      }
      const items: ObjectInfo[] = [];
      for (const item of page.objects) {
        if (item.name === undefined) continue;
        items.push({ key: item.name, size: item.size, lastModified: item.lastModified });
      }
      // S3 returns each page in key order; some compatible servers (s3rver) return folder order.
      // Sorting a page costs nothing on a conforming server and keeps small listings right on others.
      items.sort((a, b) => Buffer.compare(Buffer.from(a.key), Buffer.from(b.key)));
      yield* items;
      if (!page.isTruncated || !page.nextContinuationToken) return;
      token = page.nextContinuationToken;
    }
  }

  async delete(key: string): Promise<void> {
    validateKey(key);
    try {
      await this.client.removeObject(this.bucket, key);
    } catch (e) {
      if (NOT_FOUND.has(errorCode(e) ?? '')) return;
      throw mapError(e, `delete ${key}`);
    }
  }

  async deletePrefix(prefix: string): Promise<number> {
    const keys: string[] = [];
    for await (const info of this.list(prefix)) keys.push(info.key);
    for (let i = 0; i < keys.length; i += DELETE_BATCH) {
      const batch = keys.slice(i, i + DELETE_BATCH);
      let results;
      try {
        results = await this.client.removeObjects(this.bucket, batch);
      } catch (e) {
        throw mapError(e, `deletePrefix ${prefix}`);
      }
      const failed = results.filter((r) => r && r.Error && !NOT_FOUND.has(r.Error.Code ?? ''));
      if (failed.length > 0) {
        const first = failed[0]?.Error;
        throw new S2gError(ErrorCode.INTERNAL, `deletePrefix ${prefix}: ${failed.length} objects not deleted (${first?.Code}: ${first?.Message})`);
      }
    }
    return keys.length;
  }

  async presignedPut(key: string, expirySeconds: number): Promise<string> {
    validateKey(key);
    return this.presigner.presignedPutObject(this.bucket, key, checkExpiry(expirySeconds));
  }

  async presignedGet(key: string, expirySeconds: number): Promise<string> {
    validateKey(key);
    return this.presigner.presignedGetObject(this.bucket, key, checkExpiry(expirySeconds));
  }
}
