import { ErrorCode, S2gError } from '@s2g/contracts';
import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { envVar, loadConfig } from './define';
import { envHelpText, envMarkdownTable } from './docs';
import { extendConfig, sharedConfig } from './shared';

function configError(fn: () => unknown): S2gError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(S2gError);
    expect((e as S2gError).code).toBe(ErrorCode.CONFIG_INVALID);
    return e as S2gError;
  }
  throw new Error('expected CONFIG_INVALID');
}

const distributed = {
  S2G_MODE: 'distributed',
  DATABASE_URL: 'postgres://s2g:pw@db:5432/s2g',
  NATS_URL: 'nats://n1:4222, nats://n2:4222',
  S3_ENDPOINT: 'http://minio:9000',
  S3_ACCESS_KEY: 'ak',
  S3_SECRET_KEY: 'sk',
};

describe('shared config', () => {
  it('needs nothing in embedded mode and fills defaults', () => {
    const c = loadConfig(sharedConfig, {});
    expect(c).toEqual({
      mode: 'embedded',
      dataDir: resolve('./data'),
      database: null,
      nats: null,
      s3: null,
      http: { host: '0.0.0.0', port: 8080 },
      log: { level: 'info' },
      media: { ffmpegPath: null, ffprobePath: null },
      tensor: { backend: 'auto', wasmThreads: 1, native: { enabled: true, threads: null } },
      shutdownTimeoutMs: 25_000,
    });
  });

  it('maps a distributed environment to the nested config', () => {
    const c = loadConfig(sharedConfig, { ...distributed, HTTP_PORT: '9000', LOG_LEVEL: 'debug', TF_BACKEND: 'wasm', DATA_DIR: '/var/s2g', FFMPEG_PATH: '/usr/bin/ffmpeg' });
    expect(c.mode).toBe('distributed');
    expect(c.nats).toEqual({ servers: ['nats://n1:4222', 'nats://n2:4222'] });
    expect(loadConfig(sharedConfig, { ...distributed, NATS_NAMESPACE: 'staging' }).nats?.namespace).toBe('staging');
    expect(c.database).toEqual({ url: distributed.DATABASE_URL });
    expect(c.s3).toEqual({ endpoint: 'http://minio:9000', accessKey: 'ak', secretKey: 'sk', bucket: 's2g', region: 'us-east-1' });
    expect(c.http.port).toBe(9000);
    expect(c.tensor.backend).toBe('wasm');
    expect(c.dataDir).toBe('/var/s2g');
    expect(c.media.ffmpegPath).toBe('/usr/bin/ffmpeg');
  });

  it('lists every missing variable of distributed mode, one line each', () => {
    const e = configError(() => loadConfig(sharedConfig, { S2G_MODE: 'distributed' }));
    const lines = e.message.split('\n').slice(1);
    expect(lines.map((l) => l.trim().split(':')[0]).sort()).toEqual(['DATABASE_URL', 'NATS_URL', 'S3_ACCESS_KEY', 'S3_ENDPOINT', 'S3_SECRET_KEY']);
    expect(e.message).toContain('NATS_URL: is required when S2G_MODE=distributed');
  });

  it('reports bad values together with missing ones and never echoes secrets', () => {
    const e = configError(() =>
      loadConfig(sharedConfig, { ...distributed, DATABASE_URL: 'mysql://root:hunter2@db/x', HTTP_PORT: 'eighty', LOG_LEVEL: 'loud', NATS_URL: undefined, S3_BUCKET: 'Bad_Bucket' }),
    );
    const vars = e.message.split('\n').slice(1).map((l) => l.trim().split(':')[0]);
    expect(vars.sort()).toEqual(['DATABASE_URL', 'HTTP_PORT', 'LOG_LEVEL', 'NATS_URL', 'S3_BUCKET']);
    expect(e.message).toContain('(got "eighty")');
    expect(e.message).not.toContain('hunter2');
    expect((e.details?.problems as unknown[]).length).toBe(5);
  });

  it('treats empty values as unset', () => {
    expect(loadConfig(sharedConfig, { HTTP_PORT: '', S2G_MODE: '' }).http.port).toBe(8080);
    const e = configError(() => loadConfig(sharedConfig, { ...distributed, NATS_URL: '' }));
    expect(e.message).toContain('NATS_URL: is required');
  });

  it('refuses a partial S3 setting in embedded mode instead of ignoring it', () => {
    const e = configError(() => loadConfig(sharedConfig, { S3_BUCKET: 'media' }));
    expect(e.message).toContain('S3_ENDPOINT: is required when any S3 variable is set (S3_BUCKET)');
    const c = loadConfig(sharedConfig, { S3_ENDPOINT: 'https://s3.example.com', S3_ACCESS_KEY: 'a', S3_SECRET_KEY: 'b' });
    expect(c.mode).toBe('embedded');
    expect(c.s3?.endpoint).toBe('https://s3.example.com');
  });

  it('refuses a NATS namespace without NATS', () => {
    expect(configError(() => loadConfig(sharedConfig, { NATS_NAMESPACE: 'x' })).message).toContain('NATS_NAMESPACE: has no effect without NATS_URL');
    expect(configError(() => loadConfig(sharedConfig, { NATS_URL: 'nats://a:4222', NATS_NAMESPACE: 'a.b' })).message).toContain('NATS_NAMESPACE: must be letters');
  });

  it('rejects malformed NATS URLs', () => {
    const e = configError(() => loadConfig(sharedConfig, { NATS_URL: 'nats://ok:4222,http://a b' }));
    expect(e.message).toContain('NATS_URL: must be one or more comma-separated NATS server URLs');
  });
});

