import * as tf from '@tensorflow/tfjs';
import { ErrorCode, S2gError } from '@s2g/contracts';
import { loadNative } from '@s2g/native';
import { registerNativeWasmKernels } from './kernels/native';
import { registerTrainingKernels } from './kernels/register';
import { withNodeWasmThreadShims } from './wasm-threads';

/** Tensor backends in order of preference (ARCHITECTURE.md, "Tensor backend"). */
export const BACKEND_KINDS = ['node-gpu', 'node', 'wasm', 'cpu'] as const;
export type BackendKind = (typeof BACKEND_KINDS)[number];

export interface BackendInfo {
  backend: BackendKind;
  /** What runs the kernels, e.g. `cuda gpu`, `cpu (libtensorflow)`, `cpu (wasm simd, 1 thread)`. */
  device: string;
  /** The name tfjs knows the backend by. */
  tfBackend: string;
}

export interface BackendLogger {
  info(fields: Record<string, unknown>, message: string): void;
}

export interface InitBackendOptions {
  logger?: BackendLogger;
  /**
   * Threads for the wasm backend (default: the TF_WASM_THREADS environment variable, else 1).
   * Above 1, the threaded SIMD build runs its pthreads on worker_threads (./wasm-threads.ts); if that
   * fails, the single-threaded build is used. Opt-in because on a busy machine (measured here with
   * other work on both cores) the second thread made training no faster and inference slower.
   */
  wasmThreads?: number;
  /**
   * The native kernels (@s2g/native) on wasm: used where built unless `enabled` is false (default:
   * the S2G_NATIVE environment variable, `off` disables); `threads` defaults to S2G_NATIVE_THREADS,
   * else one per CPU.
   */
  native?: { enabled?: boolean; threads?: number };
}

/** The wasm build has 8 pthread workers; tfjs caps its pool there. */
const MAX_WASM_THREADS = 8;

function wasmThreadCount(requested: number | undefined): number {
  const fromEnv = process.env.TF_WASM_THREADS;
  const n = requested ?? (fromEnv !== undefined && fromEnv.trim() !== '' ? Number(fromEnv) : 1);
  if (!Number.isInteger(n) || n < 1) {
    throw new S2gError(ErrorCode.CONFIG_INVALID, `wasm threads must be a positive integer, got '${String(requested ?? fromEnv)}'`, {
      value: requested ?? fromEnv,
    });
  }
  return Math.min(n, MAX_WASM_THREADS);
}

const consoleLogger: BackendLogger = {
  info: (fields, message) => console.info(`${message} ${JSON.stringify(fields)}`),
};

// Optional packages: a non-literal specifier keeps TypeScript and bundlers from requiring them.
async function importOptional(name: string): Promise<unknown> {
  return import(/* @vite-ignore */ name);
}

async function activate(name: string): Promise<void> {
  const ok = await tf.setBackend(name);
  if (!ok) throw new Error(`tf.setBackend('${name}') failed`);
  await tf.ready();
}

async function tryNode(pkg: '@tensorflow/tfjs-node-gpu' | '@tensorflow/tfjs-node'): Promise<string> {
  await importOptional(pkg);
  await activate('tensorflow');
  const usesGpu = (tf.backend() as unknown as { isUsingGpuDevice?: boolean }).isUsingGpuDevice === true;
  // libtensorflow's GPU build runs on the CPU when it finds no usable GPU; say so rather than fail.
  if (usesGpu) return 'cuda gpu (libtensorflow)';
  return pkg === '@tensorflow/tfjs-node-gpu' ? 'cpu (libtensorflow GPU build, no usable GPU found)' : 'cpu (libtensorflow)';
}

let wasmInitialised = false;

