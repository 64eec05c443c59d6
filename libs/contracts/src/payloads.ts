/**
 * Payload schemas of every command and event. Each payload carries `schemaVersion`; a breaking change
 * gets a new version number and both are accepted until every service is upgraded. Unknown fields
 * are stripped, so adding an optional field is not a breaking change.
 */
import { z } from 'zod';
import { CHECKPOINT_KINDS, INGEST_LAYOUTS, INGEST_STAGES, MODEL_PRESETS, SPLITS, TENSOR_BACKENDS } from './domain';
import { ErrorCode, S2gError } from './errors';

/** Publishers may omit it; consumers reject any other version. */
const schemaVersion = z.literal(1).default(1);

/** Ids are opaque strings minted by whoever creates the record (the gateway, for jobs). */
export const idSchema = z.string().min(1).max(128);

/** Set at publish time when omitted; pass it to make a re-sent message byte-identical. */
const timestamp = z.iso.datetime().default(() => new Date().toISOString());

const count = z.number().int().min(0);

/** A failure reason: a stable code from `ErrorCode` and a message for people. */
export const errorInfoSchema = z.object({
  // A plain string, not the enum: an older consumer must still read a code added later.
  code: z.string().min(1),
  message: z.string(),
});
export type ErrorInfo = z.output<typeof errorInfoSchema>;

// ---------------------------------------------------------------------------------------------
// Shared pieces

/**
 * Training hyper-parameters; the defaults are the reference implementation's (ML-SPEC section 6):
 * batches of 32, Adam at 1e-4, GAN weight 1, 300 epochs of 300 iterations, validation on up to 512
 * dev samples after every epoch. This schema is the one definition: the gateway validates requests
 * with it and the trainer runs what it returns.
 */
export const TRAINING_DEFAULTS = {
  preset: 'paper',
  batchSize: 32,
  iterations: 90_000,
  epochIterations: 300,
  learningRate: 1e-4,
  ganWeight: 1,
  validationSize: 512,
  seed: 0,
  validateEvery: 300,
  checkpointEvery: 3_000,
  progressEvery: 10,
} as const;

const MAX_ITERATIONS = 10_000_000;

const trainingConfigFields = z.object({
  preset: z.enum(MODEL_PRESETS).default(TRAINING_DEFAULTS.preset),
  /** Windows per batch; each iteration draws two batches (one for D, one for G) with replacement. */
  batchSize: z.number().int().min(1).max(1024).default(TRAINING_DEFAULTS.batchSize),
  /** Length of the run in iterations. Give this or `epochs`, not both. */
  iterations: z.number().int().min(1).max(MAX_ITERATIONS).optional(),
  /** Length of the run in epochs of `epochIterations` iterations (the reference's unit). */
  epochs: z.number().int().min(1).max(MAX_ITERATIONS).optional(),
  /** Iterations per epoch: the reference's 300. Sets the epoch counter and the default validation cadence. */
  epochIterations: z.number().int().min(1).max(MAX_ITERATIONS).default(TRAINING_DEFAULTS.epochIterations),
  learningRate: z.number().gt(0).max(1).default(TRAINING_DEFAULTS.learningRate),
  /** Weight of the adversarial term in the generator loss; 0 trains with L1 only. */
  ganWeight: z.number().min(0).max(100).default(TRAINING_DEFAULTS.ganWeight),
  /** Dev samples scored at each validation (0 skips validation). */
  validationSize: z.number().int().min(0).max(100_000).default(TRAINING_DEFAULTS.validationSize),
  /** Seeds the weights and the batch sampler: the same seed and data give the same run. */
  seed: z.number().int().min(0).max(2 ** 31 - 1).default(TRAINING_DEFAULTS.seed),
  /** Iterations between validations; default one epoch (`epochIterations`). */
  validateEvery: z.number().int().min(1).max(MAX_ITERATIONS).optional(),
  /** Iterations between periodic checkpoints (the best and the final one are kept regardless). */
  checkpointEvery: z.number().int().min(1).max(MAX_ITERATIONS).default(TRAINING_DEFAULTS.checkpointEvery),
  /** Iterations between progress reports (event, run row, metric history). */
  progressEvery: z.number().int().min(1).max(MAX_ITERATIONS).default(TRAINING_DEFAULTS.progressEvery),
});

