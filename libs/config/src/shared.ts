/**
 * The variables every service reads. Documented in docs/CONFIG.md (a test keeps it in sync).
 */
import { TENSOR_BACKENDS } from '@s2g/contracts';
import { resolve } from 'node:path';
import { z } from 'zod';
import { type ConfigDefinition, type ConfigRule, defineConfig, type EnvValues, envVar, type EnvVars } from './define';

export const S2G_MODES = ['embedded', 'distributed'] as const;
export type S2gMode = (typeof S2G_MODES)[number];

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export const TF_BACKEND_CHOICES = ['auto', ...TENSOR_BACKENDS] as const;
export type TfBackendChoice = (typeof TF_BACKEND_CHOICES)[number];

const natsServer = /^((nats|tls|ws|wss):\/\/)?([^\s/:@]+(:[^\s/@]*)?@)?[^\s/:@,]+(:\d{1,5})?$/;

const port = z.coerce.number().int().min(0).max(65535);

export const SHARED_ENV = {
  S2G_MODE: envVar(z.enum(S2G_MODES).default('embedded'), {
    description:
      '`embedded`: every service in one process with an embedded Postgres, the in-process bus and a filesystem object store. `distributed`: each service on its own, with NATS, Postgres and S3 given by URL.',
  }),
  DATA_DIR: envVar(z.string().default('./data'), {
    description: 'Folder for everything kept locally: the embedded database, the filesystem object store, caches. Resolved against the working directory.',
  }),
  DATABASE_URL: envVar(z.url({ protocol: /^postgres(ql)?$/, error: 'must be a postgres:// or postgresql:// URL' }).optional(), {
    description: 'Postgres connection URL. When unset in embedded mode, an embedded Postgres runs under DATA_DIR.',
    requiredWhen: 'S2G_MODE=distributed',
    secret: true,
    example: 'postgres://s2g:secret@db:5432/s2g',
  }),
  NATS_URL: envVar(
    z
      .string()
      .transform((v) => v.split(',').map((s) => s.trim()))
      .refine((servers) => servers.every((s) => natsServer.test(s)), 'must be one or more comma-separated NATS server URLs (nats://host:4222)')
      .optional(),
    {
      description: 'NATS server(s) with JetStream, comma-separated. When unset in embedded mode, the in-process bus is used.',
      requiredWhen: 'S2G_MODE=distributed',
      secret: true,
      example: 'nats://nats:4222',
    },
  ),
  NATS_NAMESPACE: envVar(
    z
      .string()
      .regex(/^[A-Za-z0-9_-]+$/, 'must be letters, digits, _ or -')
      .optional(),
    {
      description: 'Prefix of every subject and stream on NATS, so several deployments (or test runs) can share one NATS server. Every service of a deployment must use the same value.',
      example: 'staging',
    },
  ),
  S3_ENDPOINT: envVar(z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' }).optional(), {
    description: 'S3 (MinIO or any S3-compatible) endpoint. When unset in embedded mode, objects are kept under DATA_DIR.',
    requiredWhen: 'S2G_MODE=distributed, or any other S3_* variable is set',
    example: 'http://minio:9000',
  }),
  S3_ACCESS_KEY: envVar(z.string().optional(), {
    description: 'S3 access key id.',
    requiredWhen: 'S3_ENDPOINT is set',
    secret: true,
  }),
  S3_SECRET_KEY: envVar(z.string().optional(), {
    description: 'S3 secret access key.',
    requiredWhen: 'S3_ENDPOINT is set',
    secret: true,
  }),
  S3_BUCKET: envVar(
    z
      .string()
      .regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'must be a valid bucket name (3-63 characters: a-z, 0-9, dot, hyphen)')
      .default('s2g'),
    { description: 'The one bucket holding every object (keys are prefixed by owner: uploads/, speakers/, runs/, results/, renders/).' },
  ),
  S3_REGION: envVar(z.string().default('us-east-1'), { description: 'S3 region (MinIO accepts any).' }),
  HTTP_HOST: envVar(z.string().default('0.0.0.0'), { description: 'Address the HTTP server (API, /healthz, /readyz, /metrics) listens on.' }),
  HTTP_PORT: envVar(port.default(8080), { description: 'Port of the HTTP server (API, /healthz, /readyz, /metrics); 0 picks a free one.' }),
  LOG_LEVEL: envVar(z.enum(LOG_LEVELS).default('info'), { description: 'Least severe log level written (JSON lines on stdout).' }),
  FFMPEG_PATH: envVar(z.string().optional(), {
    description: 'ffmpeg binary to use. When unset, the one shipped by @ffmpeg-installer/ffmpeg.',
    example: '/usr/bin/ffmpeg',
  }),
  FFPROBE_PATH: envVar(z.string().optional(), {
    description: 'ffprobe binary to use. When unset, the one shipped by @ffprobe-installer/ffprobe.',
    example: '/usr/bin/ffprobe',
  }),
  TF_BACKEND: envVar(z.enum(TF_BACKEND_CHOICES).default('auto'), {
    description: 'Tensor backend. `auto` picks the best that loads: tfjs-node-gpu, then tfjs-node, wasm, cpu. Naming one fails start-up if it cannot load.',
  }),
  TF_WASM_THREADS: envVar(z.coerce.number().int().min(1).max(8).default(1), {
    description:
      'Threads of the wasm backend (its threaded SIMD build on worker_threads above 1). Leave at 1 where the native kernels run: they use every core themselves.',
  }),
  S2G_NATIVE: envVar(z.enum(['auto', 'off']).default('auto'), {
    description:
      'Native CPU kernels on the wasm backend (@s2g/native, compiled at install when a C++ compiler is present): `auto` uses them when built, `off` never.',
  }),
  S2G_NATIVE_THREADS: envVar(z.coerce.number().int().min(1).max(256).optional(), {
    description: 'Threads of the native kernels. When unset, one per CPU.',
    example: '2',
  }),
  SHUTDOWN_TIMEOUT_MS: envVar(z.coerce.number().int().min(0).max(3_600_000).default(25_000), {
    description: 'On SIGTERM, how long in-flight work may run before the process exits anyway (unfinished jobs are redelivered). Keep it below the orchestrator grace period.',
  }),
} satisfies EnvVars;

