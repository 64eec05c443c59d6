/**
 * Validates rendered objects against the Kubernetes API types of kubernetes-models 4.5.1:
 *  - the model's own validate() (JSON schema: required fields, types, formats, enums);
 *  - unknown fields, which that schema lets through but the API server drops or rejects (a
 *    misspelt `readinessProbe` or `readOnlyRootFileSystem` would silently do nothing). The field
 *    names come from the package's TypeScript declarations, which mirror the OpenAPI schema.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { isObject, type Json } from './patch';
import type { KubeObject } from './objects';

const require = createRequire(import.meta.url);
const modelsIndex = require.resolve('kubernetes-models');
const modelsRoot = path.dirname(modelsIndex);

interface Model {
  validate(): void;
}
type ModelClass = new (data: unknown) => Model;

function modelModule(apiVersion: string): string {
  return `kubernetes-models/${apiVersion}`;
}

/** Runs the kubernetes-models class's validate(); returns the problems (empty when valid). */
export async function validateModel(obj: KubeObject): Promise<string[]> {
  let module: Record<string, unknown>;
  try {
    module = (await import(modelModule(obj.apiVersion))) as Record<string, unknown>;
  } catch {
    return [`no kubernetes-models module for apiVersion ${obj.apiVersion}`];
  }
  const Class = module[obj.kind];
  if (typeof Class !== 'function') return [`kubernetes-models has no ${obj.kind} in ${obj.apiVersion}`];
  try {
    new (Class as ModelClass)(obj).validate();
    return [];
  } catch (error) {
    return [(error as Error).message];
  }
}

// ---------------------------------------------------------------- unknown fields from .d.ts

type FieldType =
  | { kind: 'leaf' }
  | { kind: 'array'; of: FieldType }
  | { kind: 'map'; of: FieldType }
  | { kind: 'ref'; file: string; name: string };

interface Shape {
  fields: Map<string, FieldType>;
}

const shapes = new Map<string, Shape | null>();

function stripComments(text: string): string {
  return text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
}

/** `{ IIoK8sApiCoreV1Probe } from "./Probe"` -> name -> absolute .d.ts path. */
function importsOf(text: string, file: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of text.matchAll(/import\s*\{([^}]*)\}\s*from\s*"([^"]+)"/g)) {
    const spec = m[2];
    let target: string;
    if (spec.startsWith('.')) target = path.resolve(path.dirname(file), `${spec}.d.ts`);
    else if (spec.startsWith('@kubernetes-models/base')) continue;
    else target = createRequire(modelsIndex).resolve(spec).replace(/\.(c|m)?js$/, '.d.ts');
    for (const name of m[1].split(',').map((s) => s.trim()).filter(Boolean)) out.set(name, target);
  }
  return out;
}

function splitTopLevel(body: string): [string, string][] {
  const props: [string, string][] = [];
  let depth = 0;
  let i = 0;
  while (i < body.length) {
    const m = /^\s*"([^"]+)"\??:\s*/.exec(body.slice(i));
    if (!m || depth !== 0) {
      i++;
      continue;
    }
    i += m[0].length;
    let j = i;
    for (; j < body.length; j++) {
      const c = body[j];
      if (c === '{' || c === '<' || c === '(') depth++;
      else if (c === '}' || c === '>' || c === ')') depth--;
      else if (c === ';' && depth === 0) break;
    }
    props.push([m[1], body.slice(i, j).trim()]);
    i = j + 1;
  }
  return props;
}

function parseType(type: string, imports: Map<string, string>): FieldType {
  const t = type.trim();
  const array = /^Array<([\s\S]*)>$/.exec(t);
  if (array) return { kind: 'array', of: parseType(array[1], imports) };
  const map = /^\{\s*\[key: string\]:\s*([\s\S]*?);?\s*\}$/.exec(t);
  if (map) return { kind: 'map', of: parseType(map[1], imports) };
  if (/^[A-Za-z0-9_]+$/.test(t) && imports.has(t)) return { kind: 'ref', file: imports.get(t) as string, name: t };
  return { kind: 'leaf' };
}

/** The first interface declared in a kubernetes-models .d.ts file, or null for type aliases. */
function shapeOf(file: string): Shape | null {
  const cached = shapes.get(file);
  if (cached !== undefined) return cached;
  const text = stripComments(readFileSync(file, 'utf8'));
  const start = /export interface \w+(?: extends [\w, ]+)? \{/.exec(text);
  let shape: Shape | null = null;
  if (start) {
    let depth = 0;
    let end = start.index + start[0].length - 1;
    for (; end < text.length; end++) {
      if (text[end] === '{') depth++;
      else if (text[end] === '}' && --depth === 0) break;
    }
    const imports = importsOf(text, file);
    const body = text.slice(start.index + start[0].length, end);
    shape = { fields: new Map(splitTopLevel(body).map(([name, type]) => [name, parseType(type, imports)])) };
  }
  shapes.set(file, shape);
  return shape;
}

function walk(value: Json | undefined, type: FieldType, where: string, problems: string[]): void {
  if (value === undefined || value === null) return;
  switch (type.kind) {
    case 'leaf':
      return;
    case 'array':
      if (Array.isArray(value)) value.forEach((item, i) => walk(item, type.of, `${where}[${i}]`, problems));
      return;
    case 'map':
      if (isObject(value)) for (const [k, v] of Object.entries(value)) walk(v, type.of, `${where}.${k}`, problems);
      return;
    case 'ref': {
      const shape = shapeOf(type.file);
      if (!shape || !isObject(value)) return;
      for (const [key, child] of Object.entries(value)) {
        const field = shape.fields.get(key);
        if (!field) problems.push(`${where ? `${where}.` : ''}${key}: unknown field`);
        else walk(child, field, where ? `${where}.${key}` : key, problems);
      }
    }
  }
}

/** Fields the Kubernetes type of `obj` does not have, as `spec.template.spec.containers[0].x`. */
export function unknownFields(obj: KubeObject): string[] {
  const file = path.join(modelsRoot, obj.apiVersion, `${obj.kind}.d.ts`);
  const problems: string[] = [];
  try {
    readFileSync(file);
  } catch {
    return [`no type declaration for ${obj.apiVersion} ${obj.kind}`];
  }
  walk(obj, { kind: 'ref', file, name: obj.kind }, '', problems);
  return problems;
}

/** Both checks; an empty list means the object is a valid instance of its Kubernetes type. */
export async function validateManifest(obj: KubeObject): Promise<string[]> {
  return [...(await validateModel(obj)), ...unknownFields(obj)];
}
