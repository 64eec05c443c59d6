import { describe, expect, it } from 'vitest';
import type { KubeObject } from '../src/objects';
import { checkGpu, checkManifests, parseQuantity, S2G_POLICY } from '../src/policy';
import { validateManifest } from '../src/validate';
import { at, find, policyFor, render } from './helpers';

/** A fresh copy of the dev render, so each case breaks exactly one thing. */
function dev(): KubeObject[] {
  return structuredClone(render('dev'));
}

function rules(objects: KubeObject[], options = policyFor('dev')): string[] {
  return [...new Set(checkManifests(objects, options).map((v) => v.rule))];
}

const container = (objects: KubeObject[], kind: string, name: string) => at(find(objects, kind, name), 'spec.template.spec.containers.0');
const podSpec = (objects: KubeObject[], kind: string, name: string) => at(find(objects, kind, name), 'spec.template.spec');

describe('policy checker', () => {
  it('accepts the dev render as committed (the baseline for the cases below)', () => {
    expect(rules(dev())).toEqual([]);
  });

  it.each([
    ['a latest tag', (o: KubeObject[]) => void (container(o, 'Deployment', 'renderer')['image'] = 'ghcr.io/s2g/renderer:latest'), 'image-pinned'],
    ['an untagged image', (o: KubeObject[]) => void (container(o, 'StatefulSet', 'nats')['image'] = 'nats'), 'image-pinned'],
    ['a missing readiness probe', (o: KubeObject[]) => void delete container(o, 'Deployment', 'ingest')['readinessProbe'], 'probes'],
    ['a liveness probe on the wrong path', (o: KubeObject[]) => void (at(container(o, 'Deployment', 'trainer'), 'livenessProbe.httpGet')['path'] = '/readyz'), 'probes'],
    ['a missing memory limit', (o: KubeObject[]) => void delete at(container(o, 'Deployment', 'inference'), 'resources.limits')['memory'], 'resources'],
    ['requests above limits', (o: KubeObject[]) => void (at(container(o, 'Deployment', 'gateway'), 'resources.requests')['cpu'] = '8'), 'resources'],
    ['runAsNonRoot false', (o: KubeObject[]) => void (at(podSpec(o, 'Deployment', 'gateway'), 'securityContext')['runAsNonRoot'] = false), 'security'],
    ['privilege escalation', (o: KubeObject[]) => void (at(container(o, 'StatefulSet', 'postgres'), 'securityContext')['allowPrivilegeEscalation'] = true), 'security'],
    ['capabilities not dropped', (o: KubeObject[]) => void (at(container(o, 'Job', 'migrate'), 'securityContext.capabilities')['drop'] = []), 'security'],
    ['a writable root filesystem for an app', (o: KubeObject[]) => void (at(container(o, 'Deployment', 'renderer'), 'securityContext')['readOnlyRootFilesystem'] = false), 'app-hardening'],
    ['no /tmp volume for an app', (o: KubeObject[]) => void (container(o, 'Deployment', 'ingest')['volumeMounts'] = []), 'app-hardening'],
    ['a mounted service account token', (o: KubeObject[]) => void (podSpec(o, 'Deployment', 'trainer')['automountServiceAccountToken'] = true), 'security'],
    ['a LoadBalancer for a worker', (o: KubeObject[]) => void (at(find(o, 'Service', 'ingest'), 'spec')['type'] = 'LoadBalancer'), 'exposure'],
    ['an Ingress to a worker', (o: KubeObject[]) => void (at(find(o, 'Ingress', 'gateway'), 'spec.rules.0.http.paths.0.backend.service')['name'] = 'renderer'), 'exposure'],
    ['a hostPort', (o: KubeObject[]) => void (at(container(o, 'Deployment', 'inference'), 'ports.0')['hostPort'] = 8080), 'exposure'],
    ['no default-deny ingress policy', (o: KubeObject[]) => void o.splice(o.indexOf(find(o, 'NetworkPolicy', 'default-deny-ingress')), 1), 'network-ingress'],
    ['a worker open to everyone', (o: KubeObject[]) => void (at(find(o, 'NetworkPolicy', 'gateway-ingress'), 'spec.podSelector')['matchLabels'] = { 'app.kubernetes.io/part-of': 's2g' }), 'network-ingress'],
    ['an egress rule without ports', (o: KubeObject[]) => void (at(find(o, 'NetworkPolicy', 'app-egress'), 'spec')['egress'] = [{}]), 'network-egress'],
    ['egress to another port', (o: KubeObject[]) => void (at(find(o, 'NetworkPolicy', 'app-egress'), 'spec.egress.1.ports.0')['port'] = 6379), 'network-egress'],
    ['an app outside the egress policy', (o: KubeObject[]) => void (at(find(o, 'NetworkPolicy', 'app-egress'), 'spec.podSelector.matchExpressions.0')['values'] = ['gateway']), 'network-egress'],
    ['no PodDisruptionBudget', (o: KubeObject[]) => void o.splice(o.indexOf(find(o, 'PodDisruptionBudget', 'trainer')), 1), 'pdb'],
    ['a PDB that blocks drains', (o: KubeObject[]) => void (at(find(o, 'PodDisruptionBudget', 'gateway'), 'spec')['maxUnavailable'] = 0), 'pdb'],
    ['an HPA on another Deployment', (o: KubeObject[]) => void (at(find(o, 'HorizontalPodAutoscaler', 'inference'), 'spec.scaleTargetRef')['name'] = 'renderer'), 'hpa'],
    ['replicas fighting the HPA', (o: KubeObject[]) => void (at(find(o, 'Deployment', 'inference'), 'spec')['replicas'] = 2), 'hpa'],
    ['a reference to a Secret nobody creates', (o: KubeObject[]) => void (at(container(o, 'Deployment', 'gateway'), 'env.0.valueFrom.secretKeyRef')['name'] = 'typo-secrets'), 'references'],
    ['a shutdown longer than the grace period', (o: KubeObject[]) => void (podSpec(o, 'Deployment', 'trainer')['terminationGracePeriodSeconds'] = 60), 'shutdown'],
    ['a missing app', (o: KubeObject[]) => void o.splice(o.indexOf(find(o, 'Deployment', 'renderer')), 1), 'apps-present'],
    ['an object without a namespace', (o: KubeObject[]) => void delete find(o, 'Job', 'minio-create-bucket').metadata['namespace'], 'namespace'],
    ['a Service selecting nothing', (o: KubeObject[]) => void (at(find(o, 'Service', 'minio'), 'spec.selector')['app.kubernetes.io/name'] = 'minoi'), 'service-selector'],
  ])('flags %s', (_, breakIt, rule) => {
    const objects = dev();
    breakIt(objects);
    expect(rules(objects)).toContain(rule);
  });

  it('allows egress to HTTPS only where the overlay is configured for it', () => {
    expect(rules(render('prod'), S2G_POLICY).sort()).toEqual(['network-egress', 'references']);
    expect(rules(render('prod'), policyFor('prod'))).toEqual([]);
  });

  it('checks the GPU placement of trainer and inference', () => {
    const gpu = structuredClone(render('gpu'));
    expect(checkGpu(gpu, ['trainer', 'inference'])).toEqual([]);
    delete at(container(gpu, 'Deployment', 'trainer'), 'resources.limits')['nvidia.com/gpu'];
    podSpec(gpu, 'Deployment', 'inference')['tolerations'] = [];
    container(gpu, 'Deployment', 'inference')['image'] = 'ghcr.io/s2g/inference:0.1.0';
    const messages = checkGpu(gpu, ['trainer', 'inference']).map((v) => `${v.object}: ${v.message}`);
    expect(messages).toEqual([
      'Deployment/s2g/trainer: container trainer has no nvidia.com/gpu limit',
      'Deployment/s2g/inference: image ghcr.io/s2g/inference:0.1.0 is not the GPU image (tag *-gpu)',
      'Deployment/s2g/inference: no toleration for the nvidia.com/gpu taint',
    ]);
    expect(checkGpu(render('prod'), ['trainer', 'inference']).length).toBeGreaterThan(0);
    const cpu = structuredClone(render('prod'));
    at(container(cpu, 'Deployment', 'renderer'), 'resources.limits')['nvidia.com/gpu'] = 1;
    expect(checkGpu(cpu, []).map((v) => v.object)).toEqual(['Deployment/s2g/renderer']);
  });

  it('parses Kubernetes quantities', () => {
    expect([parseQuantity('250m'), parseQuantity('2Gi'), parseQuantity(1), parseQuantity('1.5'), parseQuantity('lots')]).toEqual([0.25, 2 ** 31, 1, 1.5, undefined]);
  });
});

