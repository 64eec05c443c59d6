/**
 * Following a job to its end: live updates from the `jobUpdated` subscription, with the job's
 * current state read at the start and every few seconds, so an update missed while connecting (or a
 * job that finished before the subscription started) cannot leave the command waiting forever.
 */
import { ErrorCode } from '@s2g/contracts';
import { CliError, type S2gClient, type SubscriptionHandle } from '../client';
import { FINAL_STATUSES, type JobState, type JobUpdate, Q } from '../operations';

const POLL_MS = 3_000;

export interface WaitOptions {
  onUpdate?: (update: JobUpdate) => void;
  pollMs?: number;
}

/** Resolves the job's final state (completed, failed or cancelled). */
export async function waitForJob(client: S2gClient, id: string, options: WaitOptions = {}): Promise<JobState> {
  let finished: JobState | null = null;
  let fail: ((e: unknown) => void) | null = null;
  let settle: ((state: JobState) => void) | null = null;
  const result = new Promise<JobState>((resolve, reject) => {
    settle = resolve;
    fail = reject;
  });
  // A failure after the caller stopped waiting (it returned or threw) is not an unhandled one.
  result.catch(() => undefined);
  const finish = (state: JobState): void => {
    if (finished) return;
    finished = state;
    settle?.(state);
  };
  const check = async (): Promise<void> => {
    const { job } = await client.request<{ job: JobState | null }>(Q.job, { id });
    if (!job) throw new CliError(ErrorCode.NOT_FOUND, `job ${id} not found`);
    if (FINAL_STATUSES.includes(job.status)) finish(job);
  };
  const sub: SubscriptionHandle = client.subscribe<{ jobUpdated: JobUpdate }>(Q.jobUpdated, { id }, ({ jobUpdated }) => {
    options.onUpdate?.(jobUpdated);
    if (FINAL_STATUSES.includes(jobUpdated.status)) void check().catch((e: unknown) => fail?.(e));
  });
  sub.done.catch((e: unknown) => fail?.(e));
  const timer = setInterval(() => void check().catch((e: unknown) => fail?.(e)), options.pollMs ?? POLL_MS);
  try {
    await check();
    return await result;
  } finally {
    clearInterval(timer);
    sub.stop();
  }
}
