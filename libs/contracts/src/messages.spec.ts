import { describe, expect, expectTypeOf, it } from 'vitest';
import { ErrorCode, S2gError } from './errors';
import {
  type AnyEvent,
  COMMAND_NAMES,
  deadLetterSubject,
  encodeMessage,
  EVENT_NAMES,
  messageId,
  parseMessage,
  type Payload,
} from './messages';
import { TRAINING_DEFAULTS } from './payloads';

function expectInvalid(fn: () => unknown): S2gError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(S2gError);
    expect((e as S2gError).code).toBe(ErrorCode.MESSAGE_INVALID);
    return e as S2gError;
  }
  throw new Error('expected MESSAGE_INVALID');
}

describe('subjects', () => {
  it('defines every command and event of the platform', () => {
    expect(COMMAND_NAMES.sort()).toEqual(
      ['s2g.inference.requested', 's2g.ingest.requested', 's2g.render.requested', 's2g.training.cancel', 's2g.training.requested'].sort(),
    );
    const kinds = { ingest: ['progress', 'completed', 'failed'], training: ['started', 'progress', 'checkpoint', 'evaluated', 'completed', 'failed', 'cancelled'], inference: ['completed', 'failed'], render: ['completed', 'failed'] };
    const expected = Object.entries(kinds).flatMap(([kind, names]) => names.map((n) => `s2g.${kind}.${n}`));
    expect(EVENT_NAMES.sort()).toEqual(expected.sort());
  });

  it('names dead-letter subjects after the command', () => {
    expect(deadLetterSubject('s2g.training.requested')).toBe('s2g.dlq.training.requested');
  });
});

describe('parseMessage', () => {
  it('fills defaults and types the payload by subject', () => {
    const p = parseMessage('s2g.training.requested', JSON.stringify({ runId: 'r1', speakerId: 'oliver' }));
    expectTypeOf(p).toEqualTypeOf<Payload<'s2g.training.requested'>>();
    expectTypeOf(p.config.batchSize).toEqualTypeOf<number>();
    expect(p.schemaVersion).toBe(1);
    expect(p.config).toEqual(TRAINING_DEFAULTS);
    expect(p.resume).toBe(false);
    expect(Number.isNaN(Date.parse(p.requestedAt))).toBe(false);
  });

  it('reads raw bytes', () => {
    const data = new TextEncoder().encode(JSON.stringify({ renderId: 'x', resultId: 'y', width: 320, height: 240 }));
    const p = parseMessage('s2g.render.requested', data);
    expect(p).toMatchObject({ renderId: 'x', resultId: 'y', width: 320, height: 240, fps: 15, overVideo: false });
  });

  it('lists every problem of an invalid payload', () => {
    const e = expectInvalid(() => parseMessage('s2g.training.requested', { schemaVersion: 2, speakerId: 'a', config: { batchSize: 0 } }));
    const paths = (e.details?.issues as { path: string }[]).map((i) => i.path).sort();
    expect(paths).toEqual(['config.batchSize', 'runId', 'schemaVersion']);
    expect(e.message).toContain('config.batchSize');
  });

  it('rejects an ambiguous audio source and an unknown ingest layout', () => {
    expectInvalid(() => parseMessage('s2g.inference.requested', { resultId: 'r', audio: { objectKey: 'k', sampleId: 's' }, model: { runId: 'x' } }));
    expectInvalid(() => parseMessage('s2g.ingest.requested', { jobId: 'j', speakerId: 's', layout: 'zip', source: { kind: 'path', path: '/d' } }));
    const ok = parseMessage('s2g.ingest.requested', { jobId: 'j', speakerId: 's', layout: 'npz', source: { kind: 'object', prefix: 'uploads/u1/' } });
    expect(ok.options).toEqual({ splitSeed: 0, replace: false });
  });

  it('rejects bytes that are not JSON or not UTF-8', () => {
    expect(expectInvalid(() => parseMessage('s2g.render.requested', 'not json')).message).toContain('not JSON');
    expect(expectInvalid(() => parseMessage('s2g.render.requested', new Uint8Array([0xff, 0xfe]))).message).toContain('UTF-8');
  });

  it('rejects non-finite losses in progress events', () => {
    const base = { runId: 'r', step: 1, epoch: 0, totalSteps: 10, lossD: 1, l1: 1, samplesPerSec: 3, etaSeconds: 4 };
    expect(parseMessage('s2g.training.progress', { ...base, lossG: 0.5 }).lossG).toBe(0.5);
    // JSON turns NaN into null; a producer passing the object directly must be caught too.
    expectInvalid(() => parseMessage('s2g.training.progress', { ...base, lossG: Number.NaN }));
  });
});

describe('messageId', () => {
  it('depends on the job, not on when it was sent', () => {
    const a = encodeMessage('s2g.ingest.requested', { jobId: 'j1', speakerId: 's', layout: 's2g', source: { kind: 'path', path: '/d' }, requestedAt: '2025-01-01T00:00:00Z' });
    const b = encodeMessage('s2g.ingest.requested', { jobId: 'j1', speakerId: 's', layout: 's2g', source: { kind: 'path', path: '/d' }, requestedAt: '2025-01-02T00:00:00Z' });
    expect(a.messageId).toBe('s2g.ingest.requested:j1');
    expect(b.messageId).toBe(a.messageId);
    expect(messageId('s2g.render.requested', parseMessage('s2g.render.requested', { renderId: 'r9', resultId: 'x' }))).toBe('s2g.render.requested:r9');
  });

  it('tells resumes of one run apart but not re-sends of one resume', () => {
    const first = encodeMessage('s2g.training.requested', { runId: 'r', speakerId: 's' });
    const resume1 = encodeMessage('s2g.training.requested', { runId: 'r', speakerId: 's', resume: true, requestedAt: '2025-01-01T00:00:00Z' });
    const resume2 = encodeMessage('s2g.training.requested', { runId: 'r', speakerId: 's', resume: true, requestedAt: '2025-01-01T01:00:00Z' });
    const resend = encodeMessage('s2g.training.requested', { runId: 'r', speakerId: 's', resume: true, requestedAt: '2025-01-01T00:00:00Z' });
    expect(new Set([first.messageId, resume1.messageId, resume2.messageId]).size).toBe(3);
    expect(resend.messageId).toBe(resume1.messageId);
  });

  it('round-trips through encode and parse', () => {
    const m = encodeMessage('s2g.training.failed', { runId: 'r', speakerId: 's', error: { code: ErrorCode.TRAINING_DIVERGED, message: 'loss is NaN' } });
    expect(parseMessage('s2g.training.failed', m.data)).toEqual(m.payload);
    expect(m.messageId).toBe('s2g.training.failed:r:-:TRAINING_DIVERGED');
  });

  it('refuses to encode an invalid payload', () => {
    // @ts-expect-error width must be a number: the types catch it before the runtime check does
    expectInvalid(() => encodeMessage('s2g.render.requested', { renderId: 'r', resultId: 'x', width: 'wide' }));
  });
});

describe('AnyEvent', () => {
  it('narrows the payload by name', () => {
    const e = { name: 's2g.render.completed', payload: parseMessage('s2g.render.completed', { renderId: 'r', resultId: 'x', objectKey: 'renders/r/v.mp4', durationMs: 5 }) } as AnyEvent;
    if (e.name === 's2g.render.completed') expectTypeOf(e.payload.objectKey).toEqualTypeOf<string>();
    expect(e.name).toBe('s2g.render.completed');
  });
});