/**
 * The validated configuration of a run, resolved: `iterations` is always set (from `epochs` when that
 * was given) and `validateEvery` defaults to one epoch. Unknown fields are stripped.
 */
export const trainingConfigSchema = trainingConfigFields
  .superRefine((c, ctx) => {
    if (c.iterations !== undefined && c.epochs !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['epochs'], message: 'give iterations or epochs, not both' });
    }
    if (c.epochs !== undefined && c.epochs * c.epochIterations > MAX_ITERATIONS) {
      ctx.addIssue({ code: 'custom', path: ['epochs'], message: `epochs x epochIterations must be at most ${MAX_ITERATIONS} iterations` });
    }
  })
  .transform(({ epochs, iterations, validateEvery, ...rest }) => ({
    ...rest,
    iterations: iterations ?? (epochs ?? TRAINING_DEFAULTS.iterations / TRAINING_DEFAULTS.epochIterations) * rest.epochIterations,
    validateEvery: validateEvery ?? rest.epochIterations,
  }));
export type TrainingConfig = z.output<typeof trainingConfigSchema>;
export type TrainingConfigInput = z.input<typeof trainingConfigSchema>;

/**
 * Validates a training configuration (a request's, or a stored run's) and resolves its defaults.
 * Throws S2gError(TRAINING_CONFIG_INVALID) listing every problem as `field: message`.
 */
export function parseTrainingConfig(input: unknown): TrainingConfig {
  const result = trainingConfigSchema.safeParse(input ?? {});
  if (result.success) return result.data;
  const issues = result.error.issues.map((i) => ({ path: i.path.map(String).join('.') || '(config)', message: i.message }));
  throw new S2gError(ErrorCode.TRAINING_CONFIG_INVALID, `Invalid training config: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`, { issues });
}

export const renderOptionsSchema = z.object({
  width: z.number().int().min(16).max(3840).default(640),
  height: z.number().int().min(16).max(2160).default(480),
  fps: z.number().min(1).max(60).default(15),
  /** Draw the speaker's ground-truth pose of this sample next to the prediction. */
  withGroundTruthSampleId: idSchema.optional(),
  /** Draw over the source video (only when the audio comes from a sample of a known video). */
  overVideo: z.boolean().default(false),
});
export type RenderOptions = z.output<typeof renderOptionsSchema>;

// ---------------------------------------------------------------------------------------------
// Commands

export const ingestSourceSchema = z.discriminatedUnion('kind', [
  /** A folder on a filesystem the ingest workers can read (a mounted dataset). */
  z.object({ kind: z.literal('path'), path: z.string().min(1) }),
  /** Objects under a key prefix in the object store (an upload). */
  z.object({ kind: z.literal('object'), prefix: z.string().min(1) }),
]);
export type IngestSource = z.output<typeof ingestSourceSchema>;

export const ingestOptionsSchema = z.object({
  /** Import at most this many videos (quick trials on a big dataset). */
  maxVideos: z.number().int().min(1).optional(),
  /** Cut at most this many samples in total. */
  maxSamples: z.number().int().min(1).optional(),
  /** Seed of the deterministic train/dev/test assignment when the source has no split. */
  splitSeed: z.number().int().min(0).default(0),
  /** Replace the speaker's existing data instead of adding to it. */
  replace: z.boolean().default(false),
  /**
   * Frame rate of OpenPose JSON keypoints (`openpose` layout). Needed when the media has no video
   * stream to read it from (an audio file); when given, it is used for every video.
   */
  keypointFps: z.number().gt(0).max(240).optional(),
  /** The speaker's name in the source dataset (its CSVs or folders), when it differs from the speaker's own name. */
  sourceSpeaker: z.string().min(1).max(200).optional(),
  /**
   * Copy each new video's source media into the speaker's storage (to render over it later), besides
   * its 16 kHz audio. Absent means true.
   */
  storeMedia: z.boolean().optional(),
  /**
   * What the `synthetic` layout generates (the source is then ignored): `minutes` of speech in videos of
   * at most 2 minutes, deterministic from `seed`; `style` a preset name (calm, animated, lefty), else drawn
   * from the seed; `video` false skips the rendered mp4s (audio only).
   */
  synthetic: z
    .object({
      minutes: z.number().gt(0).max(600),
      seed: z.number().int().min(0).default(0),
      style: z.string().min(1).max(40).optional(),
      video: z.boolean().default(true),
    })
    .optional(),
});
export type IngestOptions = z.output<typeof ingestOptionsSchema>;

