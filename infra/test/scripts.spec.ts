import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { renderKustomization } from '../src/kustomize';
import { checkManifests } from '../src/policy';
import { find, INFRA, overlayDir, policyFor } from './helpers';

const script = path.join(INFRA, 'scripts', 'dev-secrets.sh');
const dir = mkdtempSync(path.join(tmpdir(), 's2g-secrets-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function envFile(file: string): Record<string, string> {
  return Object.fromEntries(
    readFileSync(file, 'utf8')
      .split('\n')
      .filter((l) => l && !l.startsWith('#'))
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  );
}

describe('scripts/dev-secrets.sh', () => {
  it('writes owner-only random credentials for compose', () => {
    const file = path.join(dir, 'compose.env');
    execFileSync('sh', [script, 'compose', file]);
    const env = envFile(file);
    expect(Object.keys(env).sort()).toEqual(['POSTGRES_PASSWORD', 'S3_ACCESS_KEY', 'S3_SECRET_KEY']);
    expect(env['POSTGRES_PASSWORD']).toMatch(/^[0-9a-f]{48}$/);
    expect(env['S3_SECRET_KEY']).not.toBe(env['POSTGRES_PASSWORD']);
    expect(statSync(file).mode & 0o077).toBe(0);
  });

  it('writes a dev secrets.env whose DATABASE_URL matches the Postgres password, and the dev overlay renders from it', () => {
    const file = path.join(dir, 'secrets.env');
    execFileSync('sh', [script, 'k8s-dev', file]);
    const env = envFile(file);
    expect(env['DATABASE_URL']).toBe(`postgres://s2g:${env['POSTGRES_PASSWORD']}@postgres:5432/s2g`);
    const objects = renderKustomization(overlayDir('dev'), { files: { [path.join(overlayDir('dev'), 'secrets.env')]: readFileSync(file, 'utf8') } });
    expect(checkManifests(objects, policyFor('dev'))).toEqual([]);
    expect(Buffer.from(String((find(objects, 'Secret', 's2g-secrets')['data'] as Record<string, string>)['S3_SECRET_KEY']), 'base64').toString()).toBe(env['S3_SECRET_KEY']);
  });

  it('never overwrites existing credentials and rejects unknown targets', () => {
    const file = path.join(dir, 'compose.env');
    const before = readFileSync(file, 'utf8');
    const again = spawnSync('sh', [script, 'compose', file], { encoding: 'utf8' });
    expect(again.status).toBe(1);
    expect(again.stderr).toMatch(/exists/);
    expect(readFileSync(file, 'utf8')).toBe(before);
    expect(spawnSync('sh', [script, 'prod'], { encoding: 'utf8' }).status).toBe(2);
  });
});
