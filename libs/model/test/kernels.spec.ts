import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { beforeAll, describe, expect, it } from 'vitest';
import { CHANNEL_SUM, TRAINING_KERNELS, channelSum, registerTrainingKernels } from '../src/index';
import { CONV_CASES, type ConvCase, convOutputShape, relErr, values } from './parity';

/**
 * Parity of this project's convolution-gradient kernels with tfjs-backend-cpu's own kernels (the
 * reference), within 1e-4 relative error (max |difference| / max |reference|).
 */
type Kernel = tf.KernelConfig['kernelFunc'];
const stock = new Map<string, Kernel>();

beforeAll(async () => {
  // Silences the cpu backend's "install tfjs-node" banner.
  tf.env().set('PROD', true);
  for (const name of ['Conv2DBackpropFilter', 'Conv2DBackpropInput']) {
    const k = tf.getKernel(name, 'cpu');
    if (!k) throw new Error(`cpu has no ${name}`);
    stock.set(name, k.kernelFunc);
  }
  registerTrainingKernels('cpu');
  registerTrainingKernels('wasm');
  expect(await tf.setBackend('wasm')).toBe(true);
});

async function run(backend: string, kernelName: string, inputs: Record<string, { shape: number[]; data: Float32Array }>, attrs: tf.NamedAttrMap, reference = false): Promise<Float32Array> {
  await tf.setBackend(backend);
  const tensors = Object.fromEntries(Object.entries(inputs).map(([k, v]) => [k, tf.tensor(v.data, v.shape)]));
  let out: tf.Tensor;
  if (reference) {
    const kernel = stock.get(kernelName);
    if (!kernel) throw new Error(`no stock ${kernelName}`);
    const info = kernel({ inputs: tensors, backend: tf.backend(), attrs }) as tf.TensorInfo;
    out = tf.engine().makeTensorFromTensorInfo(info);
  } else {
    out = tf.engine().runKernel(kernelName, tensors, attrs) as tf.Tensor;
  }
  const data = (await out.data()) as Float32Array;
  tf.dispose([out, ...Object.values(tensors)]);
  return data;
}

