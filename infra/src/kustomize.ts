/**
 * A small kustomize renderer for tests: the subset of kustomization.yaml that infra/k8s uses, with
 * kustomize's semantics, so that every overlay can be rendered and checked without a kustomize
 * binary. Any field outside the subset is an error, never silently ignored.
 *
 * Supported: resources (files and directories), configMapGenerator / secretGenerator (literals,
 * envs, files; behavior create|merge|replace; name hash suffix with references rewritten in pod
 * specs), generatorOptions, patches (strategic merge or JSON 6902, by identity or target
 * selector), namespace, images.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import { asKubeObject, CLUSTER_SCOPED, containersOf, groupOf, labelsOf, namespaceOf, parseImage, podTemplateOf, type KubeObject } from './objects';
import { applyJsonPatch, clone, isObject, strategicMerge, type Json, type JsonObject, type JsonPatchOp } from './patch';

export interface RenderOptions {
  /**
   * File contents to use instead of the disk, by absolute path: lets tests render an overlay whose
   * input is deliberately not committed (the dev secrets env file).
   */
  files?: Record<string, string>;
}

export class KustomizeError extends Error {
  override name = 'KustomizeError';
}

const KUSTOMIZATION_FILES = ['kustomization.yaml', 'kustomization.yml', 'Kustomization'];
const SUPPORTED_FIELDS = new Set([
  'apiVersion',
  'kind',
  'resources',
  'configMapGenerator',
  'secretGenerator',
  'generatorOptions',
  'patches',
  'namespace',
  'images',
]);
/** kustomize's legacy output order (the kinds used here); other kinds follow, alphabetically. */
const KIND_ORDER = [
  'Namespace',
  'ResourceQuota',
  'LimitRange',
  'ServiceAccount',
  'Role',
  'ClusterRole',
  'RoleBinding',
  'ClusterRoleBinding',
  'ConfigMap',
  'Secret',
  'Service',
  'PersistentVolumeClaim',
  'Deployment',
  'StatefulSet',
  'DaemonSet',
  'Job',
  'CronJob',
  'HorizontalPodAutoscaler',
  'PodDisruptionBudget',
  'NetworkPolicy',
  'Ingress',
];

interface Item {
  obj: KubeObject;
  /** Namespace as written in the source file: patches written against the base still match. */
  originalNamespace: string | undefined;
  /** Set for generated ConfigMaps/Secrets: their final name gets a content hash at the end. */
  hashSuffix?: boolean;
}