async function tryWasm(threads: number, native: InitBackendOptions['native']): Promise<string> {
  const wasm = (await import('@tensorflow/tfjs-backend-wasm')) as typeof import('@tensorflow/tfjs-backend-wasm');
  registerTrainingKernels('wasm');
  // The native kernels (convolutions, their gradients, matmul) take over where they were built.
  const kernels = native?.enabled === false ? null : loadNative(native?.threads ? { threads: native.threads } : {}).kernels;
  if (kernels) registerNativeWasmKernels(kernels);
  const simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
  // Threads are fixed when the backend is first initialised.
  if (threads > 1 && simd && !wasmInitialised) {
    // tfjs reports no thread support under Node; the shims supply what its threaded build lacks.
    tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', true);
    wasm.setThreadsCount(threads);
    const threaded = await withNodeWasmThreadShims(threads, () => tf.setBackend('wasm')).catch(() => false);
    if (!threaded) {
      // The registry keeps the backend's factory: initialise again, single-threaded.
      tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
      wasm.setThreadsCount(1);
    }
  }
  await activate('wasm');
  wasmInitialised = true;
  const running = wasm.getThreadsCount();
  const base = `wasm${simd ? ' simd' : ''}, ${running} thread${running === 1 ? '' : 's'}`;
  if (!kernels) return `cpu (${base})`;
  const nativeInfo = kernels.info();
  return `cpu (${base} + native ${nativeInfo.isa} kernels, ${nativeInfo.threads} thread${nativeInfo.threads === 1 ? '' : 's'})`;
}

async function tryCpu(): Promise<string> {
  registerTrainingKernels('cpu');
  // The cpu backend's first use prints a banner recommending tfjs-node; the selection above already
  // tried it and the log below says what runs. PROD only silences warnings like that one.
  tf.env().set('PROD', true);
  await activate('cpu');
  return 'cpu (plain JS)';
}

const LOADERS: Record<BackendKind, (wasmThreads: number, native: InitBackendOptions['native']) => Promise<string>> = {
  'node-gpu': () => tryNode('@tensorflow/tfjs-node-gpu'),
  node: () => tryNode('@tensorflow/tfjs-node'),
  wasm: tryWasm,
  cpu: tryCpu,
};

function parsePreference(value: string): BackendKind | 'auto' {
  const v = value.trim().toLowerCase();
  if (v === '' || v === 'auto') return 'auto';
  if ((BACKEND_KINDS as readonly string[]).includes(v)) return v as BackendKind;
  throw new S2gError(ErrorCode.CONFIG_INVALID, `unknown tensor backend '${value}': use auto, ${BACKEND_KINDS.join(', ')}`, {
    value,
    allowed: ['auto', ...BACKEND_KINDS],
  });
}

/**
 * Selects and initialises the tensor backend. `preferred` (default: the TF_BACKEND environment
 * variable, else `auto`) names one backend, which must then work, or `auto`: the first of
 * tfjs-node-gpu, tfjs-node, wasm (with this project's training kernels) and cpu that loads.
 * Logs and returns what was chosen.
 */
export async function initBackend(preferred?: BackendKind | 'auto' | string, options: InitBackendOptions = {}): Promise<BackendInfo> {
  const logger = options.logger ?? consoleLogger;
  const choice = parsePreference(preferred ?? process.env.TF_BACKEND ?? 'auto');
  const candidates = choice === 'auto' ? BACKEND_KINDS : [choice];
  // A bad thread count is a configuration error, not a reason to skip wasm.
  const wasmThreads = candidates.includes('wasm') ? wasmThreadCount(options.wasmThreads) : 1;
  const failures: Record<string, string> = {};
  for (const kind of candidates) {
    try {
      const device = await LOADERS[kind](wasmThreads, options.native);
      const info: BackendInfo = { backend: kind, device, tfBackend: tf.getBackend() };
      logger.info({ ...info, requested: choice, skipped: failures }, 'tensor backend selected');
      return info;
    } catch (e) {
      failures[kind] = e instanceof Error ? e.message.split('\n')[0] : String(e);
    }
  }
  throw new S2gError(ErrorCode.UNAVAILABLE, `no tensor backend could be initialised (${choice})`, { requested: choice, failures });
}
