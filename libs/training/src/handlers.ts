import { type CommandPayload, type DeadLetter, ErrorCode } from '@s2g/contracts';
import { type AnyCommandHandler, commandHandler } from '@s2g/messaging';
import { type TrainingDeps, type TrainingOptions, runTraining } from './run';

/** How the trainer service consumes its commands (TRAINER_* settings). */
export interface TrainingServiceOptions extends Omit<TrainingOptions, 'signal'> {
  /** Runs trained at once by this process; default 1 (one run keeps the tensor backend busy). */
  concurrency?: number;
  /**
   * How long a run may go without a heartbeat before its command is given to another worker.
   * Heartbeats go out between iterations, so this must exceed the longest iteration; it also bounds
   * how long a killed worker's run waits before it resumes elsewhere. Default 5 minutes.
   */
  ackWaitMs?: number;
  /** Deliveries of one request (every restart of a worker counts) before the run fails; default 20. */
  maxDeliver?: number;
  /** Waits before redelivery after a failed delivery. */
  backoffMs?: readonly number[];
}

export const TRAINING_SERVICE_DEFAULTS = { concurrency: 1, ackWaitMs: 300_000, maxDeliver: 20 } as const;

/**
 * The trainer service's command handlers: `s2g.training.requested` runs (or continues) a run;
 * `s2g.training.cancel` marks it cancelled in Postgres, which the replica running it notices before
 * its next iteration. A request the bus gives up on fails its run.
 */
export function trainingCommandHandlers(deps: TrainingDeps, options: TrainingServiceOptions = {}): AnyCommandHandler[] {
  const { concurrency, ackWaitMs, maxDeliver, backoffMs, ...training } = options;
  return [
    commandHandler(
      's2g.training.requested',
      async (payload, ctx) => {
        const outcome = await runTraining(deps, payload, { ...training, signal: ctx.signal });
        deps.logger.info({ runId: payload.runId, delivery: ctx.deliveryCount, outcome }, 'training request handled');
      },
      {
        concurrency: concurrency ?? TRAINING_SERVICE_DEFAULTS.concurrency,
        ackWaitMs: ackWaitMs ?? TRAINING_SERVICE_DEFAULTS.ackWaitMs,
        maxDeliver: maxDeliver ?? TRAINING_SERVICE_DEFAULTS.maxDeliver,
        ...(backoffMs ? { backoffMs } : {}),
        onDeadLetter: (deadLetter) => failDeadLetteredRun(deps, deadLetter),
      },
    ),
    commandHandler('s2g.training.cancel', (payload) => cancelTraining(deps, payload), { concurrency: 4, ...(backoffMs ? { backoffMs } : {}) }),
  ];
}

/**
 * Marks a queued or running run cancelled. A queued run is announced cancelled here; a running one by
 * the replica running it, once its loop sees the status (within one iteration).
 */
export async function cancelTraining(deps: Pick<TrainingDeps, 'db' | 'bus' | 'logger'>, payload: CommandPayload<'s2g.training.cancel'>): Promise<void> {
  const { db, bus, logger } = deps;
  const run = await db.trainingRuns.findById(payload.runId);
  if (!run) {
    logger.warn({ runId: payload.runId }, 'cancel of an unknown training run ignored');
    return;
  }
  if (!(await db.trainingRuns.markCancelled(run.id))) {
    logger.info({ runId: run.id, status: run.status }, 'cancel of a finished training run ignored');
    return;
  }
  logger.info({ runId: run.id, was: run.status, reason: payload.reason }, 'training run cancelled');
  if (run.status === 'queued') await bus.publishEvent('s2g.training.cancelled', { runId: run.id, speakerId: run.speakerId, step: run.step });
}

/** Why a dead-lettered request failed its run: a bad config is TRAINING_CONFIG_INVALID, as the gateway would say. */
export function deadLetterError(deadLetter: DeadLetter): { code: ErrorCode; message: string } {
  const { reason } = deadLetter;
  const issues = reason.issues ?? [];
  if (reason.code === ErrorCode.MESSAGE_INVALID && issues.length > 0 && issues.every((i) => i.path === 'config' || i.path.startsWith('config.'))) {
    return { code: ErrorCode.TRAINING_CONFIG_INVALID, message: `Invalid training config: ${issues.map((i) => `${i.path.replace(/^config\.?/, '') || '(config)'}: ${i.message}`).join('; ')}` };
  }
  const known = (Object.values(ErrorCode) as string[]).includes(reason.code);
  return { code: known ? (reason.code as ErrorCode) : ErrorCode.DELIVERY_EXHAUSTED, message: `gave up after ${deadLetter.deliveries} deliveries: ${reason.message}` };
}

/** The bus gave up on a training request (invalid, or failing on every delivery): the run fails. */
export async function failDeadLetteredRun(deps: Pick<TrainingDeps, 'db' | 'bus' | 'logger'>, deadLetter: DeadLetter): Promise<void> {
  const { db, bus, logger } = deps;
  let data: Record<string, unknown> = {};
  try {
    const parsed: unknown = JSON.parse(deadLetter.data);
    if (typeof parsed === 'object' && parsed !== null) data = parsed as Record<string, unknown>;
  } catch {
    // Not JSON: nothing names the run.
  }
  const runId = typeof data.runId === 'string' && data.runId.length > 0 ? data.runId : null;
  const error = deadLetterError(deadLetter);
  if (!runId) {
    logger.error({ error, messageId: deadLetter.messageId }, 'dead-lettered training request names no run');
    return;
  }
  const run = await db.trainingRuns.findById(runId);
  const marked = run !== null && (await db.trainingRuns.markFailed(run.id, error));
  const speakerId = run?.speakerId ?? (typeof data.speakerId === 'string' && data.speakerId.length > 0 ? data.speakerId : null);
  if ((marked || !run) && speakerId) await bus.publishEvent('s2g.training.failed', { runId, speakerId, error });
  logger.error({ runId, error }, 'training request dead-lettered; run failed');
}