export const ingestRequestedSchema = z.object({
  schemaVersion,
  jobId: idSchema,
  speakerId: idSchema,
  layout: z.enum(INGEST_LAYOUTS),
  source: ingestSourceSchema,
  options: ingestOptionsSchema.prefault({}),
  requestedAt: timestamp,
});

export const trainingRequestedSchema = z.object({
  schemaVersion,
  runId: idSchema,
  speakerId: idSchema,
  config: trainingConfigSchema.prefault({}),
  /** Continue the run from its latest checkpoint instead of starting from scratch. */
  resume: z.boolean().default(false),
  requestedAt: timestamp,
});

export const trainingCancelSchema = z.object({
  schemaVersion,
  runId: idSchema,
  reason: z.string().max(500).optional(),
  requestedAt: timestamp,
});

export const inferenceAudioSchema = z.union([
  /** Uploaded audio in the object store. */
  z.strictObject({ objectKey: z.string().min(1) }),
  /** The audio of a dataset sample (lets the render compare with the ground truth). */
  z.strictObject({ sampleId: idSchema }),
]);
export type InferenceAudio = z.output<typeof inferenceAudioSchema>;

export const inferenceModelSchema = z.union([
  /** The best checkpoint of a training run. */
  z.strictObject({ runId: idSchema }),
  z.strictObject({ checkpointId: idSchema }),
]);
export type InferenceModel = z.output<typeof inferenceModelSchema>;

export const inferenceRequestedSchema = z.object({
  schemaVersion,
  resultId: idSchema,
  audio: inferenceAudioSchema,
  model: inferenceModelSchema,
  /** When set, the inference service requests a render of the result with this id and options. */
  render: renderOptionsSchema.extend({ renderId: idSchema }).optional(),
  requestedAt: timestamp,
});

export const renderRequestedSchema = renderOptionsSchema.extend({
  schemaVersion,
  renderId: idSchema,
  resultId: idSchema,
  requestedAt: timestamp,
});

// ---------------------------------------------------------------------------------------------
// Events

export const ingestProgressSchema = z.object({
  schemaVersion,
  jobId: idSchema,
  speakerId: idSchema,
  stage: z.enum(INGEST_STAGES),
  files: count,
  /** Files found so far by the scan; absent while unknown. */
  totalFiles: count.optional(),
  frames: count,
  samples: count,
  bytes: count,
  at: timestamp,
});

/** A per-file problem an ingest job skipped over: a stable code, the file, and a message naming both. */
export const ingestIssueSchema = z.object({ code: z.string().min(1), file: z.string(), message: z.string() });
export type IngestIssue = z.output<typeof ingestIssueSchema>;

/** Issues listed in full in a completed event; `issueCount` counts them all. */
export const MAX_REPORTED_ISSUES = 50;

export const ingestCompletedSchema = z.object({
  schemaVersion,
  jobId: idSchema,
  speakerId: idSchema,
  /** Videos (or npz video groups) that added data; videos already imported are not counted. */
  videos: count,
  /** Pose frames read. */
  frames: count,
  /** New windows per split. */
  samples: z.object({ train: count, dev: count, test: count }),
  /** Bytes written to object storage (shards and media). */
  bytes: count,
  durationMs: count,
  /** Hours of clean interval footage (speech) added. */
  hours: z.number().min(0).default(0),
  /** Hours of source media read (whole videos, inside intervals or not). */
  sourceHours: z.number().min(0).default(0),
  intervals: count.default(0),
  issues: z.array(ingestIssueSchema).max(MAX_REPORTED_ISSUES).default([]),
  issueCount: count.default(0),
  at: timestamp,
});

