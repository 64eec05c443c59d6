import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import type { NativeKernels } from '@s2g/native';
import { loadNative } from '@s2g/native';
import { beforeAll, describe, expect, it } from 'vitest';
import { CHANNEL_SUM, channelSum } from '../src/kernels/channel-sum';
import { NATIVE_WASM_KERNELS, nativeWasmKernelsRegistered, registerNativeWasmKernels } from '../src/kernels/native';
import { registerTrainingKernels } from '../src/kernels/register';
import { CONV_CASES, type ConvCase, convOutputShape, relErr, values } from './parity';

/**
 * Parity of the native kernels (@s2g/native, registered over the wasm backend's) with
 * tfjs-backend-cpu's stock kernels (the reference), within 1e-4 relative error (max |difference| /
 * max |reference|), and of the cases they hand back to the kernels they replaced.
 *
 * Outside CI the suite is skipped (with the reason in its name) when the addon was not built; with
 * CI=true a missing or broken build fails.
 */
const required = process.env.CI === 'true';
const status = loadNative();
const TOL = 1e-4;

type Kernel = tf.KernelConfig['kernelFunc'];
const REFERENCE_KERNELS = ['Conv2D', 'FusedConv2D', 'Conv2DBackpropInput', 'Conv2DBackpropFilter', 'BatchMatMul'];
const stock = new Map<string, Kernel>();

/** How often each native function ran: tells the native path from the fallback. */
const calls = new Map<string, number>();

/**
 * The addon with every function call counted. A Proxy over an empty target: the addon's own
 * properties are read-only and non-configurable, which a Proxy over it could not replace.
 */
function counting(k: NativeKernels): NativeKernels {
  return new Proxy({} as NativeKernels, {
    get(_target, prop) {
      const value: unknown = Reflect.get(k, prop);
      if (typeof value !== 'function' || typeof prop !== 'string') return value;
      return (...args: unknown[]): unknown => {
        calls.set(prop, (calls.get(prop) ?? 0) + 1);
        return Reflect.apply(value, k, args);
      };
    },
  });
}

/** Runs f and returns how many times the native function `name` ran meanwhile. */
async function nativeCalls(name: keyof NativeKernels, f: () => Promise<unknown>): Promise<number> {
  const before = calls.get(name) ?? 0;
  await f();
  return (calls.get(name) ?? 0) - before;
}

/**
 * depth 3 * 3 * 16 = 144: 3632-row im2col chunks; 2 * 64 * 60 = 7680 rows, so each of two threads,
 * and each image of the input gradient, spans two chunks. Two output channels keep the (slow) stock
 * Conv2DBackpropFilter reference quick.
 */
const LARGE: ConvCase = { label: 'large, several im2col chunks', x: [2, 64, 60, 16], filter: [3, 3, 16, 2], stride: 1, pad: 'same' };
const DILATED: ConvCase = { label: '3x3 dilation 2, same', x: [2, 12, 11, 3], filter: [3, 3, 3, 4], stride: 1, pad: 'same', dilation: 2 };

type Inputs = Record<string, { shape: number[]; data: Float32Array }>;

/** One kernel on a backend: the stock cpu kernel when `backend` is 'cpu', else whatever is registered. */
async function run(backend: 'wasm' | 'cpu', kernelName: string, inputs: Inputs, attrs: Record<string, unknown>): Promise<Float32Array> {
  await tf.setBackend(backend);
  const tensors = Object.fromEntries(Object.entries(inputs).map(([k, v]) => [k, tf.tensor(v.data, v.shape)]));
  let out: tf.Tensor;
  if (backend === 'cpu') {
    const kernel = stock.get(kernelName);
    if (!kernel) throw new Error(`no stock ${kernelName}`);
    const info = kernel({ inputs: tensors, backend: tf.backend(), attrs: attrs as tf.NamedAttrMap }) as tf.TensorInfo;
    out = tf.engine().makeTensorFromTensorInfo(info);
  } else {
    out = tf.engine().runKernel(kernelName, tensors, attrs as tf.NamedAttrMap) as tf.Tensor;
  }
  const data = (await out.data()) as Float32Array;
  tf.dispose([out, ...Object.values(tensors)]);
  return data;
}