interface GeneratorOptions {
  disableNameSuffixHash?: boolean;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

/** Renders the kustomization in `dir`, like `kustomize build dir`. */
export function renderKustomization(dir: string, options: RenderOptions = {}): KubeObject[] {
  const items = build(path.resolve(dir), options, []);
  return finalize(items);
}

function readText(file: string, options: RenderOptions): string {
  const override = options.files?.[file];
  if (override !== undefined) return override;
  if (!existsSync(file)) throw new KustomizeError(`${file} does not exist`);
  return readFileSync(file, 'utf8');
}

function findKustomization(dir: string): string {
  for (const name of KUSTOMIZATION_FILES) {
    const file = path.join(dir, name);
    if (existsSync(file)) return file;
  }
  throw new KustomizeError(`no kustomization.yaml in ${dir}`);
}

function build(dir: string, options: RenderOptions, stack: string[]): Item[] {
  if (stack.includes(dir)) throw new KustomizeError(`cycle in resources: ${[...stack, dir].join(' -> ')}`);
  const file = findKustomization(dir);
  const k: unknown = parse(readText(file, options));
  if (!isObject(k)) throw new KustomizeError(`${file} must be a mapping`);
  const unsupported = Object.keys(k).filter((key) => !SUPPORTED_FIELDS.has(key));
  if (unsupported.length > 0) throw new KustomizeError(`${file}: unsupported fields ${unsupported.join(', ')}`);
  if (k['kind'] !== undefined && k['kind'] !== 'Kustomization') throw new KustomizeError(`${file}: kind must be Kustomization`);

  const items: Item[] = [];
  for (const entry of stringList(k['resources'], `${file}: resources`)) {
    if (/^[a-z]+:\/\//i.test(entry)) throw new KustomizeError(`${file}: remote resource ${entry} is not supported`);
    const target = path.resolve(dir, entry);
    const loaded = existsSync(target) && statSync(target).isDirectory() ? build(target, options, [...stack, dir]) : loadFile(target, options);
    for (const item of loaded) addUnique(items, item, file);
  }

  const generatorDefaults = readGeneratorOptions(k['generatorOptions'], `${file}: generatorOptions`);
  for (const [field, kind] of [['configMapGenerator', 'ConfigMap'], ['secretGenerator', 'Secret']] as const) {
    for (const spec of objectList(k[field], `${file}: ${field}`)) generate(items, kind, spec, dir, generatorDefaults, options, file);
  }

  for (const spec of objectList(k['patches'], `${file}: patches`)) applyPatch(items, spec, dir, options, file);

  if (k['namespace'] !== undefined) {
    if (typeof k['namespace'] !== 'string') throw new KustomizeError(`${file}: namespace must be a string`);
    for (const item of items) if (!CLUSTER_SCOPED.has(item.obj.kind)) item.obj.metadata['namespace'] = k['namespace'];
  }

  for (const spec of objectList(k['images'], `${file}: images`)) setImages(items, spec, file);
  return items;
}

function stringList(value: Json | undefined, where: string): string[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) throw new KustomizeError(`${where} must be a list of strings`);
  return value as string[];
}

function objectList(value: Json | undefined, where: string): JsonObject[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value) || !value.every(isObject)) throw new KustomizeError(`${where} must be a list of mappings`);
  return value as JsonObject[];
}

function checkKeys(spec: JsonObject, allowed: string[], where: string): void {
  const extra = Object.keys(spec).filter((key) => !allowed.includes(key));
  if (extra.length > 0) throw new KustomizeError(`${where}: unsupported fields ${extra.join(', ')}`);
}

function loadFile(file: string, options: RenderOptions): Item[] {
  const docs = parseAllDocuments(readText(file, options));
  const items: Item[] = [];
  for (const doc of docs) {
    if (doc.errors.length > 0) throw new KustomizeError(`${file}: ${doc.errors[0].message}`);
    const value: unknown = doc.toJS();
    if (value === null || value === undefined) continue;
    const obj = asKubeObject(value, file);
    if (obj.kind.endsWith('List')) throw new KustomizeError(`${file}: List objects are not supported`);
    items.push({ obj, originalNamespace: namespaceOf(obj) });
  }
  return items;
}

function idOf(obj: KubeObject): string {
  return `${groupOf(obj.apiVersion)}/${obj.kind}/${namespaceOf(obj) ?? ''}/${obj.metadata.name}`;
}

function addUnique(items: Item[], item: Item, where: string): void {
  if (items.some((existing) => idOf(existing.obj) === idOf(item.obj))) {
    throw new KustomizeError(`${where}: ${item.obj.kind} ${item.obj.metadata.name} is defined twice`);
  }
  items.push(item);
}

// ---------------------------------------------------------------------------------- generators

function stringMap(value: Json | undefined, where: string): Record<string, string> | undefined {
  if (value === undefined) return undefined;
  if (!isObject(value) || !Object.values(value).every((v) => typeof v === 'string')) throw new KustomizeError(`${where} must map strings to strings`);
  return value as Record<string, string>;
}

function readGeneratorOptions(value: Json | undefined, where: string): GeneratorOptions {
  if (value === undefined) return {};
  if (!isObject(value)) throw new KustomizeError(`${where} must be a mapping`);
  checkKeys(value, ['disableNameSuffixHash', 'labels', 'annotations'], where);
  const disable = value['disableNameSuffixHash'];
  if (disable !== undefined && typeof disable !== 'boolean') throw new KustomizeError(`${where}.disableNameSuffixHash must be a boolean`);
  return { disableNameSuffixHash: disable, labels: stringMap(value['labels'], `${where}.labels`), annotations: stringMap(value['annotations'], `${where}.annotations`) };
}

