/**
 * Domain vocabulary shared by every service, the database and the API: one spelling everywhere.
 */

export const SPLITS = ['train', 'dev', 'test'] as const;
export type Split = (typeof SPLITS)[number];

/** Lifecycle of every job kind (ingest, training run, inference, render). */
export const JOB_STATUSES = ['queued', 'running', 'completed', 'failed', 'cancelled'] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];

export const JOB_KINDS = ['ingest', 'training', 'inference', 'render'] as const;
export type JobKind = (typeof JOB_KINDS)[number];

/** Model size presets: `paper` is the published architecture; smaller ones shrink widths only. */
export const MODEL_PRESETS = ['paper', 'small', 'tiny'] as const;
export type ModelPreset = (typeof MODEL_PRESETS)[number];

export const TOKEN_SCOPES = ['read', 'write', 'admin'] as const;
export type TokenScope = (typeof TOKEN_SCOPES)[number];

/** Where ingest reads a speaker's data from (ML-SPEC section 8 and the ingest issue). */
export const INGEST_LAYOUTS = ['s2g', 'openpose', 'npz', 'synthetic'] as const;
export type IngestLayout = (typeof INGEST_LAYOUTS)[number];

/** Stages an ingest job reports progress for, in order. */
export const INGEST_STAGES = ['scanning', 'reading', 'extracting', 'cutting', 'packing', 'finishing'] as const;
export type IngestStage = (typeof INGEST_STAGES)[number];

/** Tensor backends, best first; `auto` in configuration picks the best one that loads. */
export const TENSOR_BACKENDS = ['tfjs-node-gpu', 'tfjs-node', 'wasm', 'cpu'] as const;
export type TensorBackend = (typeof TENSOR_BACKENDS)[number];

/** Why a checkpoint was kept: on a schedule, as the best by validation loss, or at the end of a run. */
export const CHECKPOINT_KINDS = ['periodic', 'best', 'final'] as const;
export type CheckpointKind = (typeof CHECKPOINT_KINDS)[number];
