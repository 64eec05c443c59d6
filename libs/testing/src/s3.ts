import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { freePort } from './ports';
import { tempDir } from './temp';

/** The part of s3rver 3.7 (a CommonJS package without types) used here. */
interface S3rverServer {
  run(): Promise<AddressInfo>;
  close(): Promise<void>;
}
type S3rverClass = new (options: {
  address: string;
  port: number;
  silent: boolean;
  directory: string;
  vhostBuckets: boolean;
}) => S3rverServer;

// Loaded through require so that every consumer's type check works without an ambient declaration.
const S3rver = createRequire(import.meta.url)('s3rver') as S3rverClass;

export interface TestS3 {
  /** `http://127.0.0.1:<port>` */
  readonly endpoint: string;
  readonly accessKey: string;
  readonly secretKey: string;
  /** A bucket name no other call returned; it is not created (the store's ensureReady does that). */
  readonly bucket: string;
  /** `s3://<accessKey>:<secretKey>@127.0.0.1:<port>/<bucket>?ssl=false`, the form the config takes. */
  readonly url: string;
  stop(): Promise<void>;
}

/**
 * A real S3 endpoint for a test: s3rver on a free port, data in a temporary folder. s3rver has no
 * multipart upload, so callers must always pass object sizes (and keep objects under 64 MiB).
 */
export async function testS3(): Promise<TestS3> {
  const dir = await tempDir('s3');
  const port = await freePort();
  // s3rver only accepts its fixed dummy account.
  const accessKey = 'S3RVER';
  const secretKey = 'S3RVER';
  const server = new S3rver({ address: '127.0.0.1', port, silent: true, directory: dir.path, vhostBuckets: false });
  try {
    await server.run();
  } catch (e) {
    await dir.cleanup();
    throw new Error(`testS3: s3rver could not start on port ${port}: ${(e as Error).message}`, { cause: e });
  }
  const bucket = `s2g-test-${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`;
  let stopped = false;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    accessKey,
    secretKey,
    bucket,
    url: `s3://${accessKey}:${secretKey}@127.0.0.1:${port}/${bucket}?ssl=false`,
    async stop() {
      if (stopped) return;
      stopped = true;
      await server.close();
      await dir.cleanup();
    },
  };
}
