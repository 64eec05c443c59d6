import { FsObjectStore } from './fs-object-store';
import type { ObjectStore } from './object-store';
import { S3ObjectStore } from './s3-object-store';

export type ObjectStoreConfig =
  | {
      driver: 'fs';
      /** Folder of the store (embedded mode: under the data folder). */
      root: string;
      /** Where the gateway serves handlePresignedRequest, e.g. `http://localhost:4000/files`. */
      publicBaseUrl?: string;
      signingSecret?: string;
    }
  | {
      driver: 's3';
      /** `http(s)://<accessKey>:<secretKey>@<host>:<port>/<bucket>[?region=..]` (see parseS3Url). */
      url: string;
      /** Endpoint for presigned URLs when clients reach storage at another address than services do. */
      publicUrl?: string;
    };

/** The store named by configuration; call `ensureReady()` before first use. */
export function createObjectStore(config: ObjectStoreConfig): ObjectStore {
  switch (config.driver) {
    case 'fs':
      return new FsObjectStore({ root: config.root, publicBaseUrl: config.publicBaseUrl, signingSecret: config.signingSecret });
    case 's3':
      return S3ObjectStore.fromUrl(config.url, { publicUrl: config.publicUrl });
  }
}
