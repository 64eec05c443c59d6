import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { containersOf, get, podTemplateOf, type KubeObject } from '../src/objects';
import { checkGpu, checkManifests } from '../src/policy';
import { validateManifest } from '../src/validate';
import { APPS, at, find, INFRA, K8S, OVERLAYS, overlayDir, policyFor, render } from './helpers';

const rendered = Object.fromEntries(OVERLAYS.map((o) => [o, render(o)])) as Record<(typeof OVERLAYS)[number], KubeObject[]>;

function env(obj: KubeObject, app: string): Record<string, unknown> {
  const template = podTemplateOf(obj);
  const container = template && containersOf(template.spec).find((c) => c.container['name'] === app);
  return Object.fromEntries(((container?.container['env'] ?? []) as { name: string; value?: string }[]).map((e) => [e.name, e.value ?? 'valueFrom']));
}

describe.each(OVERLAYS)('overlay %s', (overlay) => {
  const objects = rendered[overlay];

  it('renders only valid Kubernetes objects (kubernetes-models 4.5.1 schema, no unknown fields)', async () => {
    const problems: string[] = [];
    for (const obj of objects) for (const p of await validateManifest(obj)) problems.push(`${obj.kind}/${obj.metadata.name}: ${p}`);
    expect(problems).toEqual([]);
    expect(objects.length).toBeGreaterThan(20);
  });

  it('meets the deployment policy', () => {
    expect(checkManifests(objects, policyFor(overlay))).toEqual([]);
  });

  it(overlay === 'gpu' ? 'puts trainer and inference on GPUs, nothing else' : 'requests no GPU', () => {
    expect(checkGpu(objects, overlay === 'gpu' ? ['trainer', 'inference'] : [])).toEqual([]);
  });

  it('has a Deployment with a Service and a PodDisruptionBudget for every app, and the migration Job', () => {
    for (const app of APPS) {
      expect(find(objects, 'Deployment', app).metadata['namespace']).toBe('s2g');
      find(objects, 'Service', app);
      find(objects, 'PodDisruptionBudget', app);
    }
    const job = find(objects, 'Job', 'migrate');
    expect(get(job, 'spec', 'template', 'spec', 'containers', 0, 'image')).toBe('ghcr.io/s2g/gateway:0.1.0');
    expect(get(job, 'spec', 'template', 'spec', 'containers', 0, 'args')).toEqual(['node', 'dist/apps/gateway/main.js', 'migrate']);
  });

  it('scales inference with an autoscaling/v2 HorizontalPodAutoscaler', () => {
    const hpa = find(objects, 'HorizontalPodAutoscaler', 'inference');
    expect(hpa.apiVersion).toBe('autoscaling/v2');
    expect(get(hpa, 'spec', 'scaleTargetRef')).toEqual({ apiVersion: 'apps/v1', kind: 'Deployment', name: 'inference' });
  });

  it('exposes only the gateway, through one Ingress on /graphql with WebSocket-friendly timeouts', () => {
    const ingresses = objects.filter((o) => o.kind === 'Ingress');
    expect(ingresses.map((i) => i.metadata.name)).toEqual(['gateway']);
    expect(get(ingresses[0], 'spec', 'rules', 0, 'http', 'paths')).toEqual([{ path: '/graphql', pathType: 'Prefix', backend: { service: { name: 'gateway', port: { name: 'http' } } } }]);
    expect(Number(get(ingresses[0], 'metadata', 'annotations', 'nginx.ingress.kubernetes.io/proxy-read-timeout'))).toBeGreaterThanOrEqual(3600);
    expect(objects.filter((o) => o.kind === 'Service').every((s) => (get(s, 'spec', 'type') ?? 'ClusterIP') === 'ClusterIP')).toBe(true);
  });

  it('commits no credentials: the only Secret is the dev one generated from the uncommitted env file', () => {
    const secrets = objects.filter((o) => o.kind === 'Secret');
    if (overlay === 'dev') expect(secrets.map((s) => s.metadata.name)).toEqual([find(objects, 'Secret', 's2g-secrets').metadata.name]);
    else expect(secrets).toEqual([]);
  });
});