export type SharedEnv = typeof SHARED_ENV;

export interface TensorConfig {
  backend: TfBackendChoice;
  wasmThreads: number;
  /** threads null: one per CPU. */
  native: { enabled: boolean; threads: number | null };
}

export interface S3Config {
  endpoint: string;
  accessKey: string;
  secretKey: string;
  bucket: string;
  region: string;
}

/** The typed config every service shares. `null` means "use the embedded replacement". */
export interface SharedConfig {
  mode: S2gMode;
  /** Absolute path. */
  dataDir: string;
  database: { url: string } | null;
  nats: { servers: string[]; namespace?: string } | null;
  s3: S3Config | null;
  http: { host: string; port: number };
  log: { level: LogLevel };
  media: { ffmpegPath: string | null; ffprobePath: string | null };
  tensor: TensorConfig;
  shutdownTimeoutMs: number;
}

export function mapSharedConfig(v: EnvValues<SharedEnv>): SharedConfig {
  return {
    mode: v.S2G_MODE,
    dataDir: resolve(v.DATA_DIR),
    database: v.DATABASE_URL ? { url: v.DATABASE_URL } : null,
    nats: v.NATS_URL ? { servers: v.NATS_URL, ...(v.NATS_NAMESPACE ? { namespace: v.NATS_NAMESPACE } : {}) } : null,
    s3:
      v.S3_ENDPOINT && v.S3_ACCESS_KEY && v.S3_SECRET_KEY
        ? { endpoint: v.S3_ENDPOINT, accessKey: v.S3_ACCESS_KEY, secretKey: v.S3_SECRET_KEY, bucket: v.S3_BUCKET, region: v.S3_REGION }
        : null,
    http: { host: v.HTTP_HOST, port: v.HTTP_PORT },
    log: { level: v.LOG_LEVEL },
    media: { ffmpegPath: v.FFMPEG_PATH ?? null, ffprobePath: v.FFPROBE_PATH ?? null },
    tensor: {
      backend: v.TF_BACKEND,
      wasmThreads: v.TF_WASM_THREADS,
      native: { enabled: v.S2G_NATIVE === 'auto', threads: v.S2G_NATIVE_THREADS ?? null },
    },
    shutdownTimeoutMs: v.SHUTDOWN_TIMEOUT_MS,
  };
}

const S3_VARS = ['S3_ENDPOINT', 'S3_ACCESS_KEY', 'S3_SECRET_KEY', 'S3_BUCKET', 'S3_REGION'] as const;

/** Distributed mode has no embedded replacements; a partial S3 setting would otherwise be ignored. */
export const sharedRules: readonly ConfigRule<SharedEnv>[] = [
  (values, raw, report) => {
    const distributed = values.S2G_MODE === 'distributed';
    for (const name of ['DATABASE_URL', 'NATS_URL'] as const) {
      if (distributed && raw[name] === undefined) report(name, 'is required when S2G_MODE=distributed');
    }
    if (raw.NATS_NAMESPACE !== undefined && raw.NATS_URL === undefined) report('NATS_NAMESPACE', 'has no effect without NATS_URL');
    const s3Set = S3_VARS.filter((name) => raw[name] !== undefined);
    if (distributed || s3Set.length > 0) {
      const why = distributed ? 'when S2G_MODE=distributed' : `when any S3 variable is set (${s3Set.join(', ')})`;
      for (const name of ['S3_ENDPOINT', 'S3_ACCESS_KEY', 'S3_SECRET_KEY'] as const) {
        if (raw[name] === undefined) report(name, `is required ${why}`);
      }
    }
  },
];

/** The shared configuration alone (services without variables of their own). */
export const sharedConfig: ConfigDefinition<SharedConfig> = defineConfig(SHARED_ENV, mapSharedConfig, sharedRules);

/**
 * A service's configuration: the shared variables plus its own, mapped to `SharedConfig & X`.
 * Example: `extendConfig({ TRAINER_CONCURRENCY: envVar(z.coerce.number().int().min(1).default(1), {...}) },
 * (v) => ({ trainer: { concurrency: v.TRAINER_CONCURRENCY } }))`.
 */
export function extendConfig<V extends EnvVars, X extends object>(
  vars: V,
  map: (values: EnvValues<SharedEnv & V>) => X,
  rules: readonly ConfigRule<SharedEnv & V>[] = [],
): ConfigDefinition<SharedConfig & X> {
  const all = { ...SHARED_ENV, ...vars } as SharedEnv & V;
  return defineConfig(all, (values) => ({ ...mapSharedConfig(values), ...map(values) }), [...(sharedRules as readonly ConfigRule<SharedEnv & V>[]), ...rules]);
}
