/**
 * Deployment policy for rendered manifests: what every s2g overlay must satisfy. Each finding names
 * a rule id, so a test can assert that a given bad manifest trips exactly the rule it breaks.
 */
import { isObject, type Json, type JsonObject } from './patch';
import { asArray, asObjects, CLUSTER_SCOPED, containersOf, describe, get, labelsOf, namespaceOf, parseImage, podTemplateOf, type KubeObject } from './objects';

export interface Violation {
  rule: string;
  object: string;
  message: string;
}

export interface PolicyOptions {
  /** App names, as in app.kubernetes.io/name and the Deployment name. */
  apps: readonly string[];
  /** The one app that may be reachable from outside the cluster. */
  exposed: string;
  /** One-shot workloads that run app code (the migration Job): same hardening and egress rules. */
  appJobs: readonly string[];
  /** Ports the apps may open connections to. */
  allowedEgressPorts: readonly number[];
  /** Secrets the render references but does not contain: created out of band by the operator. */
  externalSecrets: readonly string[];
  /** The Deployment the HorizontalPodAutoscaler must target. */
  autoscaled: string;
  /** The image's non-root user. */
  appUid: number;
}

export const S2G_POLICY: PolicyOptions = {
  apps: ['gateway', 'ingest', 'trainer', 'inference', 'renderer'],
  exposed: 'gateway',
  appJobs: ['migrate'],
  allowedEgressPorts: [53, 4222, 5432, 9000],
  externalSecrets: [],
  autoscaled: 'inference',
  appUid: 10001,
};

const APP_LABEL = 'app.kubernetes.io/name';

/** TF_BACKEND value for the GPU build (libs/contracts TENSOR_BACKENDS). */
export const GPU_TF_BACKEND = 'tfjs-node-gpu';

/** The apps' SHUTDOWN_TIMEOUT_MS when unset (libs/config). */
export const DEFAULT_SHUTDOWN_TIMEOUT_MS = 25_000;

// --------------------------------------------------------------------------------- helpers

function matchesSelector(selector: Json | undefined, labels: Record<string, string>): boolean {
  if (!isObject(selector)) return false;
  const matchLabels = isObject(selector['matchLabels']) ? selector['matchLabels'] : {};
  for (const [k, v] of Object.entries(matchLabels)) if (labels[k] !== v) return false;
  for (const expr of asObjects(selector['matchExpressions'])) {
    const key = String(expr['key']);
    const values = asArray(expr['values']).map(String);
    switch (expr['operator']) {
      case 'In':
        if (!(key in labels) || !values.includes(labels[key])) return false;
        break;
      case 'NotIn':
        if (key in labels && values.includes(labels[key])) return false;
        break;
      case 'Exists':
        if (!(key in labels)) return false;
        break;
      case 'DoesNotExist':
        if (key in labels) return false;
        break;
      default:
        return false;
    }
  }
  return true;
}

const QUANTITY_SUFFIX: Record<string, number> = {
  '': 1,
  m: 1e-3,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
};

/** A Kubernetes quantity ("250m", "2Gi", 1) as a number, or undefined when it is not one. */
export function parseQuantity(value: Json | undefined): number | undefined {
  if (typeof value === 'number') return value;
  if (typeof value !== 'string') return undefined;
  const m = /^([0-9]+(?:\.[0-9]+)?)([a-zA-Z]*)$/.exec(value);
  if (!m || !(m[2] in QUANTITY_SUFFIX)) return undefined;
  return Number(m[1]) * QUANTITY_SUFFIX[m[2]];
}

interface Workload {
  obj: KubeObject;
  labels: Record<string, string>;
  spec: JsonObject;
  namespace: string | undefined;
}

function workloads(objects: KubeObject[]): Workload[] {
  const out: Workload[] = [];
  for (const obj of objects) {
    const template = podTemplateOf(obj);
    if (template) out.push({ obj, labels: labelsOf(template.metadata), spec: template.spec, namespace: namespaceOf(obj) });
  }
  return out;
}

function portNumber(port: Json | undefined, container: JsonObject[]): number | undefined {
  if (typeof port === 'number') return port;
  for (const c of container) for (const p of asObjects(c['ports'])) if (p['name'] === port && typeof p['containerPort'] === 'number') return p['containerPort'];
  return undefined;
}

// ----------------------------------------------------------------------------------- rules

