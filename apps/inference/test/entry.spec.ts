/**
 * The built entry point as it runs in production: bundle it, start it as a child process, probe its
 * health endpoints, stop it with SIGTERM.
 */
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type AppRun, buildApp, runApp } from '@s2g/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const APP = 'inference';
let dataDir: string;

function run(args: string[], env: Record<string, string>, whileRunning?: (ready: { port: number }) => Promise<void>): Promise<AppRun> {
  return runApp({ app: APP, args, env, dataDir, ...(whileRunning ? { whileRunning } : {}) });
}

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), `s2g-${APP}-entry-`));
  // mkdtemp makes the folder 0700; a DATA_DIR made with mkdir is 0755, which the embedded Postgres
  // needs when it runs as its own OS user (the service started as root).
  await chmod(dataDir, 0o755);
  await buildApp(APP);
});

afterAll(async () => {
  await rm(dataDir, { recursive: true, force: true });
});

describe(`${APP} entry point`, () => {
  it('prints usage with every environment variable for --help and exits 0', async () => {
    const r = await run(['--help'], {});
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`Usage: s2g-${APP}`);
    for (const name of ['S2G_MODE', 'DATA_DIR', 'DATABASE_URL', 'NATS_URL', 'S3_ENDPOINT', 'HTTP_PORT', 'LOG_LEVEL', 'INFERENCE_MAX_AUDIO_SECONDS', 'INFERENCE_MODEL_CACHE_SIZE', 'INFERENCE_WINDOW_FRAMES', 'INFERENCE_WINDOW_OVERLAP_FRAMES']) expect(r.stdout).toContain(name);
  });

  it('serves /healthz and /readyz, then exits 0 within seconds of SIGTERM', async () => {
    const r = await run([], {}, async ({ port }) => {
      const health = await fetch(`http://127.0.0.1:${port}/healthz`);
      expect(health.status).toBe(200);
      expect(await health.json()).toMatchObject({ status: 'ok', service: APP });
      const ready = await fetch(`http://127.0.0.1:${port}/readyz`);
      expect(ready.status).toBe(200);
      expect(await ready.json()).toMatchObject({ status: 'ready', checks: { bus: { ok: true } } });
      expect((await fetch(`http://127.0.0.1:${port}/metrics`)).status).toBe(200);
    });
    expect(r.code).toBe(0);
    expect(r.stopMs).toBeLessThan(5000);
    expect(r.stdout).toContain(`"msg":"${APP} stopped"`);
  });

  it('refuses an invalid configuration with every problem and exit code 78', async () => {
    const r = await run([], { S2G_MODE: 'distributed', LOG_LEVEL: 'chatty', INFERENCE_WINDOW_FRAMES: '128', INFERENCE_WINDOW_OVERLAP_FRAMES: '64' });
    expect(r.code).toBe(78);
    for (const name of ['LOG_LEVEL', 'DATABASE_URL', 'NATS_URL', 'S3_ENDPOINT', 'INFERENCE_WINDOW_OVERLAP_FRAMES']) expect(r.stderr).toMatch(new RegExp(`^  ${name}: `, 'm'));
  });
});
