/**
 * The gateway's administrative subcommands against a real Postgres: migrate, then the first admin
 * token, listing and revoking tokens.
 */
import { createDataSource, Database } from '@s2g/db';
import { tempDir, type TempDir, testPostgres, type TestPostgres } from '@s2g/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isAdminCommand, runAdminCommand, TokenAuthenticator } from '../src';
import { must } from './gateway';

let pg: TestPostgres;
let dir: TempDir;
let env: NodeJS.ProcessEnv;

async function run(...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await runAdminCommand(argv, { env, stdout: (t) => (stdout += t), stderr: (t) => (stderr += t) });
  return { code, stdout, stderr };
}

beforeAll(async () => {
  pg = await testPostgres();
  dir = await tempDir('api-cli');
  env = { DATABASE_URL: await pg.createDatabase('api_cli'), DATA_DIR: dir.path };
});

afterAll(async () => {
  await pg?.stop();
  await dir?.cleanup();
});

describe('gateway admin commands', () => {
  it('are told apart from the service arguments', () => {
    expect(isAdminCommand(['tokens', 'create'])).toBe(true);
    expect(isAdminCommand(['migrate'])).toBe(true);
    expect(isAdminCommand([])).toBe(false);
    expect(isAdminCommand(['--help'])).toBe(false);
  });

  it('migrate applies the migrations once', async () => {
    const first = await run('migrate');
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/^applied /m);
    const again = await run('migrate');
    expect(again).toMatchObject({ code: 0, stdout: 'schema is up to date\n' });
  });

  it('tokens create prints only the token on stdout; it authenticates with its scopes; list and revoke work', async () => {
    const created = await run('tokens', 'create', '--name', 'first admin', '--scopes', 'admin', '--expires-in-days', '30');
    expect(created.code).toBe(0);
    const token = created.stdout.trim();
    expect(token).toMatch(/^s2g_[A-Za-z0-9_-]{43}$/);
    expect(created.stderr).toContain('shown only once');

    const dataSource = createDataSource(env['DATABASE_URL'] as string);
    await dataSource.initialize();
    try {
      const auth = new TokenAuthenticator(Database.of(dataSource));
      expect(await auth.authenticate(`Bearer ${token}`)).toMatchObject({ tokenName: 'first admin', scopes: ['admin'] });

      const listed = await run('tokens', 'list');
      expect(listed.code).toBe(0);
      const line = must(listed.stdout.split('\n').find((l) => l.includes('first admin')), 'the token in the list');
      expect(line).not.toContain(token.slice(4));
      const id = line.split('\t')[0];
      expect((await run('tokens', 'revoke', id)).stdout).toBe(`revoked ${id}\n`);
      await expect(auth.authenticate(`Bearer ${token}`)).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
      expect((await run('tokens', 'revoke', id)).code).toBe(1);
    } finally {
      await dataSource.destroy();
    }
  });

  it('explains bad input: unknown scopes, missing options, bad configuration', async () => {
    const scopes = await run('tokens', 'create', '--name', 'x', '--scopes', 'root');
    expect(scopes.code).toBe(1);
    expect(scopes.stderr).toMatch(/BAD_USER_INPUT: scopes must be one or more of read, write, admin \(unknown: root\)/);
    expect((await run('tokens', 'create', '--scopes', 'read')).code).toBe(2);
    expect((await run('tokens', 'frobnicate')).code).toBe(2);
    const help = await run('tokens', 'create', '--help');
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('--scopes <scopes>');
    const saved = env;
    env = { ...env, LOG_LEVEL: 'chatty' };
    try {
      expect((await run('migrate')).code).toBe(78);
    } finally {
      env = saved;
    }
  });
});
