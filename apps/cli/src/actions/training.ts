/**
 * Training runs through the API: start one, follow it with a progress bar (the `trainingProgress`
 * subscription, with the run's state read every few seconds in case an event was missed), and show
 * its evaluation: the model against the paper's three baselines.
 */
import { ErrorCode } from '@s2g/contracts';
import { CliError, type S2gClient } from '../client';
import { type EvaluationRow, FINAL_STATUSES, Q, type RunDetail, type RunSummary, type TrainingEvent } from '../operations';
import { createProgress, duration, fixed, type Io, table } from '../output';

const POLL_MS = 5_000;

export interface TrainingSettings {
  preset?: string;
  iterations?: number;
  batchSize?: number;
  learningRate?: number;
  ganWeight?: number;
  seed?: number;
  validateEvery?: number;
  validationSize?: number;
  checkpointEvery?: number;
}

export async function startTraining(client: S2gClient, speakerId: string, config: TrainingSettings): Promise<RunSummary> {
  const { startTraining } = await client.request<{ startTraining: RunSummary }>(Q.startTraining, { input: { speakerId, config } });
  return startTraining;
}

export async function getRun(client: S2gClient, id: string): Promise<RunDetail> {
  const { trainingRun } = await client.request<{ trainingRun: RunDetail | null }>(Q.trainingRun, { id });
  if (!trainingRun) throw new CliError(ErrorCode.NOT_FOUND, `no training run ${id}`);
  return trainingRun;
}

/**
 * Follows a run to its end with a progress bar; resolves the finished run. `signal` stops following
 * (the run goes on).
 */
export async function followTraining(client: S2gClient, runId: string, io: Io, options: { signal?: AbortSignal } = {}): Promise<RunDetail> {
  const first = await getRun(client, runId);
  if (FINAL_STATUSES.includes(first.status)) return first;
  const bar = createProgress(io, 'training', first.progress.totalSteps || first.config.iterations);
  let done: (() => void) | null = null;
  let fail: ((e: unknown) => void) | null = null;
  const ended = new Promise<void>((resolve, reject) => {
    done = resolve;
    fail = reject;
  });
  ended.catch(() => undefined);
  // Events and polls can arrive out of order (the record is written just after the event): never go back.
  let shown = 0;
  const sub = client.subscribe<{ trainingProgress: TrainingEvent }>(Q.trainingProgress, { runId }, ({ trainingProgress: e }) => {
    if (e.kind === 'started' && e.backend) io.err(`training on ${e.backend}${e.device ? ` (${e.device})` : ''}\n`);
    if (e.kind === 'progress' && e.step !== null && e.step >= shown) {
      shown = e.step;
      const eta = e.etaSeconds !== null ? `, eta ${duration(e.etaSeconds)}` : '';
      bar.update(e.step, `lossG ${fixed(e.lossG)} lossD ${fixed(e.lossD)} l1 ${fixed(e.l1)}${eta}`, e.totalSteps ?? undefined);
    }
    if (FINAL_STATUSES.includes(e.status)) done?.();
  });
  sub.done.catch((e: unknown) => fail?.(e));
  const poll = setInterval(() => {
    getRun(client, runId).then(
      (run) => {
        if (FINAL_STATUSES.includes(run.status)) done?.();
        else if (run.step > shown) {
          shown = run.step;
          bar.update(run.step, undefined, run.progress.totalSteps || undefined);
        }
      },
      (e: unknown) => fail?.(e),
    );
  }, POLL_MS);
  const onAbort = (): void => done?.();
  options.signal?.addEventListener('abort', onAbort);
  try {
    await ended;
  } finally {
    clearInterval(poll);
    sub.stop();
    options.signal?.removeEventListener('abort', onAbort);
  }
  const run = await getRun(client, runId);
  bar.update(run.step, run.status, run.progress.totalSteps || run.config.iterations);
  bar.stop();
  return run;
}

const METHOD_LABEL: Record<EvaluationRow['method'], string> = {
  model: 'model',
  median: 'median pose',
  random: 'random window',
  nearest: 'nearest audio',
};
const METHOD_ORDER: EvaluationRow['method'][] = ['model', 'median', 'random', 'nearest'];

/**
 * The evaluation of a run on one split: L1 (lower is better) and PCK (higher is better) per method;
 * on the test split also the Frechet pose distance (lower is better), beat consistency and diversity
 * (docs/TRAINING.md, "Evaluation").
 */
export function evaluationTable(rows: readonly EvaluationRow[]): string {
  const sorted = [...rows].sort((a, b) => METHOD_ORDER.indexOf(a.method) - METHOD_ORDER.indexOf(b.method));
  const extended = sorted.some((r) => r.metrics?.frechet !== undefined);
  const extra = (r: EvaluationRow): (string | number | null)[] =>
    extended ? [fixed(r.metrics?.frechet, 3), fixed(r.metrics?.beatConsistency, 3), fixed(r.metrics?.diversity, 3)] : [];
  const text = table(
    ['method', 'L1', 'PCK@0.1', 'PCK@0.2', ...(extended ? ['Frechet', 'beats', 'diversity'] : []), 'windows'],
    sorted.map((r) => [METHOD_LABEL[r.method], fixed(r.l1, 4), fixed(r.pck01, 4), fixed(r.pck02, 4), ...extra(r), r.sampleCount]),
  );
  const realDiversity = sorted.find((r) => r.metrics?.realDiversity !== undefined)?.metrics.realDiversity;
  return realDiversity === undefined ? text : `${text.trimEnd()}\nthe real speaker's diversity on these windows: ${fixed(realDiversity, 3)}\n`;
}

export function runLine(run: RunSummary): string {
  const pct = Math.round(100 * (run.progress.fraction ?? 0));
  return `${run.id}  ${run.speaker.name}  ${run.preset}  ${run.status}  step ${run.step}/${run.config.iterations} (${pct}%)`;
}