describe('overlay differences', () => {
  it('dev runs NATS JetStream, Postgres and MinIO in the cluster on persistent volumes', () => {
    const dev = rendered.dev;
    for (const [name, port] of [['nats', 4222], ['postgres', 5432], ['minio', 9000]] as const) {
      const set = find(dev, 'StatefulSet', name);
      expect(get(set, 'spec', 'volumeClaimTemplates', 0, 'spec', 'resources', 'requests', 'storage')).toBeTruthy();
      expect(get(find(dev, 'Service', name), 'spec', 'ports', 0, 'port')).toBe(port);
      expect(find(dev, 'NetworkPolicy', `${name}-ingress`)).toBeTruthy();
    }
    expect(get(find(dev, 'StatefulSet', 'nats'), 'spec', 'template', 'spec', 'containers', 0, 'args')).toEqual(['-js', '-sd', '/data', '-m', '8222']);
    find(dev, 'Job', 'minio-create-bucket');
    expect(get(find(dev, 'Deployment', 'gateway'), 'spec', 'replicas')).toBe(1);
  });

  it('prod and gpu point the apps at external services and run nothing stateful', () => {
    for (const overlay of ['prod', 'gpu'] as const) {
      const objects = rendered[overlay];
      expect(objects.filter((o) => o.kind === 'StatefulSet')).toEqual([]);
      const data = find(objects, 'ConfigMap', 's2g-config')['data'];
      expect(data).toMatchObject({ S2G_MODE: 'distributed', NATS_URL: expect.not.stringMatching(/\/\/nats:/), S3_ENDPOINT: expect.stringMatching(/^https:\/\//) });
      expect(get(find(objects, 'Deployment', 'gateway'), 'spec', 'replicas')).toBe(3);
    }
  });

  it('the config map name carries its content hash, so a config change rolls the pods', () => {
    const dev = find(rendered.dev, 'ConfigMap', 's2g-config').metadata.name;
    const prod = find(rendered.prod, 'ConfigMap', 's2g-config').metadata.name;
    expect(dev).not.toBe(prod);
    expect(get(find(rendered.prod, 'Deployment', 'ingest'), 'spec', 'template', 'spec', 'containers', 0, 'envFrom', 0, 'configMapRef', 'name')).toBe(prod);
  });

  it('gpu swaps in the GPU images and the tfjs-node-gpu backend for trainer and inference only', () => {
    const gpu = rendered.gpu;
    for (const app of ['trainer', 'inference']) {
      const deployment = find(gpu, 'Deployment', app);
      expect(at(deployment, 'spec.template.spec.containers.0')['image']).toBe(`ghcr.io/s2g/${app}:0.1.0-gpu`);
      expect(env(deployment, app)['TF_BACKEND']).toBe('tfjs-node-gpu');
      expect(get(deployment, 'spec', 'strategy', 'rollingUpdate', 'maxSurge')).toBe(0);
    }
    for (const app of ['gateway', 'ingest', 'renderer']) {
      expect(at(find(gpu, 'Deployment', app), 'spec.template.spec.containers.0')['image']).toBe(`ghcr.io/s2g/${app}:0.1.0`);
    }
  });
});

describe('committed files', () => {
  it('every YAML file under infra/k8s parses and is used by a kustomization', () => {
    const used = new Set<string>();
    const walk = (dir: string): string[] => readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(path.join(dir, e.name)) : [path.join(dir, e.name)]));
    const files = walk(K8S);
    for (const file of files.filter((f) => path.basename(f) === 'kustomization.yaml')) {
      const k = parseAllDocuments(readFileSync(file, 'utf8'))[0].toJS() as { resources?: string[]; patches?: { path?: string }[] };
      for (const r of k.resources ?? []) used.add(path.resolve(path.dirname(file), r));
      for (const p of k.patches ?? []) if (p.path) used.add(path.resolve(path.dirname(file), p.path));
    }
    const orphans = files.filter((f) => /\.ya?ml$/.test(f) && path.basename(f) !== 'kustomization.yaml' && !used.has(f));
    expect(orphans).toEqual([]);
    for (const file of files.filter((f) => /\.ya?ml$/.test(f))) for (const doc of parseAllDocuments(readFileSync(file, 'utf8'))) expect(doc.errors).toEqual([]);
  });

  it('keeps the generated credential files out of git, with committed examples carrying the keys the manifests read', () => {
    const ignore = readFileSync(path.join(INFRA, '.gitignore'), 'utf8').split('\n');
    expect(ignore).toContain('.env');
    expect(ignore).toContain('k8s/overlays/dev/secrets.env');
    const example = readFileSync(path.join(overlayDir('dev'), 'secrets.env.example'), 'utf8');
    for (const key of ['DATABASE_URL', 'POSTGRES_PASSWORD', 'S3_ACCESS_KEY', 'S3_SECRET_KEY']) expect(example).toMatch(new RegExp(`^${key}=`, 'm'));
    expect(existsSync(path.join(INFRA, '.env.example'))).toBe(true);
  });
});
