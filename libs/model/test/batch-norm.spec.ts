import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { loadNative } from '@s2g/native';
import { beforeAll, describe, expect, it } from 'vitest';
import { BATCH_NORM_TRAIN, batchNormTrain, batchNormTrainGrad } from '../src/kernels/batch-norm';
import type { BatchNormAttrs } from '../src/kernels/batch-norm';
import { registerNativeWasmKernels } from '../src/kernels/native';
import { registerTrainingKernels } from '../src/kernels/register';
import { relErr, values } from './parity';

/**
 * The fused native BatchNorm + LeakyReLU training kernels against the tfjs-ops formulation they
 * replace (run on the cpu backend), within 1e-4 relative error.
 */
const native = loadNative().kernels;
const required = process.env.CI === 'true';

interface Case {
  shape: number[];
  leaky: boolean;
}

const CASES: Case[] = [
  { shape: [2, 5, 3, 7], leaky: true },
  { shape: [2, 5, 3, 7], leaky: false },
  { shape: [4, 1, 9, 16], leaky: true },
  { shape: [1, 1, 1, 3], leaky: true },
  // Several thousand rows: the kernels split rows across threads.
  { shape: [3, 40, 33, 24], leaky: true },
];

async function both(backend: string, c: Case): Promise<Float32Array[]> {
  await tf.setBackend(backend);
  const channels = c.shape[c.shape.length - 1];
  const size = c.shape.reduce((a, b) => a * b, 1);
  const attrs: BatchNormAttrs = { epsilon: 1e-3, leaky: c.leaky, alpha: 0.2 };
  const z = tf.tensor(values(size, 1, 0.3), c.shape);
  const gamma = tf.tensor1d(values(channels, 2, 1));
  const beta = tf.tensor1d(values(channels, 3));
  const dy = tf.tensor(values(size, 4), c.shape);
  const f = batchNormTrain(z, gamma, beta, attrs);
  const g = batchNormTrainGrad(dy, f.y, f.xhat, gamma, f.rstd, attrs);
  const outs = [f.xhat, f.y, f.mean, f.variance, f.rstd, g.dz, g.dbias, g.dgamma, g.dbeta];
  const data = await Promise.all(outs.map(async (t) => (await t.data()) as Float32Array));
  tf.dispose([z, gamma, beta, dy, ...outs]);
  return data;
}

describe.skipIf(!native && !required)('fused BatchNorm training kernels (native)', () => {
  beforeAll(async () => {
    if (!native) throw new Error('CI=true: the native kernels must be built (libs/native/scripts/build.mjs)');
    tf.env().set('PROD', true);
    registerTrainingKernels('wasm');
    registerNativeWasmKernels(native);
    expect(await tf.setBackend('wasm')).toBe(true);
    expect(tf.getKernel(BATCH_NORM_TRAIN, 'wasm')).toBeDefined();
    expect(tf.getKernel(BATCH_NORM_TRAIN, 'cpu')).toBeUndefined();
  });

  const names = ['xhat', 'y', 'mean', 'variance', 'rstd', 'dz', 'dbias', 'dgamma', 'dbeta'];
  for (const c of CASES) {
    it(`match the tfjs ops: ${c.shape.join('x')}, ${c.leaky ? 'leaky relu' : 'linear'}`, async () => {
      const ours = await both('wasm', c);
      const reference = await both('cpu', c);
      names.forEach((name, i) => {
        // dbias is the sum of dz, which is zero up to rounding: compare it on dz's scale instead.
        const dzScale = Math.max(1, ...reference[5].map(Math.abs));
        const err = name === 'dbias' ? Math.max(...ours[i].map((v, k) => Math.abs(v - reference[i][k]))) / dzScale : relErr(ours[i], reference[i]);
        expect(err, name).toBeLessThan(1e-4);
      });
    });
  }

  it('frees what it does not return', async () => {
    await tf.setBackend('wasm');
    const c = CASES[0];
    await both('wasm', c);
    const before = tf.memory().numTensors;
    await both('wasm', c);
    expect(tf.memory().numTensors).toBe(before);
  });
});