describe('training kernels', () => {
  it('are registered where the brief needs them', () => {
    expect(TRAINING_KERNELS.wasm).toContain('Conv2DBackpropFilter');
    for (const backend of ['wasm', 'cpu'] as const) for (const k of TRAINING_KERNELS[backend]) expect(tf.getKernel(k, backend)).toBeDefined();
  });

  for (const c of CONV_CASES) {
    it(`Conv2DBackpropFilter matches cpu: ${c.label}`, async () => {
      const dyShape = convOutputShape(c);
      const inputs = { x: { shape: c.x, data: values(c.x, 1) }, dy: { shape: dyShape, data: values(dyShape, 2) } };
      const attrs = { strides: c.stride, pad: c.pad, dataFormat: 'NHWC', filterShape: c.filter } as unknown as tf.NamedAttrMap;
      const reference = await run('cpu', 'Conv2DBackpropFilter', inputs, attrs, true);
      expect(relErr(await run('wasm', 'Conv2DBackpropFilter', inputs, attrs), reference)).toBeLessThan(1e-4);
      expect(relErr(await run('cpu', 'Conv2DBackpropFilter', inputs, attrs), reference)).toBeLessThan(1e-4);
    });

    it(`Conv2DBackpropInput matches cpu: ${c.label}`, async () => {
      const dyShape = convOutputShape(c);
      const inputs = { dy: { shape: dyShape, data: values(dyShape, 3) }, filter: { shape: c.filter, data: values(c.filter, 4) } };
      const attrs = { strides: c.stride, pad: c.pad, dataFormat: 'NHWC', inputShape: c.x } as unknown as tf.NamedAttrMap;
      const reference = await run('cpu', 'Conv2DBackpropInput', inputs, attrs, true);
      expect(relErr(await run('wasm', 'Conv2DBackpropInput', inputs, attrs), reference)).toBeLessThan(1e-4);
    });
  }

  it('handles activations larger than one im2col chunk', async () => {
    // 2 * 200 * 160 rows of 16 * 8 values = 8.2M > the 4M-element chunk: several chunks accumulate.
    // Two output channels keep the (slow) stock reference kernel quick.
    const c: ConvCase = { label: 'large', x: [2, 200, 160, 8], filter: [4, 4, 8, 2], stride: 1, pad: 'same' };
    const dyShape = convOutputShape(c);
    const filterInputs = { x: { shape: c.x, data: values(c.x, 5) }, dy: { shape: dyShape, data: values(dyShape, 6) } };
    const fAttrs = { strides: 1, pad: 'same', dataFormat: 'NHWC', filterShape: c.filter } as unknown as tf.NamedAttrMap;
    const fRef = await run('cpu', 'Conv2DBackpropFilter', filterInputs, fAttrs, true);
    expect(relErr(await run('wasm', 'Conv2DBackpropFilter', filterInputs, fAttrs), fRef)).toBeLessThan(1e-4);
    // Stride 2 takes the GEMM + col2im path (stride 1 runs as a forward conv): 2 * 200 * 100 rows.
    const s2: ConvCase = { label: 'large s2', x: [2, 400, 200, 8], filter: [4, 4, 8, 2], stride: 2, pad: 'same' };
    const dy2 = convOutputShape(s2);
    const inputInputs = { dy: { shape: dy2, data: values(dy2, 11) }, filter: { shape: s2.filter, data: values(s2.filter, 7) } };
    const iAttrs = { strides: 2, pad: 'same', dataFormat: 'NHWC', inputShape: s2.x } as unknown as tf.NamedAttrMap;
    const iRef = await run('cpu', 'Conv2DBackpropInput', inputInputs, iAttrs, true);
    expect(relErr(await run('wasm', 'Conv2DBackpropInput', inputInputs, iAttrs), iRef)).toBeLessThan(1e-4);
  });

  it('gives the same conv gradients through tf.grad on wasm and cpu', async () => {
    const grads = async (backend: string): Promise<Float32Array[]> => {
      await tf.setBackend(backend);
      const x = tf.tensor4d(values([2, 11, 9, 3], 8), [2, 11, 9, 3]);
      const f = tf.tensor4d(values([4, 4, 3, 5], 9), [4, 4, 3, 5]);
      const [gx, gf] = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.square(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 2, 'same'))))([x, f]);
      const out = [(await gx.data()) as Float32Array, (await gf.data()) as Float32Array];
      tf.dispose([x, f, gx, gf]);
      return out;
    };
    const [wx, wf] = await grads('wasm');
    const [cx, cf] = await grads('cpu');
    expect(relErr(wx, cx)).toBeLessThan(1e-4);
    expect(relErr(wf, cf)).toBeLessThan(1e-4);
  });

  it(`${CHANNEL_SUM} matches tf.sum over the leading axes`, async () => {
    for (const backend of ['wasm', 'cpu']) {
      await tf.setBackend(backend);
      for (const shape of [[2, 5, 3, 7], [3, 11, 1], [4, 9]]) {
        const x = tf.tensor(values(shape, 10), shape);
        const ours = channelSum(x);
        const ref = tf.sum(x, shape.map((_, i) => i).slice(0, -1));
        expect(ours.shape).toEqual([shape[shape.length - 1]]);
        expect(relErr((await ours.data()) as Float32Array, (await ref.data()) as Float32Array)).toBeLessThan(1e-5);
        tf.dispose([x, ours, ref]);
      }
    }
  });

  it('does not leak backend memory', async () => {
    await tf.setBackend('wasm');
    const x = tf.randomNormal([2, 9, 7, 3]) as tf.Tensor4D;
    const f = tf.randomNormal([4, 4, 3, 5]) as tf.Tensor4D;
    const grad = (): void => tf.dispose(tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 2, 'same')))([x, f]));
    grad();
    const before = tf.backend().numDataIds();
    for (let i = 0; i < 5; i++) grad();
    expect(tf.backend().numDataIds()).toBe(before);
    tf.dispose([x, f]);
  });
});
