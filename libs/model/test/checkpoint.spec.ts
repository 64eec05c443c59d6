import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode } from '@s2g/contracts';
import { SPEC_FRAMES, WINDOW_FRAMES } from '@s2g/audio';
import { FRAME_VALUES } from '@s2g/pose';
import { FsObjectStore } from '@s2g/storage';
import type { TempDir } from '@s2g/testing';
import { tempDir } from '@s2g/testing';
import type { StepLosses, Trainer, TrainingBatch } from '../src/index';
import { MANIFEST_FILE, createTrainer, initBackend, loadGenerator, loadTrainer, mulberry32, randomNormal, readManifest } from '../src/index';

let dir: TempDir;
let store: FsObjectStore;
const B = 2;

/** The batch a run draws at `step` for role D or G: the same on every run, as a seeded loader would give. */
function batchAt(step: number, role: 'D' | 'G'): TrainingBatch {
  const rng = mulberry32(step * 2 + (role === 'D' ? 0 : 1));
  return {
    audio: Float32Array.from({ length: B * SPEC_FRAMES * 64 }, () => randomNormal(rng) - 6),
    pose: Float32Array.from({ length: B * WINDOW_FRAMES * FRAME_VALUES }, () => randomNormal(rng)),
  };
}

async function train(trainer: Trainer, from: number, to: number): Promise<StepLosses[]> {
  const out: StepLosses[] = [];
  for (let s = from; s < to; s++) out.push(await trainer.trainStep(batchAt(s, 'D'), batchAt(s, 'G')));
  return out;
}

/** Every saved value of a trainer: weights, statistics and optimizer moments. */
async function state(store: FsObjectStore, trainer: Trainer, prefix: string): Promise<Map<string, number[]>> {
  await trainer.save(store, prefix);
  const manifest = await readManifest(store, prefix);
  const out = new Map<string, number[]>();
  for (const group of ['generator', 'discriminator', 'optimizer'] as const) {
    const raw = await store.getBuffer(`${prefix}${group}.bin`);
    const all = new Float32Array(new Uint8Array(raw).buffer);
    for (const t of manifest.files[group].tensors) out.set(t.name, Array.from(all.subarray(t.offset, t.offset + t.shape.reduce((a, b) => a * b, 1))));
  }
  return out;
}

beforeAll(async () => {
  await initBackend('cpu', { logger: { info: () => undefined } });
  dir = await tempDir('model-checkpoint');
  store = new FsObjectStore({ root: dir.path });
  await store.ensureReady();
});

afterAll(async () => {
  await dir.cleanup();
});