export function checkManifests(objects: KubeObject[], options: PolicyOptions = S2G_POLICY): Violation[] {
  const found: Violation[] = [];
  const add = (rule: string, obj: KubeObject, message: string): void => {
    const v = { rule, object: describe(obj), message };
    if (!found.some((f) => f.rule === v.rule && f.object === v.object && f.message === v.message)) found.push(v);
  };
  const all = workloads(objects);
  const appNames = [...options.apps, ...options.appJobs];
  const isApp = (w: Workload): boolean => appNames.includes(w.labels[APP_LABEL] ?? '');

  for (const w of all) checkPod(w, options, isApp(w), add);

  const namespaces = objects.filter((o) => o.kind === 'Namespace').map((o) => o.metadata.name);
  for (const obj of objects) {
    if (CLUSTER_SCOPED.has(obj.kind)) continue;
    const ns = namespaceOf(obj);
    if (!ns) add('namespace', obj, 'has no namespace, so it would land in whatever namespace kubectl defaults to');
    else if (!namespaces.includes(ns)) add('namespace', obj, `namespace ${ns} is not part of the render`);
  }

  for (const app of options.apps) {
    const deployment = objects.find((o) => o.kind === 'Deployment' && o.metadata.name === app);
    if (!deployment) found.push({ rule: 'apps-present', object: `Deployment/${app}`, message: `no Deployment for app ${app}` });
  }
  for (const job of options.appJobs) {
    if (!objects.some((o) => o.kind === 'Job' && o.metadata.name === job)) found.push({ rule: 'apps-present', object: `Job/${job}`, message: `no Job ${job}` });
  }

  checkExposure(objects, all, options, add);
  checkNetworkPolicies(objects, all.filter(isApp), options, add);
  checkDisruptionBudgets(objects, all, options, add);
  checkAutoscaler(objects, options, add);
  checkReferences(objects, all, options, add);
  return found;
}

type Add = (rule: string, obj: KubeObject, message: string) => void;

function checkPod(w: Workload, options: PolicyOptions, app: boolean, add: Add): void {
  const { obj, spec } = w;
  const podSecurity = isObject(spec['securityContext']) ? spec['securityContext'] : {};
  const containers = containersOf(spec);
  const longRunning = obj.kind === 'Deployment' || obj.kind === 'StatefulSet' || obj.kind === 'DaemonSet';

  if (spec['hostNetwork'] === true || spec['hostPID'] === true || spec['hostIPC'] === true) add('security', obj, 'uses the host network, PID or IPC namespace');
  if (spec['automountServiceAccountToken'] !== false) add('security', obj, 'mounts a service account token it does not need');

  for (const { container, init } of containers) {
    const name = `container ${String(container['name'])}`;
    const sc = isObject(container['securityContext']) ? container['securityContext'] : {};

    const image = container['image'];
    if (typeof image !== 'string' || image === '') add('image-pinned', obj, `${name} has no image`);
    else {
      const ref = parseImage(image);
      if (!ref.tag && !ref.digest) add('image-pinned', obj, `${name} image ${image} has no tag or digest`);
      if (ref.tag === 'latest') add('image-pinned', obj, `${name} image ${image} uses the latest tag`);
    }
    for (const p of asObjects(container['ports'])) if (p['hostPort'] !== undefined) add('exposure', obj, `${name} binds a hostPort`);

    if (longRunning && !init) {
      for (const probe of ['readinessProbe', 'livenessProbe'] as const) {
        if (!isObject(container[probe])) add('probes', obj, `${name} has no ${probe}`);
      }
      if (app) {
        const expect = { readinessProbe: '/readyz', livenessProbe: '/healthz' } as const;
        for (const [probe, path] of Object.entries(expect)) {
          const actual = get(container, probe, 'httpGet', 'path');
          if (isObject(container[probe]) && actual !== path) add('probes', obj, `${name} ${probe} must GET ${path}, not ${String(actual)}`);
        }
      }
    }

    const resources = isObject(container['resources']) ? container['resources'] : {};
    for (const kind of ['requests', 'limits'] as const) {
      for (const res of ['cpu', 'memory'] as const) {
        if (parseQuantity(get(resources, kind, res)) === undefined) add('resources', obj, `${name} has no ${kind}.${res}`);
      }
    }
    for (const res of ['cpu', 'memory']) {
      const request = parseQuantity(get(resources, 'requests', res));
      const limit = parseQuantity(get(resources, 'limits', res));
      if (request !== undefined && limit !== undefined && request > limit) add('resources', obj, `${name} requests more ${res} than its limit`);
    }

    const runAsNonRoot = sc['runAsNonRoot'] ?? podSecurity['runAsNonRoot'];
    const runAsUser = sc['runAsUser'] ?? podSecurity['runAsUser'];
    const seccomp = get(sc, 'seccompProfile', 'type') ?? get(podSecurity, 'seccompProfile', 'type');
    if (runAsNonRoot !== true) add('security', obj, `${name} must set runAsNonRoot: true`);
    if (runAsUser === 0) add('security', obj, `${name} runs as uid 0`);
    if (seccomp !== 'RuntimeDefault' && seccomp !== 'Localhost') add('security', obj, `${name} needs seccompProfile RuntimeDefault`);
    if (sc['allowPrivilegeEscalation'] !== false) add('security', obj, `${name} must set allowPrivilegeEscalation: false`);
    if (sc['privileged'] === true) add('security', obj, `${name} is privileged`);
    if (!asArray(get(sc, 'capabilities', 'drop')).includes('ALL')) add('security', obj, `${name} must drop ALL capabilities`);
    if (asArray(get(sc, 'capabilities', 'add')).length > 0) add('security', obj, `${name} adds capabilities`);

    if (app && !init) {
      const shutdown = asObjects(container['env']).find((e) => e['name'] === 'SHUTDOWN_TIMEOUT_MS')?.['value'];
      const shutdownMs = shutdown === undefined ? DEFAULT_SHUTDOWN_TIMEOUT_MS : Number(shutdown);
      const grace = spec['terminationGracePeriodSeconds'] ?? 30;
      if (typeof grace !== 'number' || !(shutdownMs < grace * 1000)) {
        add('shutdown', obj, `${name}: SHUTDOWN_TIMEOUT_MS ${shutdownMs} must be below terminationGracePeriodSeconds (${String(grace)} s), or the app is killed mid-shutdown`);
      }
    }
    if (app) {
      if (runAsUser !== options.appUid) add('app-hardening', obj, `${name} must run as uid ${options.appUid}, the image's user`);
      if (sc['readOnlyRootFilesystem'] !== true) add('app-hardening', obj, `${name} must have a read-only root filesystem`);
      const tmp = asObjects(container['volumeMounts']).find((m) => m['mountPath'] === '/tmp');
      const volume = tmp && asObjects(spec['volumes']).find((v) => v['name'] === tmp['name']);
      if (!volume || !isObject(volume['emptyDir'])) add('app-hardening', obj, `${name} needs an emptyDir mounted at /tmp`);
    }
  }
}

