import * as tf from '@tensorflow/tfjs';
import { createRequire } from 'node:module';
import { afterEach, describe, expect, it } from 'vitest';
import { ErrorCode } from '@s2g/contracts';
import { initBackend } from '../src/index';

// Two wasm threads wherever the backend is first initialised in this file (the count is fixed then).
process.env.TF_WASM_THREADS = '2';

const logs: Record<string, unknown>[] = [];
const logger = { info: (fields: Record<string, unknown>) => void logs.push(fields) };

function installed(pkg: string): boolean {
  try {
    createRequire(import.meta.url).resolve(pkg);
    return true;
  } catch {
    return false;
  }
}

function relErr(a: Float32Array, b: Float32Array): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < a.length; i++) {
    num += (a[i] - b[i]) ** 2;
    den += b[i] ** 2;
  }
  return Math.sqrt(num / Math.max(den, 1e-30));
}

afterEach(() => {
  delete process.env.TF_BACKEND;
  logs.length = 0;
});

describe('initBackend', () => {
  it('selects a named backend, logs and returns it', async () => {
    const info = await initBackend('cpu', { logger });
    expect(info).toMatchObject({ backend: 'cpu', tfBackend: 'cpu' });
    expect(tf.getBackend()).toBe('cpu');
    expect(logs[0]).toMatchObject({ backend: 'cpu', requested: 'cpu' });
  });

  it('follows TF_BACKEND when no backend is named', async () => {
    process.env.TF_BACKEND = 'wasm';
    const info = await initBackend(undefined, { logger });
    expect(info.backend).toBe('wasm');
    expect(info.device).toMatch(/wasm/);
    expect(tf.getBackend()).toBe('wasm');
  });

  it('takes the first working backend in auto mode: node-gpu, node, wasm, cpu', async () => {
    const info = await initBackend('auto', { logger });
    const expected = installed('@tensorflow/tfjs-node-gpu') ? 'node-gpu' : installed('@tensorflow/tfjs-node') ? 'node' : 'wasm';
    if (expected === 'wasm') {
      expect(info.backend).toBe('wasm');
      expect(Object.keys(logs[0].skipped as object)).toEqual(['node-gpu', 'node']);
    } else {
      expect(['node-gpu', 'node']).toContain(info.backend);
    }
  });

  it('fails clearly for an unknown or unavailable backend', async () => {
    await expect(initBackend('webgl', { logger })).rejects.toMatchObject({ code: ErrorCode.CONFIG_INVALID });
    process.env.TF_BACKEND = 'gpu';
    await expect(initBackend(undefined, { logger })).rejects.toMatchObject({ code: ErrorCode.CONFIG_INVALID });
    if (!installed('@tensorflow/tfjs-node')) {
      await expect(initBackend('node', { logger })).rejects.toMatchObject({ code: ErrorCode.UNAVAILABLE });
    }
  });

  it('trains on wasm: the missing Conv2DBackpropFilter is registered', async () => {
    await initBackend('wasm', { logger });
    const x = tf.randomNormal([1, 6, 5, 2]) as tf.Tensor4D;
    const w = tf.variable(tf.randomNormal([3, 3, 2, 3]));
    const { grads } = tf.variableGrads(() => tf.sum(tf.conv2d(x, w as tf.Tensor4D, 2, 'same')), [w]);
    expect(grads[w.name].shape).toEqual([3, 3, 2, 3]);
    tf.dispose([x, w, grads[w.name]]);
  });

  it('runs wasm on two worker threads with the same results as cpu', async () => {
    const info = await initBackend('wasm', { logger });
    expect(info.device).toMatch(/wasm simd, 2 threads/);
    const cases = [
      { stride: 1, pad: 'same' as const },
      { stride: 2, pad: 'same' as const },
      { stride: 2, pad: 'valid' as const },
    ];
    for (const { stride, pad } of cases) {
      const results: Float32Array[][] = [];
      for (const backend of ['wasm', 'cpu']) {
        await tf.setBackend(backend);
        const x = tf.randomNormal([2, 17, 13, 24], 0, 1, 'float32', 1) as tf.Tensor4D;
        const w = tf.randomNormal([3, 3, 24, 32], 0, 1, 'float32', 2) as tf.Tensor4D;
        const f = (a: tf.Tensor, b: tf.Tensor): tf.Scalar => tf.sum(tf.square(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, stride, pad)));
        const y = tf.conv2d(x, w, stride, pad);
        const [gx, gw] = tf.grads(f)([x, w]);
        results.push([y, gx, gw].map((t) => t.dataSync() as Float32Array));
        tf.dispose([x, w, y, gx, gw]);
      }
      for (let k = 0; k < 3; k++) expect(relErr(results[0][k], results[1][k])).toBeLessThan(1e-4);
    }
  });
});
