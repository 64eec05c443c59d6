import type { TensorConfig, TfBackendChoice } from '@s2g/config';
import type { TensorBackend } from '@s2g/contracts';
import { type BackendInfo, type BackendKind, type BackendLogger, initBackend, type InitBackendOptions } from '@s2g/model';

/**
 * The configuration and the API name backends after their npm packages (`tfjs-node`); the model lib
 * by its own short kinds (`node`). This is the one translation between the two.
 */
const KIND_OF: Record<TensorBackend, BackendKind> = {
  'tfjs-node-gpu': 'node-gpu',
  'tfjs-node': 'node',
  wasm: 'wasm',
  cpu: 'cpu',
};

export function backendKindOf(choice: TfBackendChoice): BackendKind | 'auto' {
  return choice === 'auto' ? 'auto' : KIND_OF[choice];
}

export function tensorBackendName(kind: BackendKind): TensorBackend {
  const found = (Object.keys(KIND_OF) as TensorBackend[]).find((name) => KIND_OF[name] === kind);
  if (!found) throw new RangeError(`unknown backend kind ${kind}`);
  return found;
}

/** What ran a prediction, as recorded on results: the API's backend name and the device. */
export interface ActiveBackend {
  backend: TensorBackend;
  device: string;
}

/**
 * Initialises the configured tensor backend (TF_BACKEND, TF_WASM_THREADS, S2G_NATIVE*) and says which
 * one runs. Given only a backend choice, the thread counts and native kernels follow the environment.
 */
export async function startTensorBackend(config: TensorConfig | TfBackendChoice, logger?: BackendLogger): Promise<ActiveBackend> {
  const options: InitBackendOptions = logger ? { logger } : {};
  if (typeof config !== 'string') {
    options.wasmThreads = config.wasmThreads;
    options.native = { enabled: config.native.enabled, ...(config.native.threads ? { threads: config.native.threads } : {}) };
  }
  const info: BackendInfo = await initBackend(backendKindOf(typeof config === 'string' ? config : config.backend), options);
  return { backend: tensorBackendName(info.backend), device: info.device };
}