function checkExposure(objects: KubeObject[], all: Workload[], options: PolicyOptions, add: Add): void {
  const serviceApps = (svc: KubeObject): string[] => {
    const selector = get(svc, 'spec', 'selector');
    if (!isObject(selector)) return [];
    const matched = all.filter((w) => w.namespace === namespaceOf(svc) && matchesSelector({ matchLabels: selector }, w.labels));
    return matched.map((w) => w.labels[APP_LABEL] ?? w.obj.metadata.name);
  };
  for (const obj of objects) {
    if (obj.kind === 'Service') {
      const type = get(obj, 'spec', 'type') ?? 'ClusterIP';
      const selector = get(obj, 'spec', 'selector');
      const targets = serviceApps(obj);
      if (isObject(selector) && targets.length === 0) add('service-selector', obj, 'selects no pods in the render');
      if ((type === 'LoadBalancer' || type === 'NodePort') && (targets.length === 0 || targets.some((t) => t !== options.exposed))) {
        add('exposure', obj, `type ${String(type)} exposes ${targets.join(', ') || 'unknown pods'}; only ${options.exposed} may be reachable from outside`);
      }
      if (get(obj, 'spec', 'externalIPs') !== undefined) add('exposure', obj, 'sets externalIPs');
    }
    if (obj.kind === 'Ingress') {
      const backends: Json[] = [get(obj, 'spec', 'defaultBackend') ?? null];
      for (const rule of asObjects(get(obj, 'spec', 'rules'))) for (const p of asObjects(get(rule, 'http', 'paths'))) backends.push(p['backend']);
      for (const backend of backends) {
        if (backend === null) continue;
        const name = get(backend, 'service', 'name');
        const svc = objects.find((o) => o.kind === 'Service' && o.metadata.name === name && namespaceOf(o) === namespaceOf(obj));
        if (!svc) add('exposure', obj, `routes to Service ${String(name)}, which is not in the render`);
        else if (serviceApps(svc).some((t) => t !== options.exposed) || serviceApps(svc).length === 0) {
          add('exposure', obj, `routes to Service ${String(name)}; only ${options.exposed} may be reachable from outside`);
        }
      }
    }
  }
}

