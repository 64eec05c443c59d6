import { type DeadLetter, type ErrorCode, parseMessage } from '@s2g/contracts';
import { isUuid } from '@s2g/db';
import { commandHandler, type CommandHandlerDefinition, type ConsumeOptions, type EventBus } from '@s2g/messaging';
import { failIngestJob, isRetryableIngestError } from './job';
import { discardJobObjects } from './objects';
import { runIngest } from './run';
import type { IngestDeps, RunIngestOptions } from './types';

export interface IngestHandlerDeps extends IngestDeps {
  bus: EventBus;
}

export interface IngestHandlerOptions extends Omit<ConsumeOptions, 'onDeadLetter'>, Pick<RunIngestOptions, 'progressIntervalMs' | 'shardMaxBytes'> {}

/** The job named by a dead letter, as far as its raw data tells (the payload may be the reason it died). */
function deadJob(deadLetter: DeadLetter): { jobId: string; speakerId: string } | null {
  try {
    const payload = parseMessage('s2g.ingest.requested', deadLetter.data);
    return { jobId: payload.jobId, speakerId: payload.speakerId };
  } catch {
    try {
      const raw = JSON.parse(deadLetter.data) as { jobId?: unknown; speakerId?: unknown };
      return typeof raw.jobId === 'string' && typeof raw.speakerId === 'string' ? { jobId: raw.jobId, speakerId: raw.speakerId } : null;
    } catch {
      return null;
    }
  }
}

/**
 * The `s2g.ingest.requested` handler, for the ingest service and for the embedded mode's single
 * process. A failure a retry cannot fix (bad input, unknown speaker) is recorded on the job and the
 * command acknowledged, so it never comes back; anything else is thrown for redelivery with backoff,
 * and once the bus gives up, `onDeadLetter` records the job as failed and removes its objects.
 */
export function ingestCommandHandler(deps: IngestHandlerDeps, options: IngestHandlerOptions = {}): CommandHandlerDefinition<'s2g.ingest.requested'> {
  const { progressIntervalMs, shardMaxBytes, ...consume } = options;
  return commandHandler(
    's2g.ingest.requested',
    async (payload, ctx) => {
      try {
        await runIngest(payload, deps, {
          signal: ctx.signal,
          recordFailure: (e) => !isRetryableIngestError(e),
          ...(progressIntervalMs !== undefined ? { progressIntervalMs } : {}),
          ...(shardMaxBytes !== undefined ? { shardMaxBytes } : {}),
        });
      } catch (e) {
        if (isRetryableIngestError(e)) throw e;
      }
    },
    {
      ...consume,
      onDeadLetter: async (deadLetter) => {
        const job = deadJob(deadLetter);
        if (!job || !isUuid(job.jobId)) return;
        const { code, message } = deadLetter.reason;
        await failIngestJob(deps, job, { code: code as ErrorCode, message: `gave up after ${deadLetter.deliveries} deliveries: ${message}` });
        if (isUuid(job.speakerId)) await discardJobObjects(deps.store, job.speakerId, job.jobId);
      },
    },
  );
}
