/**
 * Bus events -> subscription messages. Each gateway replica subscribes to every job event on the bus
 * itself (bus events fan out to all subscribers), so a client gets its updates whichever replica
 * holds its WebSocket. The views here are what the `trainingProgress` and `jobUpdated` subscriptions
 * deliver.
 */
import { type AnyEvent, JOB_KINDS, type JobKind, type JobStatus } from '@s2g/contracts';
import type { EventBus, Subscription } from '@s2g/messaging';
import { TopicPubSub } from './pubsub';

export const TRAINING_EVENT_KINDS = ['started', 'progress', 'checkpoint', 'evaluated', 'completed', 'failed', 'cancelled'] as const;
export type TrainingEventKind = (typeof TRAINING_EVENT_KINDS)[number];

export interface ErrorView {
  code: string;
  message: string;
}

export interface TrainingEventView {
  runId: string;
  kind: TrainingEventKind;
  /** The run's status after this event. */
  status: JobStatus;
  step: number | null;
  epoch: number | null;
  totalSteps: number | null;
  lossG: number | null;
  lossD: number | null;
  l1: number | null;
  samplesPerSec: number | null;
  etaSeconds: number | null;
  backend: string | null;
  device: string | null;
  checkpoint: { id: string; step: number; kind: string; validationLoss: number | null } | null;
  evaluation: {
    checkpointId: string | null;
    step: number;
    split: string;
    samples: number;
    metrics: Record<string, number>;
    baselines: Record<string, Record<string, number>> | null;
  } | null;
  error: ErrorView | null;
  at: Date;
}

export interface JobUpdateView {
  id: string;
  kind: JobKind;
  status: JobStatus;
  /** The bus event behind the update, e.g. `s2g.training.progress`. */
  event: string;
  /** Done so far, 0..1, when the job knows its total. */
  fraction: number | null;
  /** What the job is doing (ingest stage, training step...). */
  stage: string | null;
  error: ErrorView | null;
  /** The event's own fields. */
  details: Record<string, unknown>;
  at: Date;
}

function trainingView(runId: string, kind: TrainingEventKind, status: JobStatus, at: string, fields: Partial<TrainingEventView> = {}): TrainingEventView {
  return {
    runId,
    kind,
    status,
    step: null,
    epoch: null,
    totalSteps: null,
    lossG: null,
    lossD: null,
    l1: null,
    samplesPerSec: null,
    etaSeconds: null,
    backend: null,
    device: null,
    checkpoint: null,
    evaluation: null,
    error: null,
    ...fields,
    at: new Date(at),
  };
}

/** The training view of a training event, or null for other events. */
export function trainingViewOf(event: AnyEvent): TrainingEventView | null {
  switch (event.name) {
    case 's2g.training.started': {
      const p = event.payload;
      return trainingView(p.runId, 'started', 'running', p.at, { step: p.startStep, totalSteps: p.totalSteps, backend: p.backend, device: p.device ?? null });
    }
    case 's2g.training.progress': {
      const p = event.payload;
      return trainingView(p.runId, 'progress', 'running', p.at, {
        step: p.step,
        epoch: p.epoch,
        totalSteps: p.totalSteps,
        lossG: p.lossG,
        lossD: p.lossD,
        l1: p.l1,
        samplesPerSec: p.samplesPerSec,
        etaSeconds: p.etaSeconds,
      });
    }
    case 's2g.training.checkpoint': {
      const p = event.payload;
      return trainingView(p.runId, 'checkpoint', 'running', p.at, {
        step: p.step,
        checkpoint: { id: p.checkpointId, step: p.step, kind: p.kind, validationLoss: p.valLoss ?? null },
      });
    }
    case 's2g.training.evaluated': {
      const p = event.payload;
      return trainingView(p.runId, 'evaluated', 'running', p.at, {
        step: p.step,
        evaluation: { checkpointId: p.checkpointId ?? null, step: p.step, split: p.split, samples: p.samples, metrics: p.metrics, baselines: p.baselines ?? null },
      });
    }
    case 's2g.training.completed': {
      const p = event.payload;
      return trainingView(p.runId, 'completed', 'completed', p.at, { step: p.steps, totalSteps: p.steps });
    }
    case 's2g.training.failed': {
      const p = event.payload;
      return trainingView(p.runId, 'failed', 'failed', p.at, { step: p.step ?? null, error: p.error });
    }
    case 's2g.training.cancelled': {
      const p = event.payload;
      return trainingView(p.runId, 'cancelled', 'cancelled', p.at, { step: p.step });
    }
    default:
      return null;
  }
}