describe('checkpoints', () => {
  const prefix = 'runs/r1/checkpoints/000000000002/';
  let a: Trainer;

  it('resume exactly: train N, save, train M = load, train M (cpu backend)', async () => {
    a = createTrainer({ preset: 'tiny', seed: 3, learningRate: 1e-3 });
    await train(a, 0, 2);
    const loader = { cursor: 2, order: [3, 1, 4, 1, 5] };
    await a.save(store, prefix, { loader });
    const continued = await train(a, 2, 4);
    const finalA = await state(store, a, 'scratch/a/');

    const { trainer: b, extra, manifest } = await loadTrainer(store, prefix);
    try {
      expect(extra).toEqual({ loader });
      expect(manifest.step).toBe(2);
      expect(b.step).toBe(2);
      expect(b.settings).toEqual(a.settings);
      const resumed = await train(b, 2, 4);
      expect(resumed).toEqual(continued);
      const finalB = await state(store, b, 'scratch/b/');
      expect([...finalB.keys()]).toEqual([...finalA.keys()]);
      for (const [name, values] of finalA) expect(finalB.get(name), name).toEqual(values);
      expect(b.step).toBe(4);
    } finally {
      b.dispose();
    }
  }, 300_000);

  it('saves everything needed: weights, BatchNorm statistics and both optimizers', async () => {
    const manifest = await readManifest(store, prefix);
    const names = (g: 'generator' | 'discriminator' | 'optimizer'): string[] => manifest.files[g].tensors.map((t) => t.name);
    expect(names('generator')).toContain('generator/enc1a/kernel');
    expect(names('generator')).toContain('generator/dec4/moving_variance');
    expect(names('discriminator')).toContain('discriminator/d2/moving_mean');
    expect(names('optimizer')).toContain('generator/m/out/kernel');
    expect(names('optimizer')).toContain('discriminator/v/d4/bias');
    expect(manifest.optimizers).toEqual({ generator: { iterations: 2 }, discriminator: { iterations: 2 } });
    expect(manifest.settings).toMatchObject({ preset: 'tiny', seed: 3, learningRate: 1e-3, ganWeight: 1, beta1: 0.9, beta2: 0.999 });
  });

  it('loads just the generator for inference', async () => {
    const copy = 'runs/r1/checkpoints/gen-only/';
    await a.save(store, copy);
    await store.delete(`${copy}discriminator.bin`);
    await store.delete(`${copy}optimizer.bin`);
    const { generator } = await loadGenerator(store, copy);
    const b = batchAt(9, 'G');
    const [mine, theirs] = tf.tidy(() => {
      const x = tf.tensor4d(b.audio as Float32Array, [B, SPEC_FRAMES, 64, 1]);
      return [generator.apply(x, WINDOW_FRAMES, { training: false, updateStats: false }), a.generator.apply(x, WINDOW_FRAMES, { training: false, updateStats: false })];
    });
    expect(Array.from(mine.dataSync())).toEqual(Array.from(theirs.dataSync()));
    tf.dispose([mine, theirs]);
    generator.dispose();
  });

  it('reports a missing checkpoint as CHECKPOINT_MISSING', async () => {
    await expect(loadTrainer(store, 'runs/none/checkpoints/000000000001/')).rejects.toMatchObject({ code: ErrorCode.CHECKPOINT_MISSING });
    await expect(loadGenerator(store, 'runs/none/checkpoints/000000000001')).rejects.toMatchObject({ code: ErrorCode.CHECKPOINT_MISSING });
  });

  const corruptions: [string, (p: string) => Promise<void>][] = [
    ['a flipped byte in generator.bin', async (p) => {
      const raw = await store.getBuffer(`${p}generator.bin`);
      raw[100] ^= 0xff;
      await store.put(`${p}generator.bin`, raw, raw.byteLength);
    }],
    ['a truncated optimizer.bin', async (p) => {
      const raw = await store.getBuffer(`${p}optimizer.bin`);
      await store.put(`${p}optimizer.bin`, raw.subarray(0, raw.byteLength - 4), raw.byteLength - 4);
    }],
    ['a missing discriminator.bin', (p) => store.delete(`${p}discriminator.bin`)],
    ['a manifest that is not JSON', (p) => store.put(`${p}${MANIFEST_FILE}`, Buffer.from('{"format":'), 10)],
    ['a manifest without tensors', async (p) => {
      const m = JSON.parse((await store.getBuffer(`${p}${MANIFEST_FILE}`)).toString('utf8'));
      m.files.generator.tensors = m.files.generator.tensors.slice(1);
      const json = Buffer.from(JSON.stringify(m));
      await store.put(`${p}${MANIFEST_FILE}`, json, json.byteLength);
    }],
    ['a manifest of another format', async (p) => {
      const m = JSON.parse((await store.getBuffer(`${p}${MANIFEST_FILE}`)).toString('utf8'));
      m.version = 99;
      const json = Buffer.from(JSON.stringify(m));
      await store.put(`${p}${MANIFEST_FILE}`, json, json.byteLength);
    }],
  ];
  corruptions.forEach(([label, damage], i) => {
    it(`reports ${label} as CHECKPOINT_CORRUPT`, async () => {
      const p = `runs/bad/checkpoints/${String(i).padStart(12, '0')}/`;
      await a.save(store, p);
      await damage(p);
      await expect(loadTrainer(store, p)).rejects.toMatchObject({ code: ErrorCode.CHECKPOINT_CORRUPT });
    });
  });

  it('refuses to restore a checkpoint of another preset', async () => {
    const small = createTrainer({ preset: 'small', seed: 0 });
    try {
      await expect(small.restore(store, prefix)).rejects.toMatchObject({ code: ErrorCode.TRAINING_CONFIG_INVALID });
    } finally {
      small.dispose();
      a.dispose();
    }
  });
});