/** The kernel on wasm against the stock cpu kernel; returns the relative error. */
async function parity(kernelName: string, inputs: Inputs, attrs: Record<string, unknown>): Promise<number> {
  const reference = await run('cpu', kernelName, inputs, attrs);
  return relErr(await run('wasm', kernelName, inputs, attrs), reference);
}

const convAttrs = (c: ConvCase): Record<string, unknown> => ({
  strides: c.stride,
  pad: c.pad,
  dataFormat: 'NHWC',
  dilations: c.dilation ?? 1,
  dimRoundingMode: undefined,
});

const suiteName = status.kernels ? 'native wasm kernels' : `native wasm kernels (${required ? 'unavailable' : 'skipped'}: ${status.reason})`;

describe.skipIf(!status.kernels && !required)(suiteName, () => {
  beforeAll(async () => {
    // Silences the cpu backend's "install tfjs-node" banner.
    tf.env().set('PROD', true);
    const kernels = status.kernels;
    if (!kernels) throw new Error(`native kernels unavailable: ${status.reason}`);
    for (const name of REFERENCE_KERNELS) {
      const k = tf.getKernel(name, 'cpu');
      if (!k) throw new Error(`cpu has no ${name}`);
      stock.set(name, k.kernelFunc);
    }
    registerTrainingKernels('wasm');
    registerNativeWasmKernels(counting(kernels));
    expect(await tf.setBackend('wasm')).toBe(true);
  });

  it('are registered over every kernel they replace, once', () => {
    expect(nativeWasmKernelsRegistered()).toBe(true);
    const before = NATIVE_WASM_KERNELS.map((name) => tf.getKernel(name, 'wasm')?.kernelFunc);
    for (const f of before) expect(f).toBeDefined();
    registerNativeWasmKernels(counting(status.kernels as NativeKernels));
    expect(NATIVE_WASM_KERNELS.map((name) => tf.getKernel(name, 'wasm')?.kernelFunc)).toEqual(before);
  });

  for (const c of [...CONV_CASES, DILATED, LARGE]) {
    it(`Conv2D matches cpu: ${c.label}`, async () => {
      const inputs = { x: { shape: c.x, data: values(c.x, 1) }, filter: { shape: c.filter, data: values(c.filter, 2) } };
      let err = NaN;
      expect(await nativeCalls('conv2d', async () => (err = await parity('Conv2D', inputs, convAttrs(c))))).toBe(1);
      expect(err).toBeLessThan(TOL);
    });
  }

  for (const c of [...CONV_CASES, LARGE]) {
    it(`Conv2DBackpropInput matches cpu: ${c.label}`, async () => {
      const dyShape = convOutputShape(c);
      const inputs = { dy: { shape: dyShape, data: values(dyShape, 3) }, filter: { shape: c.filter, data: values(c.filter, 4) } };
      const attrs = { strides: c.stride, pad: c.pad, dataFormat: 'NHWC', inputShape: c.x };
      let err = NaN;
      expect(await nativeCalls('conv2dBackpropInput', async () => (err = await parity('Conv2DBackpropInput', inputs, attrs)))).toBe(1);
      expect(err).toBeLessThan(TOL);
    });

    it(`Conv2DBackpropFilter matches cpu: ${c.label}`, async () => {
      const dyShape = convOutputShape(c);
      const inputs = { x: { shape: c.x, data: values(c.x, 5) }, dy: { shape: dyShape, data: values(dyShape, 6) } };
      const attrs = { strides: c.stride, pad: c.pad, dataFormat: 'NHWC', filterShape: c.filter };
      let err = NaN;
      expect(await nativeCalls('conv2dBackpropFilter', async () => (err = await parity('Conv2DBackpropFilter', inputs, attrs)))).toBe(1);
      expect(err).toBeLessThan(TOL);
    });
  }

  describe('FusedConv2D', () => {
    const FUSED_CASES = [CONV_CASES[1], CONV_CASES[6], CONV_CASES[7], LARGE];
    const ACTIVATIONS: { activation: string; leakyreluAlpha?: number; native: boolean }[] = [
      { activation: 'linear', native: true },
      { activation: 'relu', native: true },
      { activation: 'leakyrelu', leakyreluAlpha: 0.2, native: true },
      { activation: 'leakyrelu', leakyreluAlpha: 0.05, native: true },
      // Not native: the wasm kernel it replaced runs them.
      { activation: 'prelu', native: false },
      { activation: 'relu6', native: false },
    ];
    for (const c of FUSED_CASES) {
      for (const a of ACTIVATIONS) {
        for (const bias of ['channel', 'none'] as const) {
          const label = `${a.activation}${a.leakyreluAlpha === undefined ? '' : ` ${a.leakyreluAlpha}`}, ${bias === 'channel' ? 'bias' : 'no bias'}`;
          it(`matches cpu${a.native ? '' : ' (fallback)'}: ${label}, ${c.label}`, async () => {
            const co = c.filter[3];
            const inputs: Inputs = { x: { shape: c.x, data: values(c.x, 7) }, filter: { shape: c.filter, data: values(c.filter, 8) } };
            if (bias === 'channel') inputs.bias = { shape: [co], data: values([co], 9) };
            if (a.activation === 'prelu') inputs.preluActivationWeights = { shape: [co], data: values([co], 10) };
            const attrs = { ...convAttrs(c), activation: a.activation, leakyreluAlpha: a.leakyreluAlpha };
            let err = NaN;
            expect(await nativeCalls('conv2d', async () => (err = await parity('FusedConv2D', inputs, attrs)))).toBe(a.native ? 1 : 0);
            expect(err).toBeLessThan(TOL);
          });
        }
      }
    }

    it('matches cpu with a scalar bias (relu)', async () => {
      const c = CONV_CASES[0];
      const inputs: Inputs = {
        x: { shape: c.x, data: values(c.x, 11) },
        filter: { shape: c.filter, data: values(c.filter, 12) },
        bias: { shape: [1], data: Float32Array.of(0.375) },
      };
      let err = NaN;
      expect(await nativeCalls('conv2d', async () => (err = await parity('FusedConv2D', inputs, { ...convAttrs(c), activation: 'relu' })))).toBe(1);
      expect(err).toBeLessThan(TOL);
    });
  });

  describe('BatchMatMul', () => {
    const MATMULS: { label: string; a: number[]; b: number[]; native: boolean }[] = [
      { label: '2D, odd sizes', a: [37, 53], b: [53, 29], native: true },
      { label: '2D, matrix times vector', a: [45, 17], b: [17, 1], native: true },
      { label: '2D, 1 x K times K x 1', a: [1, 70], b: [70, 1], native: true },
      { label: '3D batched', a: [3, 19, 31], b: [3, 31, 23], native: true },
      { label: '4D batched', a: [2, 3, 7, 5], b: [2, 3, 5, 6], native: true },
      { label: 'a batch against one matrix', a: [4, 17, 12], b: [12, 9], native: true },
      { label: 'one matrix (rank 3) against a batch', a: [1, 11, 8], b: [4, 8, 21], native: true },
      { label: 'rank 4 batch against one matrix', a: [2, 3, 7, 5], b: [5, 6], native: true },
      { label: 'large rows, split across threads', a: [2, 130, 40], b: [2, 40, 33], native: true },
      // Both sides broadcast: the stock kernel.
      { label: 'mutual broadcast (fallback)', a: [2, 1, 7, 5], b: [1, 3, 5, 6], native: false },
    ];
    const swap = (shape: number[]): number[] => [...shape.slice(0, -2), shape[shape.length - 1], shape[shape.length - 2]];
    for (const m of MATMULS) {
      it(`matches cpu for every transpose: ${m.label}`, async () => {
        for (const transposeA of [false, true]) {
          for (const transposeB of [false, true]) {
            const aShape = transposeA ? swap(m.a) : m.a;
            const bShape = transposeB ? swap(m.b) : m.b;
            const inputs = { a: { shape: aShape, data: values(aShape, 13) }, b: { shape: bShape, data: values(bShape, 14) } };
            let err = NaN;
            const n = await nativeCalls('matmul', async () => (err = await parity('BatchMatMul', inputs, { transposeA, transposeB })));
            expect(n, `transposeA ${transposeA}, transposeB ${transposeB}`).toBe(m.native ? 1 : 0);
            expect(err, `transposeA ${transposeA}, transposeB ${transposeB}`).toBeLessThan(TOL);
          }
        }
      });
    }

    it('gives tf.matMul the same shapes as cpu', async () => {
      const shapes = async (backend: string): Promise<number[][]> => {
        await tf.setBackend(backend);
        return tf.tidy(() => [
          tf.matMul(tf.ones([4, 17, 12]), tf.ones([12, 9])).shape,
          tf.matMul(tf.ones([1, 11, 8]), tf.ones([4, 8, 21])).shape,
          tf.matMul(tf.ones([2, 3, 7, 5]), tf.ones([5, 6])).shape,
          tf.matMul(tf.ones([2, 1, 7, 5]), tf.ones([1, 3, 5, 6])).shape,
        ]);
      };
      expect(await shapes('wasm')).toEqual(await shapes('cpu'));
    });
  });

  it(`${CHANNEL_SUM} matches tf.sum over the leading axes on cpu`, async () => {
    for (const shape of [[2, 5, 3, 7], [3, 11, 1], [4, 9], [4, 64, 64, 8]]) {
      await tf.setBackend('cpu');
      const xc = tf.tensor(values(shape, 15), shape);
      const ref = tf.sum(xc, shape.map((_, i) => i).slice(0, -1));
      const expected = (await ref.data()) as Float32Array;
      tf.dispose([xc, ref]);
      await tf.setBackend('wasm');
      const x = tf.tensor(values(shape, 15), shape);
      let ours: tf.Tensor | undefined;
      expect(await nativeCalls('channelSum', async () => (ours = channelSum(x)))).toBe(1);
      if (!ours) throw new Error('no result');
      expect(ours.shape).toEqual([shape[shape.length - 1]]);
      expect(relErr((await ours.data()) as Float32Array, expected), shape.join('x')).toBeLessThan(1e-5);
      tf.dispose([x, ours]);
    }
  });

  it('gives the same conv gradients through tf.grads on wasm and cpu', async () => {
    const grads = async (backend: string): Promise<Float32Array[]> => {
      await tf.setBackend(backend);
      const x = tf.tensor4d(values([2, 11, 9, 3], 16), [2, 11, 9, 3]);
      const f = tf.tensor4d(values([4, 4, 3, 5], 17), [4, 4, 3, 5]);
      const g = tf.tensor4d(values([3, 3, 5, 4], 18), [3, 3, 5, 4]);
      const [gx, gf, gg] = tf.grads((a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) =>
        tf.sum(tf.square(tf.conv2d(tf.relu(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 2, 'same')), c as tf.Tensor4D, 1, 'valid'))),
      )([x, f, g]);
      const out = await Promise.all([gx, gf, gg].map(async (t) => (await t.data()) as Float32Array));
      tf.dispose([x, f, g, gx, gf, gg]);
      return out;
    };
    let wasm: Float32Array[] = [];
    expect(await nativeCalls('conv2dBackpropFilter', async () => (wasm = await grads('wasm')))).toBe(2);
    const cpu = await grads('cpu');
    for (let i = 0; i < cpu.length; i++) expect(relErr(wasm[i], cpu[i]), `gradient ${i}`).toBeLessThan(TOL);
  });

  it('does not leak backend memory', async () => {
    await tf.setBackend('wasm');
    const x = tf.tensor4d(values([2, 9, 7, 3], 19), [2, 9, 7, 3]);
    const f = tf.tensor4d(values([4, 4, 3, 5], 20), [4, 4, 3, 5]);
    const w = tf.tensor2d(values([5, 6], 21), [5, 6]);
    const grad = (): void => {
      tf.dispose(
        tf.grads((a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) => {
          const y = tf.relu(tf.fused.conv2d({ x: a as tf.Tensor4D, filter: b as tf.Tensor4D, strides: 2, pad: 'same' }));
          return tf.sum(tf.matMul(tf.reshape(y, [-1, 5]), c as tf.Tensor2D));
        })([x, f, w]),
      );
      // S2gChannelSum has no gradient of its own: it runs outside tf.grads.
      tf.dispose(channelSum(x));
    };
    grad();
    const before = tf.backend().numDataIds();
    const tensors = tf.memory().numTensors;
    for (let i = 0; i < 5; i++) grad();
    expect(tf.backend().numDataIds()).toBe(before);
    expect(tf.memory().numTensors).toBe(tensors);
    tf.dispose([x, f, w]);
  });
});
