/**
 * @s2g/training: per-speaker training runs. A shuffling, prefetching sampler over the speaker's shards
 * in object storage, the GAN training loop with progress, validation against the paper's baselines,
 * checkpoints, crash-safe resume and cancel, and the trainer service's command handlers.
 * The run configuration (`trainingConfigSchema`, `parseTrainingConfig`) lives in @s2g/contracts.
 */
export { DEFAULT_EVAL_BATCH, isPermanentTrainingError, runTraining, trainingStateSchema } from './run';
export type { TrainingDeps, TrainingOptions, TrainingOutcome, TrainingRequest, TrainingState } from './run';
export { TRAINING_SERVICE_DEFAULTS, cancelTraining, deadLetterError, failDeadLetteredRun, trainingCommandHandlers } from './handlers';
export type { TrainingServiceOptions } from './handlers';
export { DEFAULT_CACHE_BYTES, TrainingSampler, loaderStateSchema, planSampler } from './sampler';
export type { LoaderState, SamplerOptions, SamplerPlan } from './sampler';
export { EVAL_SAMPLE_BYTES, MEL_VALUES, POSE_VALUES, SAMPLE_BYTES, loadShard } from './data';
export type { EvalSample, PreparedSample, ShardRef } from './data';
export { forEachShard, loadValidationSet } from './eval-set';
export { BASELINES, BaselineModels, DIVERSITY_WINDOWS, ExtendedMetrics, ScoreSum, baselineSums, predictWindows, scoreGenerator } from './evaluate';
export type { Baseline, Scores } from './evaluate';
export { SeededRng } from './rng';
export { DEFAULT_TRAINER_SETTINGS, TRAINER_ENV, trainerConfig, trainingServiceOptions } from './config';
export type { TrainerConfig, TrainerSettings } from './config';
