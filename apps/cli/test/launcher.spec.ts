/**
 * The `s2g` executable as npm links it: apps/cli/bin/s2g.js runs the built bundle, or the TypeScript
 * sources through tsx (which must compile the TypeORM entities' decorators).
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const bin = fileURLToPath(new URL('../bin/s2g.js', import.meta.url));

function s2g(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [bin, ...args], { env: { PATH: process.env.PATH, DATA_DIR: '/nonexistent' }, timeout: 120_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

describe('bin/s2g.js', () => {
  it('prints the usage and exits 0', async () => {
    const r = await s2g(['--help']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Usage: s2g');
    for (const command of ['up', 'speakers', 'ingest', 'train', 'runs', 'predict', 'render', 'tokens', 'demo']) expect(r.stdout).toMatch(new RegExp(`^  ${command} `, 'm'));
  }, 120_000);

  it('passes the exit code and the one-line error on', async () => {
    const r = await s2g(['speakers', 'list', '--url', 'http://127.0.0.1:9/graphql']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error UNAVAILABLE: cannot reach the s2g API at http:\/\/127\.0\.0\.1:9\/graphql [^\n]*\n$/);
  }, 120_000);
});
