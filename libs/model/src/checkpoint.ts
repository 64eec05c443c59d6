import { createHash } from 'node:crypto';
import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { ErrorCode, MODEL_PRESETS, S2gError } from '@s2g/contracts';
import type { ObjectStore } from '@s2g/storage';
import { normalizePrefix } from '@s2g/storage';

/**
 * Checkpoint layout under a key prefix (e.g. `runs/<runId>/checkpoints/<step>/`):
 *   generator.bin, discriminator.bin, optimizer.bin  raw little-endian float32 tensors, concatenated
 *   manifest.json                                    names, shapes, offsets, sha256 of each file,
 *                                                    step, settings and the caller's extra JSON
 * The manifest is written last, so a checkpoint without one is incomplete (missing); a manifest whose
 * files are absent, of the wrong size or hash, or lack a tensor is corrupt. Inference reads only the
 * manifest and generator.bin.
 */
export const CHECKPOINT_FORMAT = 's2g-model-checkpoint';
export const CHECKPOINT_VERSION = 1;
export const MANIFEST_FILE = 'manifest.json';

export const CHECKPOINT_GROUPS = ['generator', 'discriminator', 'optimizer'] as const;
export type CheckpointGroup = (typeof CHECKPOINT_GROUPS)[number];

/** A tensor to save: its checkpoint name (prefixed by its group, e.g. `generator/enc1a/kernel`). */
export interface NamedVariable {
  name: string;
  group: CheckpointGroup;
  variable: tf.Variable;
}

const tensorEntry = z.object({
  name: z.string().min(1),
  shape: z.array(z.number().int().nonnegative()),
  /** Offset in float32 elements inside its group's file. */
  offset: z.number().int().nonnegative(),
});

const fileEntry = z.object({
  key: z.string().min(1),
  bytes: z.number().int().nonnegative(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  tensors: z.array(tensorEntry),
});

export const trainerSettingsSchema = z.object({
  preset: z.enum(MODEL_PRESETS),
  learningRate: z.number().positive(),
  beta1: z.number().min(0).lt(1),
  beta2: z.number().min(0).lt(1),
  epsilon: z.number().positive(),
  ganWeight: z.number().nonnegative(),
  seed: z.number().int(),
});
export type TrainerSettings = z.infer<typeof trainerSettingsSchema>;

const manifestSchema = z.object({
  format: z.literal(CHECKPOINT_FORMAT),
  version: z.literal(CHECKPOINT_VERSION),
  byteOrder: z.literal('little'),
  dtype: z.literal('float32'),
  step: z.number().int().nonnegative(),
  settings: trainerSettingsSchema,
  optimizers: z.object({
    generator: z.object({ iterations: z.number().int().nonnegative() }),
    discriminator: z.object({ iterations: z.number().int().nonnegative() }),
  }),
  files: z.object({ generator: fileEntry, discriminator: fileEntry, optimizer: fileEntry }),
  /** Anything the caller wants back on resume (data loader position, metrics, ...). */
  extra: z.unknown(),
  savedAt: z.string(),
});
export type CheckpointManifest = z.infer<typeof manifestSchema>;

export type ManifestHeader = Pick<CheckpointManifest, 'step' | 'settings' | 'optimizers' | 'extra'>;

function corrupt(prefix: string, reason: string, cause?: unknown): S2gError {
  return new S2gError(ErrorCode.CHECKPOINT_CORRUPT, `checkpoint at ${prefix} is corrupt: ${reason}`, { prefix, reason }, { cause });
}

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

function checkPlatform(): void {
  // The files are raw float32 in host order; every platform Node and tfjs run on is little-endian.
  if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1) throw new Error('big-endian hosts are not supported');
}

