import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import type { NativeKernels } from '@s2g/native';
import { ACTIVATION, convGeometry } from '@s2g/native';
import { BATCH_NORM_TRAIN, BATCH_NORM_TRAIN_GRAD } from './batch-norm';
import type { BatchNormAttrs } from './batch-norm';
import { CHANNEL_SUM } from './channel-sum';
import { type ConvAttrs, convShapeInfo } from './geometry';

/**
 * The wasm backend's kernels that the native kernels (@s2g/native: threaded avx512 / avx2 SGEMM)
 * replace when the addon is built. They work in place on the wasm heap: tensors stay wasm tensors, so
 * every other op keeps running in wasm and nothing is copied. Cases a native kernel does not cover
 * (NCHW, non-float32, other fused activations, broadcast batch shapes) go to the kernel it replaced.
 */
export const NATIVE_WASM_KERNELS = [
  'Conv2D',
  'FusedConv2D',
  'Conv2DBackpropInput',
  'Conv2DBackpropFilter',
  'BatchMatMul',
  CHANNEL_SUM,
  BATCH_NORM_TRAIN,
  BATCH_NORM_TRAIN_GRAD,
] as const;

interface KernelArgs {
  inputs: Record<string, tf.TensorInfo | null | undefined>;
  backend: BackendWasm;
  attrs: Record<string, unknown>;
}
type Impl = (args: KernelArgs, fallback: tf.KernelFunc) => tf.TensorInfo | tf.TensorInfo[];

function geometry(xShape: number[], filterShape: number[], attrs: ConvAttrs): { geometry: Int32Array; outShape: [number, number, number, number] } {
  const info = convShapeInfo(xShape, filterShape, attrs);
  return { geometry: convGeometry(info), outShape: info.outShape };
}

const isFloat = (...ts: (tf.TensorInfo | null | undefined)[]): boolean => ts.every((t) => !t || t.dtype === 'float32');
const nhwc = (attrs: Record<string, unknown>): boolean => attrs.dataFormat === undefined || attrs.dataFormat === 'NHWC';
const size = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