const DATA_KEY = /^[-._a-zA-Z0-9]+$/;

function parseEnvFile(text: string, where: string): [string, string][] {
  const pairs: [string, string][] = [];
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = raw.trimStart();
    if (line === '' || line.startsWith('#')) return;
    const eq = line.indexOf('=');
    // kustomize would read a bare KEY from its own environment: a render must not depend on that.
    if (eq <= 0) throw new KustomizeError(`${where}:${index + 1}: expected KEY=VALUE`);
    pairs.push([line.slice(0, eq), line.slice(eq + 1)]);
  });
  return pairs;
}

function generate(items: Item[], kind: 'ConfigMap' | 'Secret', spec: JsonObject, dir: string, defaults: GeneratorOptions, options: RenderOptions, file: string): void {
  const where = `${file}: ${kind === 'ConfigMap' ? 'configMapGenerator' : 'secretGenerator'}`;
  checkKeys(spec, ['name', 'namespace', 'behavior', 'literals', 'envs', 'files', 'options', ...(kind === 'Secret' ? ['type'] : [])], where);
  const name = spec['name'];
  if (typeof name !== 'string' || name === '') throw new KustomizeError(`${where}: name is required`);
  const behavior = spec['behavior'] ?? 'create';
  if (behavior !== 'create' && behavior !== 'merge' && behavior !== 'replace') throw new KustomizeError(`${where} ${name}: behavior must be create, merge or replace`);
  const own = readGeneratorOptions(spec['options'], `${where} ${name}.options`);
  const opts: GeneratorOptions = {
    disableNameSuffixHash: own.disableNameSuffixHash ?? defaults.disableNameSuffixHash,
    labels: { ...defaults.labels, ...own.labels },
    annotations: { ...defaults.annotations, ...own.annotations },
  };

  const data: [string, string][] = [];
  for (const literal of stringList(spec['literals'], `${where} ${name}.literals`)) {
    const eq = literal.indexOf('=');
    if (eq <= 0) throw new KustomizeError(`${where} ${name}: literal "${literal}" is not KEY=VALUE`);
    data.push([literal.slice(0, eq), literal.slice(eq + 1)]);
  }
  for (const envFile of stringList(spec['envs'], `${where} ${name}.envs`)) {
    const full = path.resolve(dir, envFile);
    data.push(...parseEnvFile(readText(full, options), full));
  }
  for (const entry of stringList(spec['files'], `${where} ${name}.files`)) {
    const eq = entry.indexOf('=');
    const key = eq > 0 ? entry.slice(0, eq) : path.basename(entry);
    data.push([key, readText(path.resolve(dir, eq > 0 ? entry.slice(eq + 1) : entry), options)]);
  }
  const values: Record<string, string> = {};
  for (const [key, value] of data) {
    if (!DATA_KEY.test(key)) throw new KustomizeError(`${where} ${name}: "${key}" is not a valid key`);
    if (key in values) throw new KustomizeError(`${where} ${name}: key ${key} is given twice`);
    values[key] = value;
  }

  const namespace = typeof spec['namespace'] === 'string' ? spec['namespace'] : undefined;
  const existing = items.find((item) => item.obj.kind === kind && item.obj.metadata.name === name && (namespace === undefined || namespaceOf(item.obj) === namespace));
  const encode = (v: string): string => (kind === 'Secret' ? Buffer.from(v, 'utf8').toString('base64') : v);

  if (behavior === 'create') {
    if (existing) throw new KustomizeError(`${where}: ${kind} ${name} already exists; use behavior merge or replace`);
    const metadata: KubeObject['metadata'] = { name };
    if (namespace) metadata['namespace'] = namespace;
    if (opts.labels && Object.keys(opts.labels).length > 0) metadata['labels'] = opts.labels;
    if (opts.annotations && Object.keys(opts.annotations).length > 0) metadata['annotations'] = opts.annotations;
    const obj: KubeObject = { apiVersion: 'v1', kind, metadata, data: Object.fromEntries(Object.entries(values).map(([k, v]) => [k, encode(v)])) };
    if (kind === 'Secret') obj['type'] = typeof spec['type'] === 'string' ? spec['type'] : 'Opaque';
    items.push({ obj, originalNamespace: namespace, hashSuffix: opts.disableNameSuffixHash !== true });
    return;
  }
  if (!existing) throw new KustomizeError(`${where}: behavior ${behavior} needs an existing ${kind} ${name}`);
  const previous = behavior === 'merge' && isObject(existing.obj['data']) ? existing.obj['data'] : {};
  existing.obj['data'] = { ...previous, ...Object.fromEntries(Object.entries(values).map(([k, v]) => [k, encode(v)])) };
  if (opts.labels && Object.keys(opts.labels).length > 0) existing.obj.metadata['labels'] = { ...labelsOf(existing.obj.metadata), ...opts.labels };
  if (own.disableNameSuffixHash !== undefined) existing.hashSuffix = !own.disableNameSuffixHash;
}

