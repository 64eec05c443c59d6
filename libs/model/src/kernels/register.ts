import * as tf from '@tensorflow/tfjs';
import { CHANNEL_SUM, channelSumKernel } from './channel-sum';
import { conv2dBackpropFilterGemm, conv2dBackpropInputGemm } from './conv-gemm';
import type { GemmBackendName } from './host';

/** Kernels this project adds to (or replaces in) a backend so conv nets train there at a usable speed. */
export const TRAINING_KERNELS: Readonly<Record<GemmBackendName, readonly string[]>> = {
  // Conv2DBackpropFilter is missing upstream; the stock Conv2DBackpropInput is a naive loop.
  wasm: ['Conv2DBackpropFilter', 'Conv2DBackpropInput', CHANNEL_SUM],
  // The stock Conv2DBackpropFilter is correct but pathologically slow (TensorBuffer.get per element).
  cpu: ['Conv2DBackpropFilter', CHANNEL_SUM],
};

const registered = new Set<GemmBackendName>();

function kernelFunc(kernelName: string, backendName: GemmBackendName): tf.KernelFunc {
  if (kernelName === CHANNEL_SUM) return channelSumKernel(backendName);
  if (kernelName === 'Conv2DBackpropFilter') {
    return ((args: Parameters<typeof conv2dBackpropFilterGemm>[1]) => conv2dBackpropFilterGemm(backendName, args)) as unknown as tf.KernelFunc;
  }
  return ((args: Parameters<typeof conv2dBackpropInputGemm>[1]) => conv2dBackpropInputGemm(backendName, args)) as unknown as tf.KernelFunc;
}

/** Registers this project's training kernels for `backendName`. Safe to call more than once. */
export function registerTrainingKernels(backendName: GemmBackendName): void {
  if (registered.has(backendName)) return;
  for (const kernelName of TRAINING_KERNELS[backendName]) {
    if (tf.getKernel(kernelName, backendName)) tf.unregisterKernel(kernelName, backendName);
    tf.registerKernel({ kernelName, backendName, kernelFunc: kernelFunc(kernelName, backendName) });
  }
  registered.add(backendName);
}