function fractionOf(done: number, total: number | null | undefined): number | null {
  return total && total > 0 ? Math.min(1, done / total) : null;
}

/** The job update of any job event. */
export function jobViewOf(event: AnyEvent): JobUpdateView {
  const base = { event: event.name, details: { ...event.payload } as Record<string, unknown>, at: new Date(event.payload.at) };
  const none = { fraction: null, stage: null, error: null };
  switch (event.name) {
    case 's2g.ingest.progress': {
      const p = event.payload;
      return { ...base, id: p.jobId, kind: 'ingest', status: 'running', fraction: fractionOf(p.files, p.totalFiles), stage: p.stage, error: null };
    }
    case 's2g.ingest.completed':
      return { ...base, ...none, id: event.payload.jobId, kind: 'ingest', status: 'completed', fraction: 1 };
    case 's2g.ingest.failed':
      return { ...base, ...none, id: event.payload.jobId, kind: 'ingest', status: 'failed', error: event.payload.error };
    case 's2g.inference.completed':
      return { ...base, ...none, id: event.payload.resultId, kind: 'inference', status: 'completed', fraction: 1 };
    case 's2g.inference.failed':
      return { ...base, ...none, id: event.payload.resultId, kind: 'inference', status: 'failed', error: event.payload.error };
    case 's2g.render.completed':
      return { ...base, ...none, id: event.payload.renderId, kind: 'render', status: 'completed', fraction: 1 };
    case 's2g.render.failed':
      return { ...base, ...none, id: event.payload.renderId, kind: 'render', status: 'failed', error: event.payload.error };
    default: {
      const view = trainingViewOf(event) as TrainingEventView;
      const fraction = view.status === 'completed' ? 1 : view.step !== null ? fractionOf(view.step, view.totalSteps) : null;
      return { ...base, id: view.runId, kind: 'training', status: view.status, fraction, stage: view.kind, error: view.error };
    }
  }
}

export const TOPIC = 'updates';

/** The two feeds subscriptions read from, keyed by run id and by job id. */
export interface EventFeeds {
  training: TopicPubSub<TrainingEventView>;
  jobs: TopicPubSub<JobUpdateView>;
}

export function createEventFeeds(): EventFeeds {
  return { training: new TopicPubSub(), jobs: new TopicPubSub() };
}

/** Routes one event to the subscribers of its run and of its job. */
export function routeEvent(feeds: EventFeeds, event: AnyEvent): void {
  const training = trainingViewOf(event);
  if (training) feeds.training.publish(TOPIC, training.runId, training);
  const job = jobViewOf(event);
  feeds.jobs.publish(TOPIC, job.id, job);
}

/** Subscribes to every job event on the bus; resolves once the subscriptions are live. */
export async function bridgeBusEvents(bus: EventBus, feeds: EventFeeds): Promise<{ stop(): Promise<void> }> {
  const subscriptions: Subscription[] = [];
  try {
    for (const kind of JOB_KINDS) {
      // The bus passes only events to pattern handlers (commands share the subject tree).
      subscriptions.push(await bus.subscribeEvents(`s2g.${kind}.*`, (event: AnyEvent) => routeEvent(feeds, event)));
    }
  } catch (e) {
    await Promise.all(subscriptions.map((s) => s.unsubscribe()));
    throw e;
  }
  return {
    async stop() {
      await Promise.all(subscriptions.map((s) => s.unsubscribe()));
    },
  };
}