// ------------------------------------------------------------------------------------- patches

interface Target {
  group?: string;
  version?: string;
  kind?: string;
  name?: string;
  namespace?: string;
  labelSelector?: string;
}

function anchored(pattern: string): RegExp {
  return new RegExp(`^(?:${pattern})$`);
}

function matchLabelSelector(selector: string, labels: Record<string, string>): boolean {
  return selector
    .split(',')
    .map((term) => term.trim())
    .filter((term) => term !== '')
    .every((term) => {
      const ne = /^([^!=\s]+)\s*!=\s*(\S*)$/.exec(term);
      if (ne) return labels[ne[1]] !== ne[2];
      const eq = /^([^!=\s]+)\s*==?\s*(\S*)$/.exec(term);
      if (eq) return labels[eq[1]] === eq[2];
      if (/^!?[-./a-zA-Z0-9_]+$/.test(term)) return term.startsWith('!') ? !(term.slice(1) in labels) : term in labels;
      throw new KustomizeError(`label selector term "${term}" is not supported`);
    });
}

function selects(target: Target, obj: KubeObject): boolean {
  const [group, version] = obj.apiVersion.includes('/') ? obj.apiVersion.split('/') : ['', obj.apiVersion];
  if (target.group !== undefined && target.group !== group) return false;
  if (target.version !== undefined && target.version !== version) return false;
  if (target.kind !== undefined && !anchored(target.kind).test(obj.kind)) return false;
  if (target.name !== undefined && !anchored(target.name).test(obj.metadata.name)) return false;
  if (target.namespace !== undefined && !anchored(target.namespace).test(namespaceOf(obj) ?? '')) return false;
  if (target.labelSelector !== undefined && !matchLabelSelector(target.labelSelector, labelsOf(obj.metadata))) return false;
  return true;
}

function readTarget(value: Json | undefined, where: string): Target | undefined {
  if (value === undefined) return undefined;
  if (!isObject(value)) throw new KustomizeError(`${where}: target must be a mapping`);
  checkKeys(value, ['group', 'version', 'kind', 'name', 'namespace', 'labelSelector'], `${where}: target`);
  for (const [key, v] of Object.entries(value)) if (typeof v !== 'string') throw new KustomizeError(`${where}: target.${key} must be a string`);
  return value as Target;
}

