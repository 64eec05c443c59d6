import * as tf from '@tensorflow/tfjs';
import type { GemmBackendName } from './host';
import { hostFor } from './host';

/** Kernel name of the per-channel sum, (..., C) -> (C). Not a tfjs op: called through runKernel. */
export const CHANNEL_SUM = 'S2gChannelSum';

/**
 * Per-channel sums of a channels-last tensor in one pass over memory, accumulated in float64.
 * BatchNorm needs four per activation and training step; tf.sum over the leading axes first
 * transposes the channel axis innermost (a full copy), and a ones-vector matmul makes XNNPACK pack
 * the whole activation: both cost several times this loop on large activations.
 */
export function channelSumKernel(name: GemmBackendName): tf.KernelFunc {
  return (({ inputs, backend }: { inputs: { x: tf.TensorInfo }; backend: unknown }) => {
    const host = hostFor(backend, name);
    const { x } = inputs;
    const c = x.shape[x.shape.length - 1];
    const xv = host.view(x);
    const acc = new Float64Array(c);
    if (c <= 16) {
      // Few channels: one strided sweep per channel stays in cache and keeps the sum in a register.
      for (let j = 0; j < c; j++) {
        let s = 0;
        for (let i = j; i < xv.length; i += c) s += xv[i];
        acc[j] = s;
      }
    } else {
      for (let i = 0; i < xv.length; i += c) for (let j = 0; j < c; j++) acc[j] += xv[i + j];
    }
    const out = host.alloc([c]);
    host.view(out).set(acc);
    return out;
  }) as unknown as tf.KernelFunc;
}

/** Sums over every axis but the last: this project's kernel where registered, else tf.sum. */
export function channelSum(x: tf.Tensor): tf.Tensor1D {
  if (tf.getKernel(CHANNEL_SUM, tf.getBackend())) return tf.engine().runKernel(CHANNEL_SUM, { x }) as tf.Tensor1D;
  return tf.sum(x, x.shape.map((_, i) => i).slice(0, -1)) as tf.Tensor1D;
}
