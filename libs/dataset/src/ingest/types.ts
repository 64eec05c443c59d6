import type { IngestIssue, IngestStage, Payload, PayloadInput, Split } from '@s2g/contracts';
import type { Database } from '@s2g/db';
import type { BusLogger, EventBus } from '@s2g/messaging';
import type { ObjectStore } from '@s2g/storage';
import type { PoseMomentsJson } from './moments';

/** An ingest job as the `s2g.ingest.requested` command carries it (defaults filled in). */
export type IngestRequest = Payload<'s2g.ingest.requested'>;
/** The same as a caller may write it: `options`, `requestedAt` and `schemaVersion` may be left out. */
export type IngestRequestInput = PayloadInput<'s2g.ingest.requested'>;

export interface IngestDeps {
  db: Database;
  store: ObjectStore;
  /** When given, progress, completed and failed events are published on it. */
  bus?: EventBus;
  logger?: BusLogger;
  /** Scratch space for downloads, extracted audio and generated speakers; default the OS temp folder. */
  tmpDir?: string;
}

/** What a progress report says (the `s2g.ingest.progress` event without its ids). */
export interface IngestProgress {
  stage: IngestStage;
  /** Source files done: videos for layouts 1, 2 and synthetic; window files for npz. */
  files: number;
  totalFiles?: number;
  /** Pose frames read. */
  frames: number;
  /** Windows cut. */
  samples: number;
  /** Bytes downloaded and written to object storage. */
  bytes: number;
}

export interface RunIngestOptions {
  /** Aborting stops the job at the next frame or window; it fails with UNAVAILABLE and leaves nothing behind. */
  signal?: AbortSignal;
  onProgress?: (progress: IngestProgress) => void;
  /** Least time between progress reports; default 500 ms (the job row is written at most once a second). */
  progressIntervalMs?: number;
  /** Largest shard object; default 48 MiB (`DEFAULT_SHARD_MAX_BYTES`). */
  shardMaxBytes?: number;
  /**
   * Whether a failure is recorded (job row `failed` plus an `s2g.ingest.failed` event) before it is
   * rethrown. Default: every failure, which suits a direct call; the bus handler records only
   * failures a retry cannot fix and lets the rest be redelivered.
   */
  recordFailure?: (error: unknown) => boolean;
}

/** What a finished job did; stored as the job row's `summary` and returned by `runIngest`. */
export interface IngestSummary {
  jobId: string;
  speakerId: string;
  layout: IngestRequest['layout'];
  /** True when the job had completed before (a redelivery): nothing was done again. */
  alreadyCompleted?: boolean;
  /** The speaker's previous videos, intervals and samples were removed first (`options.replace`). */
  replaced: boolean;
  /** Videos that added data; `unchangedVideos` were imported before and skipped. */
  videos: number;
  unchangedVideos: number;
  intervals: number;
  frames: number;
  samples: Record<Split, number>;
  shards: number;
  /** Bytes written to object storage (shards and media). */
  bytes: number;
  /** Hours of clean interval footage added (what training sees). */
  hours: number;
  /** Hours of source media read. */
  sourceHours: number;
  durationMs: number;
  /** Wall time per stage. */
  stageMs: Record<IngestStage, number>;
  /** Per-file problems skipped over (the first 50), and how many there were. */
  issues: IngestIssue[];
  issueCount: number;
  /**
   * Sufficient statistics of the training frames this job added; the speaker's normalisation is the
   * merge of these over its completed jobs (since the last `replace`). Null when it added none.
   */
  poseMoments: PoseMomentsJson | null;
  /** The speaker's normalisation after this job, over all its training frames (null if it has none). */
  normalisation: { frames: number; shoulderWidth: number; scaleFactor: number } | null;
}

/** Everything one run carries around. */
export interface IngestContext {
  job: IngestRequest;
  deps: IngestDeps;
  onProgress?: (progress: IngestProgress) => void;
}
