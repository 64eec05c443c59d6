import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { KustomizeError, nameHash, renderKustomization } from '../src/kustomize';
import type { KubeObject } from '../src/objects';
import { applyJsonPatch, PatchError, strategicMerge } from '../src/patch';
import { at, find } from './helpers';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** Writes a throwaway kustomization tree: { 'base/kustomization.yaml': {...} | 'text' }. */
function tree(files: Record<string, unknown>): string {
  const root = mkdtempSync(path.join(tmpdir(), 's2g-kustomize-'));
  dirs.push(root);
  for (const [name, content] of Object.entries(files)) {
    const file = path.join(root, name);
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, typeof content === 'string' ? content : Array.isArray(content) ? content.map((c) => stringify(c)).join('---\n') : stringify(content));
  }
  return root;
}

const deployment = (name: string, image: string): KubeObject => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name, labels: { app: name } },
  spec: {
    selector: { matchLabels: { app: name } },
    template: {
      metadata: { labels: { app: name } },
      spec: {
        containers: [
          {
            name,
            image,
            env: [{ name: 'A', value: '1' }, { name: 'PASSWORD', valueFrom: { secretKeyRef: { name: 'creds', key: 'PASSWORD' } } }],
            envFrom: [{ configMapRef: { name: 'settings' } }],
            ports: [{ name: 'http', containerPort: 8080 }],
          },
        ],
        volumes: [{ name: 'config', configMap: { name: 'settings' } }],
      },
    },
  },
});