function checkNetworkPolicies(objects: KubeObject[], apps: Workload[], options: PolicyOptions, add: Add): void {
  const policies = objects.filter((o) => o.kind === 'NetworkPolicy');
  const types = (p: KubeObject): string[] => {
    const declared = asArray(get(p, 'spec', 'policyTypes')).map(String);
    if (declared.length > 0) return declared;
    return get(p, 'spec', 'egress') !== undefined ? ['Ingress', 'Egress'] : ['Ingress'];
  };
  for (const w of apps) {
    const selecting = policies.filter((p) => namespaceOf(p) === w.namespace && matchesSelector(get(p, 'spec', 'podSelector'), w.labels));
    const ingress = selecting.filter((p) => types(p).includes('Ingress'));
    const egress = selecting.filter((p) => types(p).includes('Egress'));
    const app = w.labels[APP_LABEL] ?? w.obj.metadata.name;

    if (!ingress.some((p) => isObject(get(p, 'spec', 'podSelector')) && Object.keys(get(p, 'spec', 'podSelector') as JsonObject).length === 0 && asArray(get(p, 'spec', 'ingress')).length === 0)) {
      add('network-ingress', w.obj, `no default-deny ingress NetworkPolicy covers ${app}`);
    }
    const containers = containersOf(w.spec).map((c) => c.container);
    let reachable = false;
    for (const p of ingress) {
      for (const rule of asObjects(get(p, 'spec', 'ingress'))) {
        const from = asObjects(rule['from']);
        const open = from.length === 0 || from.some((peer) => isObject(peer['ipBlock']));
        if (open) {
          if (app !== options.exposed) add('network-ingress', p, `lets any client reach ${app}; only ${options.exposed} may be reachable from outside`);
          else if (asObjects(rule['ports']).length === 0 || asObjects(rule['ports']).some((port) => portNumber(port['port'], containers) !== 8080)) {
            add('network-ingress', p, `opens more than the HTTP port of ${app}`);
          } else reachable = true;
        }
      }
    }
    if (app === options.exposed && !reachable) add('network-ingress', w.obj, `no NetworkPolicy lets the ingress controller reach ${app} on its HTTP port`);

    if (egress.length === 0) add('network-egress', w.obj, `no egress NetworkPolicy restricts ${app}`);
    for (const p of egress) {
      for (const rule of asObjects(get(p, 'spec', 'egress'))) {
        const ports = asObjects(rule['ports']);
        if (ports.length === 0) add('network-egress', p, `an egress rule for ${app} allows every port`);
        for (const port of ports) {
          const n = port['port'];
          if (typeof n !== 'number' || !options.allowedEgressPorts.includes(n) || port['endPort'] !== undefined) {
            add('network-egress', p, `egress port ${JSON.stringify(n)} for ${app} is not one of ${options.allowedEgressPorts.join(', ')}`);
          }
        }
      }
    }
  }
}

function checkDisruptionBudgets(objects: KubeObject[], all: Workload[], options: PolicyOptions, add: Add): void {
  const budgets = objects.filter((o) => o.kind === 'PodDisruptionBudget');
  for (const w of all) {
    if (w.obj.kind !== 'Deployment' || !options.apps.includes(w.labels[APP_LABEL] ?? '')) continue;
    const mine = budgets.filter((b) => namespaceOf(b) === w.namespace && matchesSelector(get(b, 'spec', 'selector'), w.labels));
    if (mine.length === 0) add('pdb', w.obj, 'no PodDisruptionBudget selects its pods');
    const replicas = get(w.obj, 'spec', 'replicas') ?? 1;
    for (const b of mine) {
      const minAvailable = get(b, 'spec', 'minAvailable');
      if (get(b, 'spec', 'maxUnavailable') === 0 || (typeof minAvailable === 'number' && typeof replicas === 'number' && minAvailable >= replicas)) {
        add('pdb', b, `allows no voluntary disruption of ${w.obj.metadata.name}, so node drains would hang`);
      }
    }
  }
}

function checkAutoscaler(objects: KubeObject[], options: PolicyOptions, add: Add): void {
  const hpas = objects.filter((o) => o.kind === 'HorizontalPodAutoscaler');
  for (const hpa of hpas) {
    const target = get(hpa, 'spec', 'scaleTargetRef');
    const deployment = objects.find((o) => o.kind === get(target, 'kind') && o.metadata.name === get(target, 'name') && namespaceOf(o) === namespaceOf(hpa));
    if (!deployment) add('hpa', hpa, `targets ${String(get(target, 'kind'))}/${String(get(target, 'name'))}, which is not in the render`);
    else if (get(deployment, 'spec', 'replicas') !== undefined) add('hpa', deployment, 'sets spec.replicas although an autoscaler owns them');
    const min = get(hpa, 'spec', 'minReplicas') ?? 1;
    const max = get(hpa, 'spec', 'maxReplicas');
    if (typeof max !== 'number' || typeof min !== 'number' || min > max) add('hpa', hpa, 'minReplicas must not exceed maxReplicas');
  }
  const forApp = hpas.some((h) => get(h, 'spec', 'scaleTargetRef', 'kind') === 'Deployment' && get(h, 'spec', 'scaleTargetRef', 'name') === options.autoscaled);
  if (!forApp) {
    const name = options.autoscaled;
    const deployment = objects.find((o) => o.kind === 'Deployment' && o.metadata.name === name) ?? { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name } };
    add('hpa', deployment, `no HorizontalPodAutoscaler targets Deployment ${name}`);
  }
}