describe('service-specific config', () => {
  const trainer = extendConfig(
    { TRAINER_CONCURRENCY: envVar(z.coerce.number().int().min(1).default(1), { description: 'Runs trained at once.' }), TRAINER_TOKEN: envVar(z.string(), { description: 'x', secret: true }) },
    (v) => ({ trainer: { concurrency: v.TRAINER_CONCURRENCY, token: v.TRAINER_TOKEN } }),
  );

  it('adds its own variables to the shared ones', () => {
    const c = loadConfig(trainer, { TRAINER_TOKEN: 't', TRAINER_CONCURRENCY: '3' });
    expect(c.trainer).toEqual({ concurrency: 3, token: 't' });
    expect(c.mode).toBe('embedded');
    expect(trainer.vars.map((v) => v.name)).toContain('TRAINER_CONCURRENCY');
  });

  it('reports its own problems and the shared ones together', () => {
    const e = configError(() => loadConfig(trainer, { S2G_MODE: 'distributed', TRAINER_CONCURRENCY: '0' }));
    const vars = e.message.split('\n').slice(1).map((l) => l.trim().split(':')[0]);
    expect(vars).toEqual(expect.arrayContaining(['TRAINER_CONCURRENCY', 'TRAINER_TOKEN', 'NATS_URL', 'DATABASE_URL']));
    expect(e.message).toContain('TRAINER_TOKEN: is required');
  });

  it('accepts a bare zod schema', () => {
    const schema = z.object({ PORT: z.coerce.number().int() });
    expect(loadConfig(schema, { PORT: '5' })).toEqual({ PORT: 5 });
    expect(configError(() => loadConfig(schema, { PORT: 'x' })).message).toMatch(/PORT: .*number/);
  });
});

describe('documentation', () => {
  it('prints every variable in --help text', () => {
    const text = envHelpText(sharedConfig.vars);
    for (const v of sharedConfig.vars) expect(text).toContain(v.name);
    expect(text).toContain('HTTP_PORT (default 8080)');
    expect(text).toContain('NATS_URL (required when S2G_MODE=distributed)');
  });

  // The table in docs/CONFIG.md is generated from the declarations; UPDATE_DOCS=1 rewrites it.
  it('docs/CONFIG.md documents every shared variable as declared', () => {
    const path = new URL('../../../docs/CONFIG.md', import.meta.url);
    const doc = readFileSync(path, 'utf8');
    const begin = '<!-- env-table:begin -->';
    const end = '<!-- env-table:end -->';
    const table = envMarkdownTable(sharedConfig.vars);
    const [head, rest] = doc.split(begin);
    const [current, tail] = (rest ?? '').split(end);
    expect(tail, `docs/CONFIG.md needs the markers ${begin} and ${end}`).toBeDefined();
    if (process.env.UPDATE_DOCS === '1' && current !== `\n${table}\n`) {
      writeFileSync(path, `${head}${begin}\n${table}\n${end}${tail}`);
      return;
    }
    expect(current).toBe(`\n${table}\n`);
  });
});
