/** Shapes and accessors for rendered Kubernetes objects, shared by the renderer and the checks. */
import { isObject, type Json, type JsonObject } from './patch';

export interface KubeObject extends JsonObject {
  apiVersion: string;
  kind: string;
  metadata: JsonObject & { name: string };
}

export function asKubeObject(value: unknown, where: string): KubeObject {
  if (!isObject(value)) throw new Error(`${where}: a Kubernetes object must be a mapping`);
  const { apiVersion, kind, metadata } = value;
  if (typeof apiVersion !== 'string' || typeof kind !== 'string') throw new Error(`${where}: apiVersion and kind are required`);
  if (!isObject(metadata) || typeof metadata['name'] !== 'string' || metadata['name'] === '') {
    throw new Error(`${where}: ${kind} needs metadata.name`);
  }
  return value as KubeObject;
}

export function groupOf(apiVersion: string): string {
  return apiVersion.includes('/') ? apiVersion.slice(0, apiVersion.indexOf('/')) : '';
}

export function namespaceOf(obj: KubeObject): string | undefined {
  const ns = obj.metadata['namespace'];
  return typeof ns === 'string' ? ns : undefined;
}

/** `Deployment/gateway` (with `ns/` in front when namespaced): how objects are named in messages. */
export function describe(obj: KubeObject): string {
  const ns = namespaceOf(obj);
  return `${obj.kind}/${ns ? `${ns}/` : ''}${obj.metadata.name}`;
}

export function labelsOf(meta: Json | undefined): Record<string, string> {
  if (!isObject(meta) || !isObject(meta['labels'])) return {};
  return Object.fromEntries(Object.entries(meta['labels']).filter((e): e is [string, string] => typeof e[1] === 'string'));
}

/** Kinds without a namespace (the ones a kustomization here could plausibly contain). */
export const CLUSTER_SCOPED = new Set([
  'Namespace',
  'ClusterRole',
  'ClusterRoleBinding',
  'CustomResourceDefinition',
  'PersistentVolume',
  'StorageClass',
  'PriorityClass',
  'IngressClass',
  'RuntimeClass',
  'ValidatingWebhookConfiguration',
  'MutatingWebhookConfiguration',
  'APIService',
]);

/** The pod template's metadata and spec of a workload, or undefined for other kinds. */
export function podTemplateOf(obj: KubeObject): { metadata: JsonObject; spec: JsonObject } | undefined {
  const spec = obj['spec'];
  if (!isObject(spec)) return undefined;
  let template: Json | undefined;
  switch (obj.kind) {
    case 'Pod':
      return { metadata: obj.metadata, spec };
    case 'CronJob': {
      const jobTemplate = spec['jobTemplate'];
      template = isObject(jobTemplate) && isObject(jobTemplate['spec']) ? jobTemplate['spec']['template'] : undefined;
      break;
    }
    case 'Deployment':
    case 'StatefulSet':
    case 'DaemonSet':
    case 'ReplicaSet':
    case 'Job':
      template = spec['template'];
      break;
    default:
      return undefined;
  }
  if (!isObject(template) || !isObject(template['spec'])) return undefined;
  return { metadata: isObject(template['metadata']) ? template['metadata'] : {}, spec: template['spec'] };
}

export interface ContainerRef {
  container: JsonObject;
  init: boolean;
}

export function containersOf(podSpec: JsonObject): ContainerRef[] {
  const out: ContainerRef[] = [];
  for (const [field, init] of [['initContainers', true], ['containers', false]] as const) {
    const list = podSpec[field];
    if (Array.isArray(list)) for (const c of list) if (isObject(c)) out.push({ container: c, init });
  }
  return out;
}

/** Reads a nested value: get(obj, 'spec', 'template', 'spec'). */
export function get(value: Json | undefined, ...keys: (string | number)[]): Json | undefined {
  let current: Json | undefined = value;
  for (const key of keys) {
    if (typeof key === 'number') current = Array.isArray(current) ? current[key] : undefined;
    else current = isObject(current) ? current[key] : undefined;
    if (current === undefined) return undefined;
  }
  return current;
}

export function asArray(value: Json | undefined): Json[] {
  return Array.isArray(value) ? value : [];
}

export function asObjects(value: Json | undefined): JsonObject[] {
  return asArray(value).filter(isObject);
}

export interface ImageRef {
  name: string;
  tag?: string;
  digest?: string;
}

export function parseImage(ref: string): ImageRef {
  const at = ref.indexOf('@');
  const digest = at >= 0 ? ref.slice(at + 1) : undefined;
  const rest = at >= 0 ? ref.slice(0, at) : ref;
  const colon = rest.lastIndexOf(':');
  const tagged = colon > rest.lastIndexOf('/');
  return { name: tagged ? rest.slice(0, colon) : rest, tag: tagged ? rest.slice(colon + 1) : undefined, digest };
}