describe('manifest validation', () => {
  it('rejects wrong types and unknown (misspelt) fields', async () => {
    const deployment = structuredClone(find(render('dev'), 'Deployment', 'gateway'));
    const c = at(deployment, 'spec.template.spec.containers.0');
    c['readinesProbe'] = c['readinessProbe'];
    at(c, 'securityContext')['readOnlyRootFileSystem'] = true;
    at(c, 'resources.limits')['cpu'] = 'lots';
    deployment.metadata['lables'] = {};
    const problems = await validateManifest(deployment);
    expect(problems.some((p) => p.includes('resources/limits/cpu'))).toBe(true);
    expect(problems.filter((p) => p.endsWith('unknown field')).sort()).toEqual([
      'metadata.lables: unknown field',
      'spec.template.spec.containers[0].readinesProbe: unknown field',
      'spec.template.spec.containers[0].securityContext.readOnlyRootFileSystem: unknown field',
    ].sort());
  });

  it('rejects a missing required field and an unknown kind', async () => {
    const hpa = structuredClone(find(render('dev'), 'HorizontalPodAutoscaler', 'inference'));
    delete at(hpa, 'spec')['maxReplicas'];
    expect((await validateManifest(hpa)).join()).toMatch(/maxReplicas/);
    expect(await validateManifest({ apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w' } })).not.toEqual([]);
  });
});