function implementations(native: NativeKernels): Record<(typeof NATIVE_WASM_KERNELS)[number], Impl> {
  const view = (backend: BackendWasm, t: tf.TensorInfo): Float32Array => backend.typedArrayFromHeap(t) as Float32Array;

  const conv: Impl = ({ inputs, backend, attrs }, fallback) => {
    const { x, filter, bias, preluActivationWeights } = inputs;
    const activation = (attrs.activation as string | undefined) ?? 'linear';
    const act = ACTIVATION[activation as keyof typeof ACTIVATION];
    if (!x || !filter || !nhwc(attrs) || !isFloat(x, filter, bias) || preluActivationWeights || act === undefined) {
      return fallback({ inputs, backend, attrs } as never) as tf.TensorInfo;
    }
    const outChannels = filter.shape[3];
    if (bias && size(bias.shape) !== 1 && size(bias.shape) !== outChannels) return fallback({ inputs, backend, attrs } as never) as tf.TensorInfo;
    const { geometry: g, outShape } = geometry(x.shape, filter.shape, attrs as never);
    const out = backend.makeOutput(outShape, 'float32');
    if (size(outShape) === 0) return out;
    native.conv2d(view(backend, x), view(backend, filter), bias ? view(backend, bias) : null, view(backend, out), g, act, Number(attrs.leakyreluAlpha ?? 0.2));
    return out;
  };

  return {
    Conv2D: conv,
    FusedConv2D: conv,
    Conv2DBackpropInput: ({ inputs, backend, attrs }, fallback) => {
      const { dy, filter } = inputs;
      if (!dy || !filter || !nhwc(attrs) || !isFloat(dy, filter)) return fallback({ inputs, backend, attrs } as never) as tf.TensorInfo;
      const inputShape = attrs.inputShape as number[];
      const { geometry: g } = geometry(inputShape, filter.shape, attrs as never);
      const dx = backend.makeOutput(inputShape, 'float32');
      if (size(inputShape) === 0) return dx;
      native.conv2dBackpropInput(view(backend, dy), view(backend, filter), view(backend, dx), g);
      return dx;
    },
    Conv2DBackpropFilter: ({ inputs, backend, attrs }, fallback) => {
      const { x, dy } = inputs;
      if (!x || !dy || !nhwc(attrs) || !isFloat(x, dy)) return fallback({ inputs, backend, attrs } as never) as tf.TensorInfo;
      const filterShape = attrs.filterShape as number[];
      const { geometry: g } = geometry(x.shape, filterShape, attrs as never);
      const dw = backend.makeOutput(filterShape, 'float32');
      native.conv2dBackpropFilter(view(backend, x), view(backend, dy), view(backend, dw), g);
      return dw;
    },
    BatchMatMul: ({ inputs, backend, attrs }, fallback) => {
      const { a, b } = inputs;
      const ta = attrs.transposeA === true;
      const tb = attrs.transposeB === true;
      if (!a || !b || !isFloat(a, b) || a.shape.length < 2 || b.shape.length < 2) return fallback({ inputs, backend, attrs } as never) as tf.TensorInfo;
      const [ar, ac] = a.shape.slice(-2);
      const [br, bc] = b.shape.slice(-2);
      const m = ta ? ac : ar;
      const k = ta ? ar : ac;
      const n = tb ? br : bc;
      const aLead = a.shape.slice(0, -2);
      const bLead = b.shape.slice(0, -2);
      const aBatch = size(aLead);
      const bBatch = size(bLead);
      const sameLead = aLead.length === bLead.length && aLead.every((d, i) => d === bLead[i]);
      // Equal leading shapes, or one side a single matrix (broadcast with stride 0); else the stock kernel.
      if ((tb ? bc : br) !== k || !(sameLead || aBatch === 1 || bBatch === 1)) return fallback({ inputs, backend, attrs } as never) as tf.TensorInfo;
      const lead = sameLead ? aLead : aBatch === 1 && aLead.length <= bLead.length ? bLead : bBatch === 1 && bLead.length <= aLead.length ? aLead : null;
      if (!lead) return fallback({ inputs, backend, attrs } as never) as tf.TensorInfo;
      const batch = Math.max(aBatch, bBatch);
      const out = backend.makeOutput([...lead, m, n], 'float32');
      if (batch * m * n === 0) return out;
      const dims = Int32Array.from([batch, m, n, k, ta ? 1 : 0, tb ? 1 : 0, aBatch === 1 ? 0 : m * k, bBatch === 1 ? 0 : k * n]);
      native.matmul(view(backend, a), view(backend, b), view(backend, out), dims);
      return out;
    },
    [CHANNEL_SUM]: ({ inputs, backend }) => {
      const x = inputs.x as tf.TensorInfo;
      const c = x.shape[x.shape.length - 1];
      const out = backend.makeOutput([c], 'float32');
      if (c === 0) return out;
      if (size(x.shape) === 0) view(backend, out).fill(0);
      else native.channelSum(view(backend, x), view(backend, out));
      return out;
    },
    [BATCH_NORM_TRAIN]: ({ inputs, backend, attrs }) => {
      const { z, gamma, beta } = inputs as Record<string, tf.TensorInfo>;
      const { epsilon, leaky, alpha } = attrs as unknown as BatchNormAttrs;
      const c = z.shape[z.shape.length - 1];
      const outs = [backend.makeOutput(z.shape, 'float32'), backend.makeOutput(z.shape, 'float32'), ...[0, 1, 2].map(() => backend.makeOutput([c], 'float32'))];
      const [xhat, y, mean, variance, rstd] = outs.map((t) => view(backend, t));
      native.batchNormForward(view(backend, z), view(backend, gamma), view(backend, beta), xhat, y, mean, variance, rstd, epsilon, leaky, alpha);
      return outs;
    },
    [BATCH_NORM_TRAIN_GRAD]: ({ inputs, backend, attrs }) => {
      const { dy, y, xhat, gamma, rstd } = inputs as Record<string, tf.TensorInfo>;
      const { leaky, alpha } = attrs as unknown as BatchNormAttrs;
      const c = dy.shape[dy.shape.length - 1];
      const outs = [backend.makeOutput(dy.shape, 'float32'), ...[0, 1, 2].map(() => backend.makeOutput([c], 'float32'))];
      const [dz, dbias, dgamma, dbeta] = outs.map((t) => view(backend, t));
      native.batchNormBackward(view(backend, dy), view(backend, y), view(backend, xhat), view(backend, gamma), view(backend, rstd), dz, dbias, dgamma, dbeta, leaky, alpha);
      return outs;
    },
  };
}

/**
 * Registers the native kernels on the wasm backend over whatever is registered there now (the stock
 * kernels and this project's JS training kernels), which stay as the fallbacks. Call after
 * registerTrainingKernels('wasm'); a second call is a no-op.
 */
export function registerNativeWasmKernels(native: NativeKernels): void {
  if (nativeRegistered) return;
  const impls = implementations(native);
  for (const name of NATIVE_WASM_KERNELS) {
    const previous = tf.getKernel(name, 'wasm');
    const fallback: tf.KernelFunc =
      previous?.kernelFunc ??
      (() => {
        throw new Error(`wasm has no ${name} kernel for this case`);
      });
    if (previous) tf.unregisterKernel(name, 'wasm');
    const impl = impls[name];
    // The stock kernel's setupFunc (which binds its wasm function) is kept, so the fallback works
    // whether or not the backend was already initialised.
    tf.registerKernel({
      ...previous,
      kernelName: name,
      backendName: 'wasm',
      kernelFunc: ((args: KernelArgs) => impl(args, fallback)) as unknown as tf.KernelFunc,
    });
  }
  nativeRegistered = true;
}

let nativeRegistered = false;

/** Whether registerNativeWasmKernels has run in this process. */
export function nativeWasmKernelsRegistered(): boolean {
  return nativeRegistered;
}
