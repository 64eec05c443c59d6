import { describe, expect, it } from 'vitest';
import { ErrorCode } from '@s2g/contracts';
import { testS3 } from '@s2g/testing';
import { createObjectStore, parseS3Url, S3ObjectStore } from '../src/index';
import { objectStoreContract } from './object-store.contract';

objectStoreContract('s3 (s3rver)', async () => {
  const s3 = await testS3();
  // The URL form testS3 hands out is the one configuration uses.
  const store = createObjectStore({ driver: 's3', url: s3.url });
  expect(store).toBeInstanceOf(S3ObjectStore);
  return { store, stop: () => s3.stop() };
}, { verifiesSignatures: false });

describe('parseS3Url', () => {
  it('reads endpoint, TLS, credentials, bucket and region', () => {
    expect(parseS3Url('http://minio:minio%2Fsecret@minio.svc:9000/s2g')).toEqual({
      endPoint: 'minio.svc',
      port: 9000,
      useSSL: false,
      accessKey: 'minio',
      secretKey: 'minio/secret',
      bucket: 's2g',
      region: 'us-east-1',
    });
    expect(parseS3Url('s3://k:s@s3.eu-west-1.amazonaws.com/data?region=eu-west-1')).toMatchObject({ useSSL: true, port: undefined, region: 'eu-west-1' });
    expect(parseS3Url('s3://k:s@host:9000/b?ssl=false').useSSL).toBe(false);
    expect(parseS3Url('https://k:s@host/b').useSSL).toBe(true);
  });

  it('rejects URLs that cannot work', () => {
    for (const url of ['nope', 'ftp://k:s@h/b', 'http://h/b', 'http://k:s@h/', 'http://k:s@h/b/c']) {
      expect(() => parseS3Url(url), url).toThrow(expect.objectContaining({ code: ErrorCode.CONFIG_INVALID }));
    }
  });
});

describe('S3ObjectStore', () => {
  it('signs presigned URLs for the public endpoint when one is given', async () => {
    const store = new S3ObjectStore({ ...parseS3Url('http://k:s@minio:9000/bucket'), publicUrl: 'https://files.example.com' });
    const url = new URL(await store.presignedGet('results/r1/pose.json', 60));
    expect(url.origin).toBe('https://files.example.com');
    expect(url.pathname).toBe('/bucket/results/r1/pose.json');
    expect(url.searchParams.get('X-Amz-Expires')).toBe('60');
  });

  it('reports an unreachable endpoint as UNAVAILABLE', async () => {
    const store = S3ObjectStore.fromUrl('http://k:s@127.0.0.1:1/bucket');
    await expect(store.ping()).rejects.toMatchObject({ code: ErrorCode.UNAVAILABLE });
  });
});