describe('kustomize renderer', () => {
  it('renders resources from files and nested kustomizations, with the namespace set and kinds ordered', () => {
    const root = tree({
      'base/kustomization.yaml': { resources: ['app.yaml', 'ns.yaml'] },
      'base/app.yaml': [deployment('web', 'registry.example/web:1.0'), { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web' }, spec: { ports: [{ port: 80 }] } }],
      'base/ns.yaml': { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'team' } },
      'overlay/kustomization.yaml': { namespace: 'team', resources: ['../base'] },
    });
    const out = renderKustomization(path.join(root, 'overlay'));
    expect(out.map((o) => `${o.kind}/${o.metadata.name}`)).toEqual(['Namespace/team', 'Service/web', 'Deployment/web']);
    expect(out.find((o) => o.kind === 'Namespace')?.metadata['namespace']).toBeUndefined();
    expect(out.filter((o) => o.kind !== 'Namespace').every((o) => o.metadata['namespace'] === 'team')).toBe(true);
  });

  it('applies a strategic merge patch by identity: maps merge, containers and env merge by name, null deletes', () => {
    const root = tree({
      'kustomization.yaml': { resources: ['app.yaml'], patches: [{ path: 'patch.yaml' }] },
      'app.yaml': deployment('web', 'registry.example/web:1.0'),
      'patch.yaml': {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: 'web', labels: null },
        spec: {
          replicas: 3,
          template: {
            spec: {
              containers: [{ name: 'web', env: [{ name: 'A', value: '2' }, { name: 'B', value: 'new' }], resources: { limits: { 'nvidia.com/gpu': 1 } } }],
              tolerations: [{ key: 'gpu', operator: 'Exists' }],
            },
          },
        },
      },
    });
    const web = renderKustomization(root)[0];
    const container = at(web, 'spec.template.spec.containers.0');
    expect(at(web, 'spec')['replicas']).toBe(3);
    expect(web.metadata['labels']).toBeUndefined();
    expect(container['image']).toBe('registry.example/web:1.0');
    expect(container['env']).toEqual([
      { name: 'A', value: '2' },
      { name: 'PASSWORD', valueFrom: { secretKeyRef: { name: 'creds', key: 'PASSWORD' } } },
      { name: 'B', value: 'new' },
    ]);
    expect(at(web, 'spec.template.spec')['tolerations']).toEqual([{ key: 'gpu', operator: 'Exists' }]);
  });

  it('applies a JSON 6902 patch to every resource the target selects', () => {
    const root = tree({
      'kustomization.yaml': {
        resources: ['apps.yaml'],
        patches: [{ target: { kind: 'Deployment', name: 'a|b' }, patch: '- op: add\n  path: /spec/replicas\n  value: 2\n- op: replace\n  path: /spec/template/spec/containers/0/env/0/value\n  value: "9"\n' }],
      },
      'apps.yaml': [deployment('a', 'x/a:1'), deployment('b', 'x/b:1'), deployment('c', 'x/c:1')],
    });
    const out = renderKustomization(root);
    expect(out.map((o) => at(o, 'spec')['replicas'])).toEqual([2, 2, undefined]);
    expect(at(find(out, 'Deployment', 'a'), 'spec.template.spec.containers.0.env.0')['value']).toBe('9');
  });

  it('rejects patches that match nothing, so a renamed resource cannot leave a patch silently unused', () => {
    const root = tree({
      'kustomization.yaml': { resources: ['app.yaml'], patches: [{ path: 'patch.yaml' }] },
      'app.yaml': deployment('web', 'x/web:1'),
      'patch.yaml': { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'wbe' }, spec: { replicas: 2 } },
    });
    expect(() => renderKustomization(root)).toThrow(/0 resources match Deployment wbe/);
  });

  it('sets image tags, names and digests by image name, leaving other images alone', () => {
    const root = tree({
      'kustomization.yaml': {
        resources: ['apps.yaml'],
        images: [
          { name: 'x/a', newTag: '2.0-gpu' },
          { name: 'localhost:5000/b', newName: 'registry.example/b', newTag: '3' },
          { name: 'x/c', digest: 'sha256:abc' },
        ],
      },
      'apps.yaml': [deployment('a', 'x/a:1.0'), deployment('b', 'localhost:5000/b:1'), deployment('c', 'x/c:1'), deployment('d', 'x/a-other:1')],
    });
    const images = renderKustomization(root).map((o) => at(o, 'spec.template.spec.containers.0')['image']);
    expect(images).toEqual(['x/a:2.0-gpu', 'registry.example/b:3', 'x/c@sha256:abc', 'x/a-other:1']);
  });

  it('generates ConfigMaps and Secrets with a content hash and points pod references at the new names', () => {
    const root = tree({
      'kustomization.yaml': {
        resources: ['app.yaml'],
        configMapGenerator: [{ name: 'settings', literals: ['MODE=distributed', 'URL=nats://n:4222?x=1'] }],
        secretGenerator: [{ name: 'creds', envs: ['creds.env'] }],
      },
      'app.yaml': deployment('web', 'x/web:1'),
      'creds.env': '# comment\nPASSWORD=s3cret=with=equals\n\n',
    });
    const out = renderKustomization(root);
    const cm = find(out, 'ConfigMap', 'settings');
    const secret = find(out, 'Secret', 'creds');
    expect(cm['data']).toEqual({ MODE: 'distributed', URL: 'nats://n:4222?x=1' });
    expect(secret['data']).toEqual({ PASSWORD: Buffer.from('s3cret=with=equals').toString('base64') });
    expect(secret['type']).toBe('Opaque');
    const pod = at(find(out, 'Deployment', 'web'), 'spec.template.spec');
    expect(at(pod, 'containers.0.envFrom.0.configMapRef')['name']).toBe(cm.metadata.name);
    expect(at(pod, 'containers.0.env.1.valueFrom.secretKeyRef')['name']).toBe(secret.metadata.name);
    expect(at(pod, 'volumes.0.configMap')['name']).toBe(cm.metadata.name);
    expect(cm.metadata.name).not.toBe('settings');
  });

  it('merges an overlay generator into the base one, and the hash follows the content', () => {
    const root = tree({
      'base/kustomization.yaml': { resources: ['app.yaml'], configMapGenerator: [{ name: 'settings', literals: ['A=1', 'B=2'] }] },
      'base/app.yaml': deployment('web', 'x/web:1'),
      'overlay/kustomization.yaml': { resources: ['../base'], configMapGenerator: [{ name: 'settings', behavior: 'merge', literals: ['B=3', 'C=4'] }] },
      'nohash/kustomization.yaml': { resources: ['../base'], generatorOptions: { disableNameSuffixHash: true }, configMapGenerator: [{ name: 'other', literals: ['X=1'] }] },
    });
    const base = find(renderKustomization(path.join(root, 'base')), 'ConfigMap', 'settings');
    const overlay = find(renderKustomization(path.join(root, 'overlay')), 'ConfigMap', 'settings');
    expect(overlay['data']).toEqual({ A: '1', B: '3', C: '4' });
    expect(overlay.metadata.name).not.toBe(base.metadata.name);
    expect(renderKustomization(path.join(root, 'nohash')).some((o) => o.metadata.name === 'other')).toBe(true);
  });

  it('computes the name suffix the way kustomize does (vectors from the Kubernetes documentation)', () => {
    const cm: KubeObject = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'example-configmap-2' }, data: { FOO: 'Bar' } };
    const secret: KubeObject = {
      apiVersion: 'v1',
      kind: 'Secret',
      type: 'Opaque',
      metadata: { name: 'example-secret-1' },
      data: { 'password.txt': Buffer.from('username=admin\npassword=secret\n').toString('base64') },
    };
    expect(nameHash(cm)).toBe('g2hdhfc6tk');
    expect(nameHash(secret)).toBe('t2kt65hgtb');
  });

  it('fails loudly on what it does not implement, a missing env file, or a resource defined twice', () => {
    const unsupported = tree({ 'kustomization.yaml': { resources: [], commonLabels: { a: 'b' } } });
    expect(() => renderKustomization(unsupported)).toThrow(/unsupported fields commonLabels/);

    const missingEnv = tree({ 'kustomization.yaml': { secretGenerator: [{ name: 's', envs: ['secrets.env'] }] } });
    expect(() => renderKustomization(missingEnv)).toThrow(/secrets\.env does not exist/);
    const envOverride = { [path.join(missingEnv, 'secrets.env')]: 'K=v\n' };
    expect(find(renderKustomization(missingEnv, { files: envOverride }), 'Secret', 's')['data']).toEqual({ K: 'dg==' });

    const twice = tree({ 'kustomization.yaml': { resources: ['a.yaml', 'b.yaml'] }, 'a.yaml': deployment('web', 'x:1'), 'b.yaml': deployment('web', 'x:2') });
    expect(() => renderKustomization(twice)).toThrow(KustomizeError);

    const bareKey = tree({ 'kustomization.yaml': { secretGenerator: [{ name: 's', envs: ['e.env'] }] }, 'e.env': 'FROM_MY_SHELL\n' });
    expect(() => renderKustomization(bareKey)).toThrow(/expected KEY=VALUE/);
  });
});