function applyPatch(items: Item[], spec: JsonObject, dir: string, options: RenderOptions, file: string): void {
  checkKeys(spec, ['path', 'patch', 'target'], `${file}: patches`);
  const source = typeof spec['path'] === 'string' ? path.resolve(dir, spec['path']) : undefined;
  const where = source ?? `${file}: inline patch`;
  const text = source ? readText(source, options) : spec['patch'];
  if (typeof text !== 'string') throw new KustomizeError(`${file}: a patch needs path or patch`);
  const docs = parseAllDocuments(text);
  if (docs.length !== 1 || docs[0].errors.length > 0) throw new KustomizeError(`${where}: a patch must be one YAML document${docs[0]?.errors[0] ? `: ${docs[0].errors[0].message}` : ''}`);
  const body = docs[0].toJS() as Json;
  const target = readTarget(spec['target'], where);

  if (Array.isArray(body)) {
    if (!target) throw new KustomizeError(`${where}: a JSON 6902 patch needs a target`);
    const ops = body.map((op, index) => {
      if (!isObject(op) || typeof op['op'] !== 'string' || typeof op['path'] !== 'string') throw new KustomizeError(`${where}: operation ${index} needs op and path`);
      return op as unknown as JsonPatchOp;
    });
    const matched = items.filter((item) => selects(target, item.obj));
    if (matched.length === 0) throw new KustomizeError(`${where}: target matches no resource`);
    for (const item of matched) item.obj = asKubeObject(applyJsonPatch(item.obj, ops), where);
    return;
  }

  const patch = asKubeObject(body, where);
  let matched: Item[];
  if (target) {
    matched = items.filter((item) => selects(target, item.obj));
    if (matched.length === 0) throw new KustomizeError(`${where}: target matches no resource`);
  } else {
    const ns = namespaceOf(patch);
    matched = items.filter(
      (item) =>
        item.obj.kind === patch.kind &&
        groupOf(item.obj.apiVersion) === groupOf(patch.apiVersion) &&
        item.obj.metadata.name === patch.metadata.name &&
        (ns === undefined || ns === namespaceOf(item.obj) || ns === item.originalNamespace),
    );
    if (matched.length !== 1) throw new KustomizeError(`${where}: ${matched.length} resources match ${patch.kind} ${patch.metadata.name}, need exactly one`);
  }
  for (const item of matched) {
    const { apiVersion, kind, metadata } = item.obj;
    const merged = strategicMerge(item.obj, { ...patch, apiVersion, kind, metadata: { ...patch.metadata, name: metadata.name } });
    item.obj = asKubeObject(merged, where);
  }
}

// -------------------------------------------------------------------------------------- images

function setImages(items: Item[], spec: JsonObject, file: string): void {
  checkKeys(spec, ['name', 'newName', 'newTag', 'digest'], `${file}: images`);
  const { name, newName, newTag, digest } = spec;
  if (typeof name !== 'string') throw new KustomizeError(`${file}: images[].name is required`);
  for (const [key, v] of Object.entries({ newName, newTag, digest })) {
    if (v !== undefined && typeof v !== 'string') throw new KustomizeError(`${file}: images[].${key} must be a string (quote numeric tags)`);
  }
  for (const item of items) {
    const template = podTemplateOf(item.obj);
    if (!template) continue;
    for (const { container } of containersOf(template.spec)) {
      if (typeof container['image'] !== 'string') continue;
      const current = parseImage(container['image']);
      if (current.name !== name) continue;
      const finalName = typeof newName === 'string' ? newName : current.name;
      if (typeof digest === 'string') container['image'] = `${finalName}@${digest}`;
      else if (typeof newTag === 'string') container['image'] = `${finalName}:${newTag}`;
      else container['image'] = `${finalName}${current.tag ? `:${current.tag}` : ''}${current.digest ? `@${current.digest}` : ''}`;
    }
  }
}

// ------------------------------------------------------------------------------------ finalize

