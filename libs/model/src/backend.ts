import * as tf from '@tensorflow/tfjs';
import { ErrorCode, S2gError } from '@s2g/contracts';
import { registerTrainingKernels } from './kernels/register';

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

async function tryWasm(): Promise<string> {
  const wasm = (await import('@tensorflow/tfjs-backend-wasm')) as typeof import('@tensorflow/tfjs-backend-wasm');
  registerTrainingKernels('wasm');
  await activate('wasm');
  const simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
  const threads = wasm.getThreadsCount();
  return `cpu (wasm${simd ? ' simd' : ''}, ${threads} thread${threads === 1 ? '' : 's'})`;
}

async function tryCpu(): Promise<string> {
  registerTrainingKernels('cpu');
  // The cpu backend's first use prints a banner recommending tfjs-node; the selection above already
  // tried it and the log below says what runs. PROD only silences warnings like that one.
  tf.env().set('PROD', true);
  await activate('cpu');
  return 'cpu (plain JS)';
}

const LOADERS: Record<BackendKind, () => Promise<string>> = {
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
  const failures: Record<string, string> = {};
  for (const kind of candidates) {
    try {
      const device = await LOADERS[kind]();
      const info: BackendInfo = { backend: kind, device, tfBackend: tf.getBackend() };
      logger.info({ ...info, requested: choice, skipped: failures }, 'tensor backend selected');
      return info;
    } catch (e) {
      failures[kind] = e instanceof Error ? e.message.split('\n')[0] : String(e);
    }
  }
  throw new S2gError(ErrorCode.UNAVAILABLE, `no tensor backend could be initialised (${choice})`, { requested: choice, failures });
}
