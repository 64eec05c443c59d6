/**
 * The gateway's own environment variables (on top of the shared ones). Documented in docs/API.md,
 * whose table a test keeps in sync with these declarations.
 */
import { type ConfigDefinition, envVar, extendConfig, loadConfig, type SharedConfig } from '@s2g/config';
import { z } from 'zod';

const positiveInt = z.coerce.number().int().min(1);

export const GATEWAY_ENV = {
  PUBLIC_URL: envVar(z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' }).optional(), {
    description:
      'Base URL clients reach the gateway at (a path prefix must be stripped by the proxy in front). File URLs of the filesystem object store are built from it. Default: `http://localhost:HTTP_PORT` (HTTP_HOST instead of localhost when it is a specific address).',
    example: 'https://s2g.example.com',
  }),
  API_MAX_DEPTH: envVar(positiveInt.max(50).default(10), {
    description: 'Deepest field nesting a GraphQL operation may have; deeper ones are refused with QUERY_TOO_COMPLEX.',
  }),
  API_MAX_COST: envVar(positiveInt.max(1_000_000).default(5000), {
    description:
      'Highest estimated cost of a GraphQL operation (each field costs 1; the edges of a connection count `first`/`last` times, default 20; other lists 10 times); costlier ones are refused with QUERY_TOO_COMPLEX.',
  }),
  UPLOAD_MAX_BYTES: envVar(positiveInt.default(1024 ** 3), {
    description: 'Largest file `createUpload` grants an upload URL for, and the largest body the filesystem store accepts on such a URL.',
  }),
  UPLOAD_URL_TTL_SECONDS: envVar(z.coerce.number().int().min(60).max(7 * 24 * 3600).default(900), {
    description: 'How long an upload (PUT) URL from `createUpload` stays valid.',
  }),
  DOWNLOAD_URL_TTL_SECONDS: envVar(z.coerce.number().int().min(60).max(7 * 24 * 3600).default(3600), {
    description: 'How long the download URLs in query results (videos, posters, poses, audio) stay valid.',
  }),
};

/** Limits and URLs of the API; part of GatewayConfig as `api`. */
export interface ApiConfig {
  /** Without a trailing slash; null: derived from the listening address. */
  publicUrl: string | null;
  maxDepth: number;
  maxCost: number;
  uploadMaxBytes: number;
  uploadUrlTtlSeconds: number;
  downloadUrlTtlSeconds: number;
}

export type GatewayConfig = SharedConfig & { api: ApiConfig };

export const gatewayConfig: ConfigDefinition<GatewayConfig> = extendConfig(GATEWAY_ENV, (v) => ({
  api: {
    publicUrl: v.PUBLIC_URL ? v.PUBLIC_URL.replace(/\/+$/, '') : null,
    maxDepth: v.API_MAX_DEPTH,
    maxCost: v.API_MAX_COST,
    uploadMaxBytes: v.UPLOAD_MAX_BYTES,
    uploadUrlTtlSeconds: v.UPLOAD_URL_TTL_SECONDS,
    downloadUrlTtlSeconds: v.DOWNLOAD_URL_TTL_SECONDS,
  },
}));

/** The defaults (an empty environment), for embedding the API without reading the environment. */
export const DEFAULT_API_CONFIG: ApiConfig = loadConfig(gatewayConfig, {}).api;

/** Where clients reach a server listening on `host:port` when PUBLIC_URL is not set. */
export function publicUrlFor(api: Pick<ApiConfig, 'publicUrl'>, host: string, port: number): string {
  if (api.publicUrl) return api.publicUrl;
  const wildcard = host === '0.0.0.0' || host === '::' || host === '';
  const name = wildcard ? 'localhost' : host.includes(':') ? `[${host}]` : host;
  return `http://${name}:${port}`;
}
