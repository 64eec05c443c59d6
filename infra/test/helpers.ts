import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { renderKustomization } from '../src/kustomize';
import type { KubeObject } from '../src/objects';
import { isObject, type Json, type JsonObject } from '../src/patch';
import { S2G_POLICY, type PolicyOptions } from '../src/policy';

export const INFRA = fileURLToPath(new URL('..', import.meta.url));
export const REPO = path.resolve(INFRA, '..');
export const K8S = path.join(INFRA, 'k8s');
export const APPS = ['gateway', 'ingest', 'trainer', 'inference', 'renderer'] as const;

export type Overlay = 'dev' | 'prod' | 'gpu';
export const OVERLAYS: Overlay[] = ['dev', 'prod', 'gpu'];

export function overlayDir(overlay: Overlay): string {
  return path.join(K8S, 'overlays', overlay);
}

/**
 * Renders an overlay. The dev overlay's secrets.env is deliberately not committed; the render
 * uses the committed example in its place, as a developer's generated file would look.
 */
export function render(overlay: Overlay | 'base'): KubeObject[] {
  const dev = overlayDir('dev');
  const files = { [path.join(dev, 'secrets.env')]: readFileSync(path.join(dev, 'secrets.env.example'), 'utf8') };
  return renderKustomization(overlay === 'base' ? path.join(K8S, 'base') : overlayDir(overlay), { files });
}

/** What each overlay is held to: prod and gpu reach S3 over HTTPS and get s2g-secrets from the operator. */
export function policyFor(overlay: Overlay): PolicyOptions {
  if (overlay === 'dev') return S2G_POLICY;
  return { ...S2G_POLICY, externalSecrets: ['s2g-secrets'], allowedEgressPorts: [...S2G_POLICY.allowedEgressPorts, 443] };
}

/** The object of that kind and name; generated ConfigMaps/Secrets also match with their hash suffix. */
export function find(objects: KubeObject[], kind: string, name: string): KubeObject {
  const hashed = new RegExp(`^${name}-[a-z0-9]{10}$`);
  const obj = objects.find((o) => o.kind === kind && (o.metadata.name === name || ((kind === 'ConfigMap' || kind === 'Secret') && hashed.test(o.metadata.name))));
  if (!obj) throw new Error(`${kind} ${name} is not in the render`);
  return obj;
}

/** The mapping at a dotted path (`spec.template.spec.containers.0`), for tests that break manifests. */
export function at(value: Json, dotted: string): JsonObject {
  let current: Json | undefined = value;
  for (const key of dotted.split('.')) {
    current = Array.isArray(current) ? current[Number(key)] : isObject(current) ? current[key] : undefined;
    if (current === undefined) throw new Error(`nothing at ${dotted} (stopped at ${key})`);
  }
  if (!isObject(current)) throw new Error(`${dotted} is not a mapping`);
  return current;
}
