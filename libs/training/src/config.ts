/**
 * The trainer service's own environment variables (on top of the shared ones). Documented in
 * docs/TRAINING.md, whose table a test keeps in sync with these declarations. A run's
 * hyper-parameters are not here: they come with each request (`trainingConfigSchema` in
 * @s2g/contracts).
 */
import { type ConfigDefinition, envVar, extendConfig, loadConfig, type SharedConfig } from '@s2g/config';
import { z } from 'zod';
import { TRAINING_SERVICE_DEFAULTS, type TrainingServiceOptions } from './handlers';
import { DEFAULT_CACHE_BYTES } from './sampler';

const MIB = 1024 * 1024;

export const TRAINER_ENV = {
  TRAINER_CONCURRENCY: envVar(z.coerce.number().int().min(1).max(16).default(TRAINING_SERVICE_DEFAULTS.concurrency), {
    description:
      'Training runs one trainer process works on at once. One keeps the tensor backend busy; more share it (each runs slower). Run more trainer processes to train more runs in parallel.',
  }),
  TRAINER_ACK_WAIT_MS: envVar(z.coerce.number().int().min(1_000).max(3_600_000).default(TRAINING_SERVICE_DEFAULTS.ackWaitMs), {
    description:
      'How long a running training may go without a heartbeat before its request is given to another trainer. Heartbeats go out between iterations, so keep it well above the longest iteration; it is also how long a crashed trainer\'s run waits before it resumes elsewhere.',
  }),
  TRAINER_CACHE_MB: envVar(z.coerce.number().int().min(64).max(1_048_576).default(DEFAULT_CACHE_BYTES / MIB), {
    description:
      'Memory for decoded training windows (log-mel + normalised pose, about 129 KiB each). A speaker whose training split fits is loaded once; a larger one is trained from a rotating window of its shards that fits.',
  }),
};

export interface TrainerSettings {
  concurrency: number;
  ackWaitMs: number;
  cacheBytes: number;
}

export type TrainerConfig = SharedConfig & { trainer: TrainerSettings };

export const trainerConfig: ConfigDefinition<TrainerConfig> = extendConfig(TRAINER_ENV, (v) => ({
  trainer: { concurrency: v.TRAINER_CONCURRENCY, ackWaitMs: v.TRAINER_ACK_WAIT_MS, cacheBytes: v.TRAINER_CACHE_MB * MIB },
}));

/** The defaults (an empty environment), for embedding the trainer without reading the environment. */
export const DEFAULT_TRAINER_SETTINGS: TrainerSettings = loadConfig(trainerConfig, {}).trainer;

/** The handler options these settings stand for. */
export function trainingServiceOptions(settings: TrainerSettings): TrainingServiceOptions {
  return { concurrency: settings.concurrency, ackWaitMs: settings.ackWaitMs, cacheBytes: settings.cacheBytes };
}