function checkReferences(objects: KubeObject[], all: Workload[], options: PolicyOptions, add: Add): void {
  const exists = (kind: string, name: Json | undefined, ns: string | undefined): boolean =>
    objects.some((o) => o.kind === kind && o.metadata.name === name && namespaceOf(o) === ns) || (kind === 'Secret' && typeof name === 'string' && options.externalSecrets.includes(name));
  for (const w of all) {
    const check = (kind: 'ConfigMap' | 'Secret', ref: Json | undefined, field = 'name'): void => {
      if (!isObject(ref) || ref['optional'] === true) return;
      if (!exists(kind, ref[field], w.namespace)) add('references', w.obj, `refers to ${kind} ${String(ref[field])}, which is neither rendered nor a documented external Secret`);
    };
    for (const { container } of containersOf(w.spec)) {
      for (const env of asObjects(container['env'])) {
        check('ConfigMap', get(env, 'valueFrom', 'configMapKeyRef'));
        check('Secret', get(env, 'valueFrom', 'secretKeyRef'));
      }
      for (const source of asObjects(container['envFrom'])) {
        check('ConfigMap', source['configMapRef']);
        check('Secret', source['secretRef']);
      }
    }
    for (const volume of asObjects(w.spec['volumes'])) {
      check('ConfigMap', volume['configMap']);
      check('Secret', volume['secret'], 'secretName');
    }
    const account = w.spec['serviceAccountName'];
    if (typeof account === 'string' && !objects.some((o) => o.kind === 'ServiceAccount' && o.metadata.name === account && namespaceOf(o) === w.namespace)) {
      add('references', w.obj, `uses ServiceAccount ${account}, which is not rendered`);
    }
  }
}

/** The GPU overlay: the named apps get a GPU each, on GPU nodes, with the GPU image and backend. */
export function checkGpu(objects: KubeObject[], gpuApps: readonly string[]): Violation[] {
  const out: Violation[] = [];
  for (const obj of objects) {
    const template = podTemplateOf(obj);
    if (!template) continue;
    const app = labelsOf(template.metadata)[APP_LABEL] ?? '';
    const wantsGpu = obj.kind === 'Deployment' && gpuApps.includes(app);
    const add = (message: string): void => {
      out.push({ rule: 'gpu', object: describe(obj), message });
    };
    const tolerates = asObjects(template.spec['tolerations']).some((t) => t['key'] === 'nvidia.com/gpu');
    const placed = isObject(template.spec['nodeSelector']) || isObject(get(template.spec, 'affinity', 'nodeAffinity'));
    for (const { container, init } of containersOf(template.spec)) {
      const gpus = parseQuantity(get(container, 'resources', 'limits', 'nvidia.com/gpu'));
      if (!wantsGpu || init) {
        if (gpus !== undefined) add(`container ${String(container['name'])} requests nvidia.com/gpu but is not a GPU app`);
        continue;
      }
      if (gpus === undefined || gpus < 1) add(`container ${String(container['name'])} has no nvidia.com/gpu limit`);
      const backend = asObjects(container['env']).find((e) => e['name'] === 'TF_BACKEND');
      if (backend?.['value'] !== GPU_TF_BACKEND) add(`TF_BACKEND must be ${GPU_TF_BACKEND}`);
      const image = typeof container['image'] === 'string' ? parseImage(container['image']) : undefined;
      if (!image?.tag?.endsWith('-gpu')) add(`image ${String(container['image'])} is not the GPU image (tag *-gpu)`);
    }
    if (wantsGpu && !tolerates) add('no toleration for the nvidia.com/gpu taint');
    if (wantsGpu && !placed) add('no nodeSelector or node affinity for GPU nodes');
  }
  for (const app of gpuApps) {
    if (!objects.some((o) => o.kind === 'Deployment' && o.metadata.name === app)) out.push({ rule: 'gpu', object: `Deployment/${app}`, message: 'missing' });
  }
  return out;
}
