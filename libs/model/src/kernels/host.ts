import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

export type GemmBackendName = 'wasm' | 'cpu';

/** What the kernels need from a backend: memory views, allocation and its matmul. */
export interface Host {
  /** A Float32Array over the tensor's data; writable for tensors this host allocated. */
  view(t: tf.TensorInfo): Float32Array;
  /** A new float32 tensor; contents unspecified. */
  alloc(shape: number[]): tf.TensorInfo;
  free(t: tf.TensorInfo): void;
  matMul(a: tf.TensorInfo, b: tf.TensorInfo): tf.TensorInfo;
}

export function hostFor(backend: unknown, name: GemmBackendName): Host {
  const kernel = tf.getKernel('BatchMatMul', name);
  if (!kernel) throw new Error(`${name} BatchMatMul kernel is not registered`);
  const matMul = (a: tf.TensorInfo, b: tf.TensorInfo): tf.TensorInfo =>
    kernel.kernelFunc({ inputs: { a, b }, backend: backend as tf.KernelBackend, attrs: { transposeA: false, transposeB: false } }) as tf.TensorInfo;
  if (name === 'wasm') {
    const wasm = backend as BackendWasm;
    return {
      // Views are taken after every allocation: a growing wasm heap detaches older views.
      view: (t) => wasm.typedArrayFromHeap(t) as Float32Array,
      alloc: (shape) => wasm.makeOutput(shape, 'float32'),
      free: (t) => void wasm.disposeData(t.dataId),
      matMul,
    };
  }
  const cpu = backend as tf.KernelBackend;
  return {
    // The cpu backend stores (and returns) plain typed arrays, so reads and writes are zero-copy.
    view: (t) => cpu.readSync(t.dataId) as Float32Array,
    alloc: (shape) => ({ dataId: cpu.write(new Float32Array(shape.reduce((a, b) => a * b, 1)), shape, 'float32'), shape, dtype: 'float32' }),
    free: (t) => void cpu.disposeData(t.dataId),
    matMul,
  };
}
