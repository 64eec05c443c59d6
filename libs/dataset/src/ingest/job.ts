import { describeError, ErrorCode, isS2gError, MAX_REPORTED_ISSUES, S2gError } from '@s2g/contracts';
import type { Database, IngestJob } from '@s2g/db';
import type { IngestDeps, IngestRequest, IngestSummary } from './types';

/** How the job row names its source (as the gateway writes it). */
function sourceText(job: IngestRequest): string {
  return job.source.kind === 'path' ? `path:${job.source.path}` : `object:${job.source.prefix}`;
}

/**
 * The job's row: the one the gateway created with the request, or a new one for a direct call
 * (linked to the speaker when it exists, so even a job for an unknown speaker leaves a record).
 */
export async function openJob(db: Database, job: IngestRequest): Promise<IngestJob> {
  const row = await db.ingestJobs.findById(job.jobId);
  if (row) return row;
  const speaker = await db.speakers.findById(job.speakerId);
  try {
    return await db.ingestJobs.create({
      id: job.jobId,
      speakerName: speaker?.name ?? job.options.sourceSpeaker ?? job.speakerId,
      speakerId: speaker?.id ?? null,
      layout: job.layout,
      source: sourceText(job),
      options: { ...job.options },
    });
  } catch (e) {
    // Created by a concurrent delivery of the same command.
    if (isS2gError(e) && e.code === ErrorCode.CONFLICT) return db.ingestJobs.getById(job.jobId);
    throw e;
  }
}

/** Codes a later attempt can fix (the service or a concurrent job was in the way); anything else about the input is final. */
const RETRYABLE: readonly string[] = [ErrorCode.UNAVAILABLE, ErrorCode.INTERNAL, ErrorCode.CONFLICT, ErrorCode.STORAGE_SIZE_MISMATCH];

/**
 * True when redelivering the command may succeed: unexpected errors (a bug, a dropped connection)
 * and the retryable codes. Bad input (media, keypoints, missing files, unknown speaker...) is final:
 * retrying would fail the same way.
 */
export function isRetryableIngestError(error: unknown): boolean {
  if (!(error instanceof S2gError)) return true;
  if (error.code === ErrorCode.CONFLICT && typeof error.details?.status === 'string') return false;
  return RETRYABLE.includes(error.code);
}

/** A reason as a dead letter carries it: a code (from `ErrorCode`, possibly a newer one) and a message. */
export interface FailureReason {
  code: ErrorCode;
  message: string;
}

function isReason(value: unknown): value is FailureReason {
  return !(value instanceof Error) && typeof value === 'object' && value !== null && typeof (value as FailureReason).code === 'string' && typeof (value as FailureReason).message === 'string';
}

/**
 * Records a failed job: the row goes to `failed` with the code and message, and `s2g.ingest.failed`
 * is published. `error` is a thrown value or a `FailureReason`. Does nothing when the job had already
 * finished (returns false).
 */
export async function failIngestJob(
  deps: Pick<IngestDeps, 'db' | 'bus' | 'logger'>,
  job: IngestRequest | { jobId: string; speakerId: string },
  error: unknown,
): Promise<boolean> {
  const { code, message } = isReason(error) ? error : describeError(error);
  if ('layout' in job && !(await deps.db.ingestJobs.findById(job.jobId))) await openJob(deps.db, job);
  const marked = await deps.db.ingestJobs.markFailed(job.jobId, { code, message });
  if (!marked) return false;
  await deps.bus?.publishEvent('s2g.ingest.failed', { jobId: job.jobId, speakerId: job.speakerId, error: { code, message } });
  deps.logger?.warn({ jobId: job.jobId, speakerId: job.speakerId, code, message }, 'ingest failed');
  return true;
}

/** Publishes `s2g.ingest.completed` for a finished job (again, for a redelivered one: the bus drops the copy). */
export async function publishCompleted(deps: Pick<IngestDeps, 'bus'>, summary: IngestSummary): Promise<void> {
  await deps.bus?.publishEvent('s2g.ingest.completed', {
    jobId: summary.jobId,
    speakerId: summary.speakerId,
    videos: summary.videos,
    frames: summary.frames,
    samples: summary.samples,
    bytes: summary.bytes,
    durationMs: summary.durationMs,
    hours: summary.hours,
    sourceHours: summary.sourceHours,
    intervals: summary.intervals,
    issues: summary.issues.slice(0, MAX_REPORTED_ISSUES),
    issueCount: summary.issueCount,
  });
}
