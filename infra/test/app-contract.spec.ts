/**
 * What the manifests assume about the apps, checked against the apps' sources: a variable the
 * config does not declare would silently do nothing, and a TF_BACKEND it does not accept stops
 * every GPU pod at start-up.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseCompose } from '../src/compose';
import { containersOf, podTemplateOf } from '../src/objects';
import { isObject } from '../src/patch';
import { DEFAULT_SHUTDOWN_TIMEOUT_MS, GPU_TF_BACKEND } from '../src/policy';
import { APPS, find, INFRA, OVERLAYS, render, REPO } from './helpers';

/** Variables declared with envVar(...) in libs/config and in the apps (extendConfig). */
function declaredVariables(): Set<string> {
  const files = [path.join(REPO, 'libs/config/src'), ...APPS.map((a) => path.join(REPO, 'apps', a, 'src'))].flatMap((dir) =>
    readdirSync(dir, { recursive: true, encoding: 'utf8' })
      .filter((f) => f.endsWith('.ts') && !f.endsWith('.spec.ts'))
      .map((f) => readFileSync(path.join(dir, f), 'utf8')),
  );
  return new Set(files.flatMap((text) => [...text.matchAll(/\b([A-Z][A-Z0-9_]+):\s*envVar\(/g)].map((m) => m[1])));
}

describe('settings the manifests give the apps', () => {
  const declared = declaredVariables();

  it('finds the shared configuration declarations', () => {
    expect([...declared]).toEqual(expect.arrayContaining(['S2G_MODE', 'DATABASE_URL', 'NATS_URL', 'S3_ENDPOINT', 'TF_BACKEND']));
  });

  it.each(OVERLAYS)('overlay %s sets only variables the apps declare', (overlay) => {
    const objects = render(overlay);
    const names = new Set<string>();
    for (const app of APPS) {
      const template = podTemplateOf(find(objects, 'Deployment', app));
      for (const { container } of template ? containersOf(template.spec) : []) {
        for (const e of Array.isArray(container['env']) ? container['env'] : []) if (isObject(e)) names.add(String(e['name']));
      }
    }
    for (const key of Object.keys(find(objects, 'ConfigMap', 's2g-config')['data'] as object)) names.add(key);
    expect([...names].filter((n) => !declared.has(n))).toEqual([]);
  });

  it('compose sets only variables the apps declare', () => {
    const services = parseCompose(readFileSync(path.join(INFRA, 'compose.yaml'), 'utf8'))['services'] as Record<string, { environment: object }>;
    const names = new Set(APPS.flatMap((app) => Object.keys(services[app].environment)));
    expect([...names].filter((n) => !declared.has(n))).toEqual([]);
  });

  it('the GPU backend name and the default shutdown timeout match the sources', () => {
    const domain = readFileSync(path.join(REPO, 'libs/contracts/src/domain.ts'), 'utf8');
    const backends = /TENSOR_BACKENDS\s*=\s*\[([^\]]*)\]/.exec(domain)?.[1] ?? '';
    expect(backends).toContain(`'${GPU_TF_BACKEND}'`);
    const shared = readFileSync(path.join(REPO, 'libs/config/src/shared.ts'), 'utf8');
    expect(/SHUTDOWN_TIMEOUT_MS:\s*envVar\([^\n]*\.default\(([0-9_]+)\)/.exec(shared)?.[1]?.replace(/_/g, '')).toBe(String(DEFAULT_SHUTDOWN_TIMEOUT_MS));
    for (const file of ['Dockerfile.gpu']) expect(readFileSync(path.join(INFRA, 'docker', file), 'utf8')).toContain(`TF_BACKEND=${GPU_TF_BACKEND}`);
  });
});
