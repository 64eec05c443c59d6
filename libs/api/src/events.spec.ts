import { type AnyEvent, parseMessage, type EventName } from '@s2g/contracts';
import { describe, expect, it } from 'vitest';
import { createEventFeeds, jobViewOf, routeEvent, TOPIC, trainingViewOf } from './events';

function event<N extends EventName>(name: N, input: Record<string, unknown>): AnyEvent {
  return { name, payload: parseMessage(name, { at: '2030-01-01T00:00:00.000Z', ...input }) } as AnyEvent;
}

const RUN = 'run-1';

describe('event views', () => {
  it('turns training events into run updates with the status after each', () => {
    const progress = trainingViewOf(event('s2g.training.progress', { runId: RUN, step: 150, epoch: 0, totalSteps: 600, lossG: 1.5, lossD: 0.7, l1: 0.3, samplesPerSec: 40, etaSeconds: 90 }));
    expect(progress).toMatchObject({ runId: RUN, kind: 'progress', status: 'running', step: 150, totalSteps: 600, lossG: 1.5, etaSeconds: 90, error: null });
    expect(progress?.at.toISOString()).toBe('2030-01-01T00:00:00.000Z');
    expect(trainingViewOf(event('s2g.training.cancelled', { runId: RUN, speakerId: 's', step: 7 }))).toMatchObject({ kind: 'cancelled', status: 'cancelled', step: 7 });
    expect(trainingViewOf(event('s2g.render.completed', { renderId: 'r', resultId: 'x', objectKey: 'renders/r/v.mp4', durationMs: 5 }))).toBeNull();
  });

  it('turns every job event into a job update with kind, status and fraction', () => {
    expect(jobViewOf(event('s2g.ingest.progress', { jobId: 'j', speakerId: 's', stage: 'packing', files: 3, totalFiles: 4, frames: 1, samples: 1, bytes: 1 }))).toMatchObject({
      id: 'j',
      kind: 'ingest',
      status: 'running',
      stage: 'packing',
      fraction: 0.75,
    });
    expect(jobViewOf(event('s2g.ingest.progress', { jobId: 'j', speakerId: 's', stage: 'scanning', files: 3, frames: 0, samples: 0, bytes: 0 })).fraction).toBeNull();
    expect(jobViewOf(event('s2g.training.progress', { runId: RUN, step: 150, epoch: 0, totalSteps: 600, lossG: 1, lossD: 1, l1: 1, samplesPerSec: 1, etaSeconds: 1 }))).toMatchObject({
      id: RUN,
      kind: 'training',
      fraction: 0.25,
      stage: 'progress',
    });
    expect(jobViewOf(event('s2g.inference.failed', { resultId: 'x', error: { code: 'AUDIO_SILENT', message: 'silent' } }))).toMatchObject({
      kind: 'inference',
      status: 'failed',
      error: { code: 'AUDIO_SILENT', message: 'silent' },
    });
    expect(jobViewOf(event('s2g.render.completed', { renderId: 'r', resultId: 'x', objectKey: 'renders/r/v.mp4', durationMs: 5 }))).toMatchObject({ id: 'r', kind: 'render', status: 'completed', fraction: 1 });
  });

  it('routes an event to its run\'s and its job\'s subscribers only', async () => {
    const feeds = createEventFeeds();
    const mine = feeds.training.subscribe(TOPIC, RUN);
    const other = feeds.training.subscribe(TOPIC, 'run-2');
    const job = feeds.jobs.subscribe(TOPIC, RUN);
    routeEvent(feeds, event('s2g.training.completed', { runId: RUN, speakerId: 's', steps: 10, finalCheckpointId: 'c', durationMs: 1 }));
    expect((await mine.next()).value).toMatchObject({ kind: 'completed' });
    expect((await job.next()).value).toMatchObject({ status: 'completed', fraction: 1 });
    feeds.training.close();
    expect(await other.next()).toEqual({ value: undefined, done: true });
  });
});