/** Go's encoding/json output for a value: object keys sorted, <, >, & and U+2028/9 escaped. */
function goJson(value: Json): string {
  if (Array.isArray(value)) return `[${value.map(goJson).join(',')}]`;
  if (isObject(value)) {
    const keys = Object.keys(value).sort();
    return `{${keys.map((k) => `${goJson(k)}:${goJson(value[k])}`).join(',')}}`;
  }
  return JSON.stringify(value).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** kustomize's name suffix: sha256 of the encoded object, 10 hex digits with some letters swapped. */
export function nameHash(obj: KubeObject): string {
  const encoded: JsonObject = { kind: obj.kind, name: obj.metadata.name, data: obj['data'] ?? {} };
  if (obj.kind === 'Secret') encoded['type'] = obj['type'] ?? 'Opaque';
  if (obj.kind === 'ConfigMap' && obj['binaryData'] !== undefined) encoded['binaryData'] = obj['binaryData'];
  const hex = createHash('sha256').update(goJson(encoded)).digest('hex');
  const swap: Record<string, string> = { '0': 'g', '1': 'h', '3': 'k', a: 'm', e: 't' };
  return [...hex.slice(0, 10)].map((c) => swap[c] ?? c).join('');
}

function kindOrder(kind: string): number {
  const index = KIND_ORDER.indexOf(kind);
  return index >= 0 ? index : KIND_ORDER.length;
}

function finalize(items: Item[]): KubeObject[] {
  const renames = new Map<string, string>();
  const key = (kind: string, ns: string | undefined, name: string): string => `${kind}/${ns ?? ''}/${name}`;
  for (const item of items) {
    if (!item.hashSuffix) continue;
    const name = item.obj.metadata.name;
    const hashed = `${name}-${nameHash(item.obj)}`;
    renames.set(key(item.obj.kind, namespaceOf(item.obj), name), hashed);
    item.obj.metadata.name = hashed;
  }
  const out = items.map((item) => clone(item.obj) as KubeObject);
  if (renames.size > 0) {
    for (const obj of out) {
      const template = podTemplateOf(obj);
      if (template) rewritePodReferences(template.spec, (kind, name) => renames.get(key(kind, namespaceOf(obj), name)));
    }
  }
  return out
    .map((obj, index) => ({ obj, index }))
    .sort((a, b) => kindOrder(a.obj.kind) - kindOrder(b.obj.kind) || (kindOrder(a.obj.kind) === KIND_ORDER.length ? a.obj.kind.localeCompare(b.obj.kind) : 0) || a.index - b.index)
    .map(({ obj }) => obj);
}

type Rename = (kind: 'ConfigMap' | 'Secret', name: string) => string | undefined;

/** Points a pod spec's ConfigMap/Secret references at the generated (hashed) names. */
function rewritePodReferences(podSpec: JsonObject, rename: Rename): void {
  const swap = (holder: Json | undefined, field: string, kind: 'ConfigMap' | 'Secret'): void => {
    if (!isObject(holder) || typeof holder[field] !== 'string') return;
    const renamed = rename(kind, holder[field] as string);
    if (renamed) holder[field] = renamed;
  };
  for (const { container } of containersOf(podSpec)) {
    for (const env of Array.isArray(container['env']) ? container['env'] : []) {
      if (!isObject(env) || !isObject(env['valueFrom'])) continue;
      swap(env['valueFrom']['configMapKeyRef'], 'name', 'ConfigMap');
      swap(env['valueFrom']['secretKeyRef'], 'name', 'Secret');
    }
    for (const source of Array.isArray(container['envFrom']) ? container['envFrom'] : []) {
      if (!isObject(source)) continue;
      swap(source['configMapRef'], 'name', 'ConfigMap');
      swap(source['secretRef'], 'name', 'Secret');
    }
  }
  for (const volume of Array.isArray(podSpec['volumes']) ? podSpec['volumes'] : []) {
    if (!isObject(volume)) continue;
    swap(volume['configMap'], 'name', 'ConfigMap');
    swap(volume['secret'], 'secretName', 'Secret');
    const projected = volume['projected'];
    for (const source of isObject(projected) && Array.isArray(projected['sources']) ? projected['sources'] : []) {
      if (!isObject(source)) continue;
      swap(source['configMap'], 'name', 'ConfigMap');
      swap(source['secret'], 'name', 'Secret');
    }
  }
  for (const pullSecret of Array.isArray(podSpec['imagePullSecrets']) ? podSpec['imagePullSecrets'] : []) swap(pullSecret, 'name', 'Secret');
}
