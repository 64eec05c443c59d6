/**
 * The built entry point as it runs in production: bundle it, start it as a child process, probe its
 * health endpoints and its API (with the local admin token it writes in embedded mode), stop it with
 * SIGTERM; and its administrative subcommands.
 */
import { chmod, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { testPostgres, type TestPostgres, type AppRun, buildApp, runApp } from '@s2g/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const APP = 'gateway';
let dataDir: string;
/** A test server's database keeps these tests independent of an embedded one under DATA_DIR (and fast). */
let postgres: TestPostgres;

function run(args: string[], env: Record<string, string>, whileRunning?: (ready: { port: number }) => Promise<void>): Promise<AppRun> {
  return runApp({ app: APP, args, env, dataDir, ...(whileRunning ? { whileRunning } : {}) });
}

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), `s2g-${APP}-entry-`));
  // mkdtemp makes the folder 0700; a DATA_DIR made with mkdir is 0755, which the embedded Postgres
  // needs when it runs as its own OS user (the service started as root).
  await chmod(dataDir, 0o755);
  postgres = await testPostgres();
  await buildApp(APP);
});

afterAll(async () => {
  await postgres?.stop();
  await rm(dataDir, { recursive: true, force: true });
});

describe(`${APP} entry point`, () => {
  it('prints usage with every environment variable for --help and exits 0', async () => {
    const r = await run(['--help'], {});
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`Usage: s2g-${APP}`);
    for (const name of ['S2G_MODE', 'DATA_DIR', 'DATABASE_URL', 'NATS_URL', 'S3_ENDPOINT', 'HTTP_PORT', 'LOG_LEVEL', 'PUBLIC_URL', 'API_MAX_DEPTH', 'API_MAX_COST', 'UPLOAD_MAX_BYTES', 'tokens create']) expect(r.stdout).toContain(name);
  });

  it('serves /healthz and /readyz, then exits 0 within seconds of SIGTERM', async () => {
    const r = await run([], { DATABASE_URL: await postgres.createDatabase('gateway_serve') }, async ({ port }) => {
      const health = await fetch(`http://127.0.0.1:${port}/healthz`);
      expect(health.status).toBe(200);
      expect(await health.json()).toMatchObject({ status: 'ok', service: APP });
      const ready = await fetch(`http://127.0.0.1:${port}/readyz`);
      expect(ready.status).toBe(200);
      expect(await ready.json()).toMatchObject({ status: 'ready', checks: { bus: { ok: true }, database: { ok: true }, storage: { ok: true } } });
      const token = (await readFile(join(dataDir, 'admin.token'), 'utf8')).trim();
      const api = await fetch(`http://127.0.0.1:${port}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({ query: '{ viewer { tokenName scopes } }' }),
      });
      expect(await api.json()).toEqual({ data: { viewer: { tokenName: 'local-admin', scopes: ['admin'] } } });
      expect((await fetch(`http://127.0.0.1:${port}/metrics`)).status).toBe(200);
    });
    expect(r.code).toBe(0);
    expect(r.stopMs).toBeLessThan(5000);
    expect(r.stdout).toContain(`"msg":"${APP} stopped"`);
  });

  it('runs the migrate and tokens subcommands and exits', async () => {
    const env = { DATABASE_URL: await postgres.createDatabase('gateway_admin') };
    const migrated = await run(['migrate'], env);
    expect(migrated.code).toBe(0);
    expect(migrated.stdout).toMatch(/^applied /m);
    const created = await run(['tokens', 'create', '--name', 'first', '--scopes', 'admin'], env);
    expect(created.code).toBe(0);
    expect(created.stdout.trim()).toMatch(/^s2g_[A-Za-z0-9_-]{43}$/);
    const listed = await run(['tokens', 'list'], env);
    expect(listed.stdout).toMatch(/\tfirst\tadmin\t/);
    expect((await run(['tokens', 'create', '--name', 'x', '--scopes', 'superuser'], env)).code).toBe(1);
  });

  it('refuses an invalid configuration with every problem and exit code 78', async () => {
    const r = await run([], { S2G_MODE: 'distributed', LOG_LEVEL: 'chatty' });
    expect(r.code).toBe(78);
    for (const name of ['LOG_LEVEL', 'DATABASE_URL', 'NATS_URL', 'S3_ENDPOINT']) expect(r.stderr).toMatch(new RegExp(`^  ${name}: `, 'm'));
  });
});