describe('patch primitives', () => {
  it('strategic merge: $patch delete removes a named list item, $patch replace swaps a map', () => {
    const target = { containers: [{ name: 'a', image: 'a' }, { name: 'b', image: 'b' }], securityContext: { runAsUser: 0, fsGroup: 1 } };
    const merged = strategicMerge(target, { containers: [{ name: 'a', $patch: 'delete' }], securityContext: { $patch: 'replace', runAsUser: 10001 } });
    expect(merged).toEqual({ containers: [{ name: 'b', image: 'b' }], securityContext: { runAsUser: 10001 } });
  });

  it('strategic merge: container ports merge by containerPort, Service ports by port, other lists are replaced', () => {
    expect(strategicMerge({ ports: [{ containerPort: 80, name: 'a' }] }, { ports: [{ containerPort: 80, protocol: 'TCP' }] })).toEqual({ ports: [{ containerPort: 80, name: 'a', protocol: 'TCP' }] });
    expect(strategicMerge({ ports: [{ port: 80 }] }, { ports: [{ port: 443 }] })).toEqual({ ports: [{ port: 80 }, { port: 443 }] });
    expect(strategicMerge({ args: ['a', 'b'] }, { args: ['c'] })).toEqual({ args: ['c'] });
    expect(() => strategicMerge({}, { $setElementOrder: [] })).toThrow(PatchError);
  });

  it('JSON patch: add appends with "-", remove and test work, a wrong path fails', () => {
    const doc = { spec: { egress: [{ ports: [53] }], replicas: 1 } };
    expect(applyJsonPatch(doc, [{ op: 'add', path: '/spec/egress/-', value: { ports: [443] } }, { op: 'remove', path: '/spec/replicas' }])).toEqual({ spec: { egress: [{ ports: [53] }, { ports: [443] }] } });
    expect(doc.spec.replicas).toBe(1);
    expect(() => applyJsonPatch(doc, [{ op: 'test', path: '/spec/replicas', value: 2 }])).toThrow(/test failed/);
    expect(() => applyJsonPatch(doc, [{ op: 'replace', path: '/spec/missing/x', value: 1 }])).toThrow(PatchError);
    expect(() => applyJsonPatch(doc, [{ op: 'move', path: '/spec' }])).toThrow(/not supported/);
  });
});
