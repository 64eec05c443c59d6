import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';

/**
 * The optional native kernels (csrc/, built by scripts/build.mjs at install): a threaded SGEMM with
 * avx512 / avx2 / portable register tiles, and convolution, convolution-gradient, matmul and
 * channel-sum kernels on top of it. Every function reads and writes caller-owned Float32Arrays (for
 * the wasm tensor backend: views of the wasm heap) and blocks until done.
 *
 * Layouts are TensorFlow's: activations NHWC, filters (kh, kw, Ci, Co). A convolution's geometry is
 * an Int32Array of GEOMETRY_LENGTH values, see convGeometry.
 */
export interface NativeKernels {
  /** out = act(conv(x, filter) + bias); activation 0 linear, 1 relu, 2 leaky relu (alpha). */
  conv2d(x: Float32Array, filter: Float32Array, bias: Float32Array | null, out: Float32Array, geometry: Int32Array, activation: number, alpha: number): void;
  /** dx of a convolution, given dy and the filter. */
  conv2dBackpropInput(dy: Float32Array, filter: Float32Array, dx: Float32Array, geometry: Int32Array): void;
  /** dW of a convolution, given its input x and dy. */
  conv2dBackpropFilter(x: Float32Array, dy: Float32Array, dw: Float32Array, geometry: Int32Array): void;
  /** dims: batch, M, N, K, transposeA, transposeB, a's batch stride, b's batch stride (0 broadcasts). */
  matmul(a: Float32Array, b: Float32Array, out: Float32Array, dims: Int32Array): void;
  /** out[c] = sum over rows of x[row * C + c], C = out.length, accumulated in float64. */
  channelSum(x: Float32Array, out: Float32Array): void;
  /**
   * Training BatchNorm (batch statistics, biased variance) + optional LeakyReLU over channels-last z;
   * C = gamma.length: xhat = (z - mean) * rstd, y = act(gamma * xhat + beta), rstd = 1 / sqrt(var + eps).
   */
  batchNormForward(
    z: Float32Array,
    gamma: Float32Array,
    beta: Float32Array,
    xhat: Float32Array,
    y: Float32Array,
    mean: Float32Array,
    variance: Float32Array,
    rstd: Float32Array,
    epsilon: number,
    leaky: boolean,
    alpha: number,
  ): void;
  /** Its gradient: dz, and the sums dbias = sum(dz), dgamma = sum(dpre * xhat), dbeta = sum(dpre). */
  batchNormBackward(
    dy: Float32Array,
    y: Float32Array,
    xhat: Float32Array,
    gamma: Float32Array,
    rstd: Float32Array,
    dz: Float32Array,
    dbias: Float32Array,
    dgamma: Float32Array,
    dbeta: Float32Array,
    leaky: boolean,
    alpha: number,
  ): void;
  setThreads(n: number): void;
  /** Forces an instruction set: false when this CPU lacks it. */
  setIsa(isa: NativeIsa): boolean;
  info(): { isa: NativeIsa; threads: number };
}

export type NativeIsa = 'avx512' | 'avx2' | 'generic';

export const ACTIVATION = { linear: 0, relu: 1, leakyrelu: 2 } as const;

export const GEOMETRY_LENGTH = 15;

export interface ConvGeometry {
  batch: number;
  inHeight: number;
  inWidth: number;
  inChannels: number;
  outHeight: number;
  outWidth: number;
  outChannels: number;
  filterHeight: number;
  filterWidth: number;
  strideHeight: number;
  strideWidth: number;
  padTop: number;
  padLeft: number;
  dilationHeight: number;
  dilationWidth: number;
}

export function convGeometry(g: ConvGeometry): Int32Array {
  return Int32Array.from([
    g.batch,
    g.inHeight,
    g.inWidth,
    g.inChannels,
    g.outHeight,
    g.outWidth,
    g.outChannels,
    g.filterHeight,
    g.filterWidth,
    g.strideHeight,
    g.strideWidth,
    g.padTop,
    g.padLeft,
    g.dilationHeight,
    g.dilationWidth,
  ]);
}

export interface NativeStatus {
  kernels: NativeKernels | null;
  /** Why kernels is null: disabled, not built, or failed to load. */
  reason?: string;
}

export interface LoadNativeOptions {
  /** Worker threads (default: S2G_NATIVE_THREADS, else the number of CPUs). */
  threads?: number;
  /** Instruction set (default: S2G_NATIVE_ISA, else the best this CPU has). */
  isa?: NativeIsa;
}

/** The addon: S2G_NATIVE_ADDON (a container image's copy), else where the build script puts it. */
export function addonPath(): string {
  const fromEnv = process.env.S2G_NATIVE_ADDON?.trim();
  if (fromEnv) return fromEnv;
  const require = createRequire(import.meta.url);
  try {
    return join(dirname(require.resolve('@s2g/native/package.json')), 'build', 's2g_native.node');
  } catch {
    return join(dirname(new URL(import.meta.url).pathname), '..', 'build', 's2g_native.node');
  }
}

function envThreads(): number {
  const raw = process.env.S2G_NATIVE_THREADS?.trim();
  if (!raw) return availableParallelism();
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > 256) throw new RangeError(`S2G_NATIVE_THREADS must be an integer from 1 to 256, got '${raw}'`);
  return n;
}

let loaded: NativeStatus | undefined;

/**
 * Loads the native kernels once. Returns `{ kernels: null, reason }` when S2G_NATIVE is 0/off/false,
 * when the addon was not built (no compiler at install), or when it fails to load; the caller then
 * keeps its portable kernels. A bad S2G_NATIVE_THREADS or S2G_NATIVE_ISA throws.
 */
export function loadNative(options: LoadNativeOptions = {}): NativeStatus {
  if (!loaded) {
    const flag = process.env.S2G_NATIVE?.trim().toLowerCase();
    if (flag === '0' || flag === 'off' || flag === 'false') {
      loaded = { kernels: null, reason: `disabled by S2G_NATIVE=${process.env.S2G_NATIVE}` };
    } else {
      const path = addonPath();
      if (!existsSync(path)) {
        loaded = { kernels: null, reason: `not built (${path} is missing; run node libs/native/scripts/build.mjs)` };
      } else {
        try {
          loaded = { kernels: createRequire(import.meta.url)(path) as NativeKernels };
        } catch (e) {
          loaded = { kernels: null, reason: `failed to load ${path}: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}` };
        }
      }
    }
  }
  const kernels = loaded.kernels;
  if (kernels) {
    kernels.setThreads(options.threads ?? envThreads());
    const isa = options.isa ?? (process.env.S2G_NATIVE_ISA?.trim() as NativeIsa | undefined);
    if (isa && !kernels.setIsa(isa)) throw new RangeError(`native instruction set '${isa}' is not available on this CPU (use avx512, avx2 or generic)`);
  }
  return loaded;
}
