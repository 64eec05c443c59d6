import { INGEST_STAGES, type IngestStage } from '@s2g/contracts';
import type { IngestContext, IngestProgress } from './types';

/** The job row is written at most this often (events may be more frequent). */
const ROW_INTERVAL_MS = 1_000;

/**
 * Counts what a job has done and reports it at a bounded rate: to `onProgress`, as
 * `s2g.ingest.progress` events, and on the job row. Reports are sent one at a time in the
 * background; a failing report is logged, never fatal (progress is advisory). Also keeps the wall
 * time spent in each stage, for the summary and the benchmark.
 */
export class ProgressReporter {
  readonly counts: IngestProgress = { stage: 'scanning', files: 0, frames: 0, samples: 0, bytes: 0 };
  readonly stageMs = Object.fromEntries(INGEST_STAGES.map((s) => [s, 0])) as Record<IngestStage, number>;
  private stageSince = performance.now();
  private lastEmit = -Infinity;
  private lastRow = -Infinity;
  private chain: Promise<void> = Promise.resolve();

  constructor(
    private readonly ctx: IngestContext,
    private readonly intervalMs: number,
  ) {}

  /** Switches stage (reported at once) and adds its elapsed time to the previous one. */
  stage(stage: IngestStage): void {
    if (stage === this.counts.stage) return;
    const now = performance.now();
    this.stageMs[this.counts.stage] += now - this.stageSince;
    this.stageSince = now;
    this.counts.stage = stage;
    this.report(true);
  }

  add(delta: Partial<Record<'files' | 'frames' | 'samples' | 'bytes', number>>): void {
    for (const [k, v] of Object.entries(delta) as [keyof typeof delta, number][]) this.counts[k] += v;
    this.report(false);
  }

  setTotalFiles(total: number): void {
    this.counts.totalFiles = total;
    this.report(true);
  }

  /** Reports now when forced, else only when the last report is older than the interval. */
  report(force: boolean): void {
    const now = performance.now();
    if (!force && now - this.lastEmit < this.intervalMs) return;
    this.lastEmit = now;
    const snapshot: IngestProgress = { ...this.counts };
    const writeRow = force || now - this.lastRow >= ROW_INTERVAL_MS;
    if (writeRow) this.lastRow = now;
    const { job, deps, onProgress } = this.ctx;
    onProgress?.(snapshot);
    this.chain = this.chain.then(async () => {
      try {
        await deps.bus?.publishEvent('s2g.ingest.progress', { jobId: job.jobId, speakerId: job.speakerId, ...snapshot });
        if (writeRow) await deps.db.ingestJobs.markProgress(job.jobId, { ...snapshot });
      } catch (e) {
        deps.logger?.warn({ jobId: job.jobId, err: (e as Error).message }, 'ingest progress report failed');
      }
    });
  }

  /** Wall time per stage so far, the current stage included. */
  elapsed(): Record<IngestStage, number> {
    const out = { ...this.stageMs };
    out[this.counts.stage] += performance.now() - this.stageSince;
    return out;
  }

  /** Closes the current stage's timer and waits for reports in flight. */
  async settle(): Promise<void> {
    const now = performance.now();
    this.stageMs[this.counts.stage] += now - this.stageSince;
    this.stageSince = now;
    await this.chain;
  }
}