export const ingestFailedSchema = z.object({
  schemaVersion,
  jobId: idSchema,
  speakerId: idSchema,
  error: errorInfoSchema,
  at: timestamp,
});

export const trainingStartedSchema = z.object({
  schemaVersion,
  runId: idSchema,
  speakerId: idSchema,
  backend: z.enum(TENSOR_BACKENDS),
  /** What the backend runs on, for people: "cpu", "NVIDIA A10G", ... */
  device: z.string().optional(),
  totalSteps: count,
  /** Step the run continues from; 0 for a fresh start. */
  startStep: count.default(0),
  at: timestamp,
});

const finite = z.number().refine(Number.isFinite, 'must be a finite number');

export const trainingProgressSchema = z.object({
  schemaVersion,
  runId: idSchema,
  step: count,
  epoch: count,
  totalSteps: count,
  lossG: finite,
  lossD: finite,
  l1: finite,
  samplesPerSec: z.number().min(0),
  etaSeconds: z.number().min(0),
  at: timestamp,
});

export const trainingCheckpointSchema = z.object({
  schemaVersion,
  runId: idSchema,
  checkpointId: idSchema,
  step: count,
  kind: z.enum(CHECKPOINT_KINDS),
  /** Object-store prefix holding the checkpoint's files. */
  prefix: z.string().min(1),
  valLoss: finite.optional(),
  at: timestamp,
});

/** Named metrics, e.g. `{ l1: 0.41, pck01: 0.38, pck02: 0.61 }`. */
const metricsSchema = z.record(z.string(), finite);

export const trainingEvaluatedSchema = z.object({
  schemaVersion,
  runId: idSchema,
  checkpointId: idSchema.optional(),
  step: count,
  split: z.enum(SPLITS),
  samples: count,
  metrics: metricsSchema,
  /** The same metrics for each baseline, by baseline name (median pose, random, nearest audio...). */
  baselines: z.record(z.string(), metricsSchema).optional(),
  at: timestamp,
});

export const trainingCompletedSchema = z.object({
  schemaVersion,
  runId: idSchema,
  speakerId: idSchema,
  steps: count,
  bestCheckpointId: idSchema.optional(),
  finalCheckpointId: idSchema,
  durationMs: count,
  at: timestamp,
});

export const trainingFailedSchema = z.object({
  schemaVersion,
  runId: idSchema,
  speakerId: idSchema,
  step: count.optional(),
  error: errorInfoSchema,
  at: timestamp,
});

export const trainingCancelledSchema = z.object({
  schemaVersion,
  runId: idSchema,
  speakerId: idSchema,
  step: count,
  /** Checkpoint saved on the way out, so the run can be resumed. */
  checkpointId: idSchema.optional(),
  at: timestamp,
});

export const inferenceCompletedSchema = z.object({
  schemaVersion,
  resultId: idSchema,
  frames: count,
  fps: z.number().gt(0),
  /** Object key of the predicted pose sequence. */
  objectKey: z.string().min(1),
  durationMs: count,
  /** Render requested as a follow-up, when the inference request asked for one. */
  renderId: idSchema.optional(),
  at: timestamp,
});

export const inferenceFailedSchema = z.object({
  schemaVersion,
  resultId: idSchema,
  error: errorInfoSchema,
  at: timestamp,
});

export const renderCompletedSchema = z.object({
  schemaVersion,
  renderId: idSchema,
  resultId: idSchema,
  /** Object key of the video. */
  objectKey: z.string().min(1),
  previewKey: z.string().min(1).optional(),
  durationMs: count,
  at: timestamp,
});

export const renderFailedSchema = z.object({
  schemaVersion,
  renderId: idSchema,
  resultId: idSchema,
  error: errorInfoSchema,
  at: timestamp,
});
