/**
 * Start-up recovery for the in-process bus. Its queues live in memory, so commands that were queued
 * or being handled when the process stopped are gone, while their records still say `queued` or
 * `running`. Each such record is turned back into its command and published again (oldest first),
 * so the work continues where it was: a training run from its latest checkpoint, an ingest or a
 * prediction from the start (their handlers are idempotent). With NATS the commands are durable and
 * nothing needs doing.
 */
import { type CommandName, ErrorCode, type IngestSource, isS2gError, type JobKind, type PayloadInput, S2gError } from '@s2g/contracts';
import type { Database, JobRecord, JobRepository } from '@s2g/db';
import type { BusLogger, EventBus } from '@s2g/messaging';

export type RequeuedJobs = Record<JobKind, number>;

/** Every queued or running record of one kind, oldest first. */
async function openJobs<T extends JobRecord>(repo: JobRepository<T>): Promise<T[]> {
  const found: T[] = [];
  let after: string | null = null;
  for (;;) {
    const page = await repo.list({ first: 100, after }, { status: ['queued', 'running'] });
    found.push(...page.edges.map((e) => e.node));
    if (!page.pageInfo.hasNextPage) break;
    after = page.pageInfo.endCursor;
  }
  return found.reverse();
}

/** `object:<prefix>` or `path:<folder>`, as the gateway writes an ingest job's source. */
export function parseIngestSource(source: string): IngestSource | null {
  const colon = source.indexOf(':');
  const kind = source.slice(0, colon);
  const value = source.slice(colon + 1);
  if (colon < 0 || value.length === 0) return null;
  if (kind === 'object') return { kind: 'object', prefix: value };
  if (kind === 'path') return { kind: 'path', path: value };
  return null;
}

interface Requeue<N extends CommandName> {
  kind: JobKind;
  id: string;
  command: N;
  payload: PayloadInput<N> | null;
  fail(error: { code: ErrorCode; message: string }): Promise<unknown>;
}

type AnyRequeue = { [N in CommandName]: Requeue<N> }[CommandName];

async function requeuesOf(db: Database, kinds: ReadonlySet<JobKind>): Promise<AnyRequeue[]> {
  const out: AnyRequeue[] = [];
  if (kinds.has('ingest')) {
    for (const job of await openJobs(db.ingestJobs)) {
      const source = parseIngestSource(job.source);
      out.push({
        kind: 'ingest',
        id: job.id,
        command: 's2g.ingest.requested',
        payload: source && job.speakerId ? { jobId: job.id, speakerId: job.speakerId, layout: job.layout, source, options: job.options } : null,
        fail: (e) => db.ingestJobs.markFailed(job.id, e),
      });
    }
  }
  if (kinds.has('training')) {
    for (const run of await openJobs(db.trainingRuns)) {
      out.push({
        kind: 'training',
        id: run.id,
        command: 's2g.training.requested',
        payload: { runId: run.id, speakerId: run.speakerId, config: run.config },
        fail: (e) => db.trainingRuns.markFailed(run.id, e),
      });
    }
  }
  if (kinds.has('inference')) {
    for (const result of await openJobs(db.inferenceResults)) {
      // The request as the gateway stored it: audio, model and the optional render follow-up.
      const input = result.input as Omit<PayloadInput<'s2g.inference.requested'>, 'resultId'>;
      out.push({
        kind: 'inference',
        id: result.id,
        command: 's2g.inference.requested',
        payload: { ...input, resultId: result.id },
        fail: (e) => db.inferenceResults.markFailed(result.id, e),
      });
    }
  }
  if (kinds.has('render')) {
    for (const render of await openJobs(db.renders)) {
      // A render of a result still being predicted is requested by the inference job when it ends.
      const result = await db.inferenceResults.findById(render.resultId);
      if (result?.status !== 'completed') continue;
      out.push({
        kind: 'render',
        id: render.id,
        command: 's2g.render.requested',
        payload: { ...(render.options as object), renderId: render.id, resultId: render.resultId },
        fail: (e) => db.renders.markFailed(render.id, e),
      });
    }
  }
  return out;
}

/**
 * Publishes the command of every unfinished job of the given kinds. A record that no longer makes a
 * valid command (written by an older version, say) is marked failed rather than left queued forever.
 */
export async function requeueUnfinishedJobs(db: Database, bus: EventBus, kinds: readonly JobKind[], logger: BusLogger): Promise<RequeuedJobs> {
  const counts: RequeuedJobs = { ingest: 0, training: 0, inference: 0, render: 0 };
  for (const job of await requeuesOf(db, new Set(kinds))) {
    try {
      if (!job.payload) throw new S2gError(ErrorCode.MESSAGE_INVALID, `the ${job.kind} record does not describe a complete request`);
      // The payload's type follows from job.command (a union TypeScript cannot pair up here).
      await bus.publishCommand(job.command, job.payload as never);
      counts[job.kind] += 1;
    } catch (e) {
      if (!isS2gError(e) || e.code !== ErrorCode.MESSAGE_INVALID) throw e;
      logger.error({ kind: job.kind, id: job.id, reason: e.message }, 'unfinished job cannot be queued again; marking it failed');
      await job.fail({ code: e.code, message: `could not be queued again after a restart: ${e.message}` });
    }
  }
  const total = Object.values(counts).reduce((a, b) => a + b, 0);
  if (total > 0) logger.info({ ...counts }, 'unfinished jobs queued again after start-up');
  return counts;
}