/** Writes a checkpoint. Returns the manifest written. */
export async function writeCheckpoint(
  store: ObjectStore,
  prefix: string,
  header: ManifestHeader,
  variables: readonly NamedVariable[],
): Promise<CheckpointManifest> {
  checkPlatform();
  const dir = normalizePrefix(prefix);
  const files = {} as CheckpointManifest['files'];
  for (const group of CHECKPOINT_GROUPS) {
    const members = variables.filter((v) => v.group === group);
    const total = members.reduce((n, v) => n + v.variable.size, 0);
    const data = new Float32Array(total);
    const tensors: CheckpointManifest['files'][CheckpointGroup]['tensors'] = [];
    let offset = 0;
    for (const v of members) {
      data.set(await v.variable.data<'float32'>(), offset);
      tensors.push({ name: v.name, shape: [...v.variable.shape], offset });
      offset += v.variable.size;
    }
    const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    const key = `${group}.bin`;
    await store.put(`${dir}${key}`, bytes, bytes.byteLength, { contentType: 'application/octet-stream' });
    files[group] = { key, bytes: bytes.byteLength, sha256: sha256(bytes), tensors };
  }
  const manifest: CheckpointManifest = {
    format: CHECKPOINT_FORMAT,
    version: CHECKPOINT_VERSION,
    byteOrder: 'little',
    dtype: 'float32',
    ...header,
    extra: header.extra ?? null,
    files,
    savedAt: new Date().toISOString(),
  };
  const json = Buffer.from(JSON.stringify(manifest, null, 1), 'utf8');
  await store.put(`${dir}${MANIFEST_FILE}`, json, json.byteLength, { contentType: 'application/json' });
  return manifest;
}

/** Reads and validates a checkpoint's manifest. */
export async function readManifest(store: ObjectStore, prefix: string): Promise<CheckpointManifest> {
  const dir = normalizePrefix(prefix);
  let raw: Buffer;
  try {
    raw = await store.getBuffer(`${dir}${MANIFEST_FILE}`);
  } catch (e) {
    if (e instanceof S2gError && e.code === ErrorCode.STORAGE_NOT_FOUND) {
      throw new S2gError(ErrorCode.CHECKPOINT_MISSING, `no checkpoint at ${dir}`, { prefix: dir }, { cause: e });
    }
    throw e;
  }
  let json: unknown;
  try {
    json = JSON.parse(raw.toString('utf8'));
  } catch (e) {
    throw corrupt(dir, 'manifest is not JSON', e);
  }
  const parsed = manifestSchema.safeParse(json);
  if (!parsed.success) throw corrupt(dir, `manifest is invalid: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  return parsed.data;
}

export interface LoadedTensor {
  shape: number[];
  data: Float32Array;
}

/** Reads the tensors of some groups, verifying sizes and hashes. */
export async function readTensors(
  store: ObjectStore,
  prefix: string,
  manifest: CheckpointManifest,
  groups: readonly CheckpointGroup[],
): Promise<Map<string, LoadedTensor>> {
  checkPlatform();
  const dir = normalizePrefix(prefix);
  const out = new Map<string, LoadedTensor>();
  for (const group of groups) {
    const entry = manifest.files[group];
    let raw: Buffer;
    try {
      raw = await store.getBuffer(`${dir}${entry.key}`);
    } catch (e) {
      if (e instanceof S2gError && e.code === ErrorCode.STORAGE_NOT_FOUND) throw corrupt(dir, `${entry.key} is missing`, e);
      throw e;
    }
    if (raw.byteLength !== entry.bytes) throw corrupt(dir, `${entry.key} has ${raw.byteLength} bytes, manifest says ${entry.bytes}`);
    if (sha256(raw) !== entry.sha256) throw corrupt(dir, `${entry.key} does not match its sha256`);
    // Copy into an aligned buffer: a Buffer's offset into its pool need not be a multiple of 4.
    const all = new Float32Array(raw.byteLength / 4);
    new Uint8Array(all.buffer).set(raw);
    for (const t of entry.tensors) {
      const size = t.shape.reduce((a, b) => a * b, 1);
      if (t.offset + size > all.length) throw corrupt(dir, `tensor ${t.name} runs past the end of ${entry.key}`);
      out.set(t.name, { shape: t.shape, data: all.subarray(t.offset, t.offset + size) });
    }
  }
  return out;
}

/** Assigns loaded values to variables; every variable must be present with its exact shape. */
export function assignTensors(prefix: string, loaded: Map<string, LoadedTensor>, variables: readonly NamedVariable[]): void {
  for (const v of variables) {
    const t = loaded.get(v.name);
    if (!t) throw corrupt(prefix, `tensor ${v.name} is missing`);
    if (t.shape.length !== v.variable.shape.length || t.shape.some((d, i) => d !== v.variable.shape[i])) {
      throw corrupt(prefix, `tensor ${v.name} has shape [${t.shape.join(', ')}], expected [${v.variable.shape.join(', ')}]`);
    }
  }
  for (const v of variables) {
    const t = loaded.get(v.name) as LoadedTensor;
    tf.tidy(() => v.variable.assign(tf.tensor(t.data, t.shape, 'float32')));
  }
}
