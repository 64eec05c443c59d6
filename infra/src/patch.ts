/**
 * The two patch formats kustomize's `patches` field accepts, for the shapes these manifests use:
 * strategic merge (maps merge, `null` deletes, named lists merge by their Kubernetes merge key,
 * `$patch: delete|replace`) and JSON 6902 (add, remove, replace, test).
 */

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

export function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function clone<T extends Json>(value: T): T {
  return structuredClone(value);
}

/**
 * patchMergeKey of the Kubernetes list fields, by field name. `ports` depends on the owner: a
 * container's ports merge by containerPort, a Service's by port. Lists not named here are atomic:
 * the patch's list replaces the target's, as the API server does (e.g. tolerations, args).
 */
function mergeKeyFor(field: string, items: Json[]): string | undefined {
  switch (field) {
    case 'containers':
    case 'initContainers':
    case 'ephemeralContainers':
    case 'env':
    case 'volumes':
    case 'imagePullSecrets':
      return 'name';
    case 'volumeMounts':
      return 'mountPath';
    case 'volumeDevices':
      return 'devicePath';
    case 'topologySpreadConstraints':
      return 'topologyKey';
    case 'ports':
      return items.some((item) => isObject(item) && 'containerPort' in item) ? 'containerPort' : 'port';
    default:
      return undefined;
  }
}

export class PatchError extends Error {
  override name = 'PatchError';
}

/** Applies a strategic merge patch; returns the merged value (`undefined` means "delete"). */
export function strategicMerge(target: Json | undefined, patch: Json, field = ''): Json | undefined {
  if (isObject(patch)) {
    const directive = patch['$patch'];
    if (directive === 'delete') return undefined;
    const body: JsonObject = {};
    for (const [key, value] of Object.entries(patch)) {
      if (key === '$patch') continue;
      if (key.startsWith('$')) throw new PatchError(`strategic merge directive ${key} is not supported (at ${field || 'root'})`);
      body[key] = value;
    }
    if (directive === 'replace') return stripNulls(body);
    if (directive !== undefined) throw new PatchError(`unknown $patch: ${String(directive)}`);
    const result: JsonObject = isObject(target) ? { ...target } : {};
    for (const [key, value] of Object.entries(body)) {
      if (value === null) {
        delete result[key];
        continue;
      }
      const merged = strategicMerge(result[key], value, key);
      if (merged === undefined) delete result[key];
      else result[key] = merged;
    }
    return result;
  }
  if (Array.isArray(patch)) return mergeList(Array.isArray(target) ? target : undefined, patch, field);
  return patch;
}

function stripNulls(value: Json): Json {
  if (Array.isArray(value)) return value.map(stripNulls);
  if (!isObject(value)) return value;
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== null).map(([k, v]) => [k, stripNulls(v)]));
}

function mergeList(target: Json[] | undefined, patch: Json[], field: string): Json[] {
  // `- $patch: replace` anywhere in the patch list: the remaining items are the whole new list.
  if (patch.some((item) => isObject(item) && item['$patch'] === 'replace' && Object.keys(item).length === 1)) {
    return patch.filter((item) => !(isObject(item) && item['$patch'] === 'replace'));
  }
  const key = mergeKeyFor(field, [...(target ?? []), ...patch]);
  if (!key || !target) {
    if (patch.some((item) => isObject(item) && '$patch' in item)) {
      throw new PatchError(`$patch in list "${field}" needs a list with a merge key and an existing target`);
    }
    return patch;
  }
  const result = [...target];
  for (const item of patch) {
    if (!isObject(item) || !(key in item)) throw new PatchError(`items of "${field}" must be objects with "${key}"`);
    const index = result.findIndex((existing) => isObject(existing) && existing[key] === item[key]);
    const merged = strategicMerge(index >= 0 ? result[index] : undefined, item, field);
    if (index >= 0) {
      if (merged === undefined) result.splice(index, 1);
      else result[index] = merged;
    } else if (merged !== undefined) {
      result.push(merged);
    }
  }
  return result;
}

export interface JsonPatchOp {
  op: string;
  path: string;
  value?: Json;
}

function parsePointer(pointer: string): string[] {
  if (pointer === '') return [];
  if (!pointer.startsWith('/')) throw new PatchError(`JSON pointer must start with "/": ${pointer}`);
  return pointer
    .slice(1)
    .split('/')
    .map((token) => token.replace(/~1/g, '/').replace(/~0/g, '~'));
}

/** Applies JSON 6902 operations (add, remove, replace, test) to a copy of the document. */
export function applyJsonPatch(document: Json, ops: JsonPatchOp[]): Json {
  let doc = clone(document);
  for (const operation of ops) {
    const tokens = parsePointer(operation.path);
    if (tokens.length === 0) {
      if (operation.op === 'replace' || operation.op === 'add') doc = clone(requireValue(operation));
      else throw new PatchError(`op ${operation.op} on the document root is not supported`);
      continue;
    }
    const parentPath = tokens.slice(0, -1);
    const last = tokens[tokens.length - 1];
    let parent: Json = doc;
    for (const token of parentPath) {
      const next: Json | undefined = Array.isArray(parent) ? parent[arrayIndex(token, parent.length - 1)] : isObject(parent) ? parent[token] : undefined;
      if (next === undefined) throw new PatchError(`path ${operation.path} does not exist (at "${token}")`);
      parent = next;
    }
    switch (operation.op) {
      case 'add':
        if (Array.isArray(parent)) {
          const index = last === '-' ? parent.length : arrayIndex(last, parent.length);
          parent.splice(index, 0, clone(requireValue(operation)));
        } else if (isObject(parent)) {
          parent[last] = clone(requireValue(operation));
        } else throw new PatchError(`cannot add under a scalar at ${operation.path}`);
        break;
      case 'remove':
      case 'replace': {
        if (Array.isArray(parent)) {
          const index = arrayIndex(last, parent.length - 1);
          if (operation.op === 'remove') parent.splice(index, 1);
          else parent[index] = clone(requireValue(operation));
        } else if (isObject(parent) && last in parent) {
          if (operation.op === 'remove') delete parent[last];
          else parent[last] = clone(requireValue(operation));
        } else throw new PatchError(`path ${operation.path} does not exist`);
        break;
      }
      case 'test': {
        const actual = Array.isArray(parent) ? parent[arrayIndex(last, parent.length - 1)] : isObject(parent) ? parent[last] : undefined;
        if (JSON.stringify(actual) !== JSON.stringify(requireValue(operation))) throw new PatchError(`test failed at ${operation.path}`);
        break;
      }
      default:
        throw new PatchError(`JSON patch op "${operation.op}" is not supported`);
    }
  }
  return doc;
}

function requireValue(operation: JsonPatchOp): Json {
  if (operation.value === undefined) throw new PatchError(`op ${operation.op} at ${operation.path} needs a value`);
  return operation.value;
}

function arrayIndex(token: string, max: number): number {
  if (!/^(0|[1-9][0-9]*)$/.test(token)) throw new PatchError(`"${token}" is not an array index`);
  const index = Number(token);
  if (index > max) throw new PatchError(`array index ${index} is out of range`);
  return index;
}
