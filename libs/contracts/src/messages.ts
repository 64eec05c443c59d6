/**
 * Every subject on the bus, mapped to its payload schema: the one place a message is defined.
 * A handler's payload type follows from the subject name (`Payload<'s2g.training.requested'>`).
 */
import { z } from 'zod';
import { ErrorCode, S2gError } from './errors';
import {
  inferenceCompletedSchema,
  inferenceFailedSchema,
  inferenceRequestedSchema,
  ingestCompletedSchema,
  ingestFailedSchema,
  ingestProgressSchema,
  ingestRequestedSchema,
  renderCompletedSchema,
  renderFailedSchema,
  renderRequestedSchema,
  trainingCancelledSchema,
  trainingCancelSchema,
  trainingCheckpointSchema,
  trainingCompletedSchema,
  trainingEvaluatedSchema,
  trainingFailedSchema,
  trainingProgressSchema,
  trainingRequestedSchema,
  trainingStartedSchema,
} from './payloads';

/** Work for exactly one worker: queued durably, acknowledged explicitly, retried, dead-lettered. */
export const COMMANDS = {
  's2g.ingest.requested': ingestRequestedSchema,
  's2g.training.requested': trainingRequestedSchema,
  's2g.training.cancel': trainingCancelSchema,
  's2g.inference.requested': inferenceRequestedSchema,
  's2g.render.requested': renderRequestedSchema,
} as const;

/** Facts for every subscriber (each gateway replica sees each event). */
export const EVENTS = {
  's2g.ingest.progress': ingestProgressSchema,
  's2g.ingest.completed': ingestCompletedSchema,
  's2g.ingest.failed': ingestFailedSchema,
  's2g.training.started': trainingStartedSchema,
  's2g.training.progress': trainingProgressSchema,
  's2g.training.checkpoint': trainingCheckpointSchema,
  's2g.training.evaluated': trainingEvaluatedSchema,
  's2g.training.completed': trainingCompletedSchema,
  's2g.training.failed': trainingFailedSchema,
  's2g.training.cancelled': trainingCancelledSchema,
  's2g.inference.completed': inferenceCompletedSchema,
  's2g.inference.failed': inferenceFailedSchema,
  's2g.render.completed': renderCompletedSchema,
  's2g.render.failed': renderFailedSchema,
} as const;

type Schemas = typeof COMMANDS & typeof EVENTS;
export type CommandName = keyof typeof COMMANDS;
export type EventName = keyof typeof EVENTS;
export type MessageName = CommandName | EventName;

/** A payload as consumers see it: validated, defaults filled in. */
export type Payload<N extends MessageName> = z.output<Schemas[N]>;
/** A payload as publishers may write it: fields with defaults are optional. */
export type PayloadInput<N extends MessageName> = z.input<Schemas[N]>;
export type CommandPayload<N extends CommandName> = Payload<N>;
export type EventPayload<N extends EventName> = Payload<N>;

/** Discriminated unions, for handlers of several messages: `switch (event.name)` narrows the payload. */
export type AnyCommand = { [N in CommandName]: { name: N; payload: Payload<N> } }[CommandName];
export type AnyEvent = { [N in EventName]: { name: N; payload: Payload<N> } }[EventName];

export const COMMAND_NAMES = Object.keys(COMMANDS) as CommandName[];
export const EVENT_NAMES = Object.keys(EVENTS) as EventName[];

/**
 * High-volume events whose loss is harmless (the next one supersedes it): sent without persistence.
 * Every other event is stored by the bus before publishing returns.
 */
export const TRANSIENT_EVENTS = ['s2g.ingest.progress', 's2g.training.progress'] as const satisfies readonly EventName[];

export function isCommandName(name: string): name is CommandName {
  return Object.hasOwn(COMMANDS, name);
}

export function isEventName(name: string): name is EventName {
  return Object.hasOwn(EVENTS, name);
}

export function isTransientEvent(name: EventName): boolean {
  return (TRANSIENT_EVENTS as readonly string[]).includes(name);
}

function schemaOf(name: MessageName): z.ZodType {
  if (isCommandName(name)) return COMMANDS[name];
  if (isEventName(name)) return EVENTS[name];
  throw new S2gError(ErrorCode.MESSAGE_INVALID, `Unknown subject ${String(name)}`, { subject: name });
}

// ---------------------------------------------------------------------------------------------
// Message ids

/**
 * The fields that identify the work a message asks for or reports, never the delivery attempt:
 * a re-sent command or a re-published event gets the same id and the bus drops the copy.
 */
const ID_PARTS: { [N in MessageName]: (p: Payload<N>) => readonly (string | number | undefined)[] } = {
  's2g.ingest.requested': (p) => [p.jobId],
  // A resume is new work for the same run: each resume request is told apart by its time.
  's2g.training.requested': (p) => (p.resume ? [p.runId, 'resume', p.requestedAt] : [p.runId]),
  's2g.training.cancel': (p) => [p.runId],
  's2g.inference.requested': (p) => [p.resultId],
  's2g.render.requested': (p) => [p.renderId],
  's2g.ingest.progress': (p) => [p.jobId, p.stage, p.files, p.frames, p.samples],
  's2g.ingest.completed': (p) => [p.jobId],
  's2g.ingest.failed': (p) => [p.jobId, p.error.code],
  's2g.training.started': (p) => [p.runId, p.startStep],
  's2g.training.progress': (p) => [p.runId, p.step],
  's2g.training.checkpoint': (p) => [p.runId, p.checkpointId],
  's2g.training.evaluated': (p) => [p.runId, p.step, p.split, p.checkpointId],
  's2g.training.completed': (p) => [p.runId],
  's2g.training.failed': (p) => [p.runId, p.step, p.error.code],
  's2g.training.cancelled': (p) => [p.runId],
  's2g.inference.completed': (p) => [p.resultId],
  's2g.inference.failed': (p) => [p.resultId, p.error.code],
  's2g.render.completed': (p) => [p.renderId],
  's2g.render.failed': (p) => [p.renderId, p.error.code],
};

/** Deterministic id for de-duplication, e.g. `s2g.training.requested:run-42`. */
export function messageId<N extends MessageName>(name: N, payload: Payload<N>): string {
  const parts = (ID_PARTS[name] as (p: Payload<N>) => readonly (string | number | undefined)[])(payload);
  return [name, ...parts.map((part) => (part === undefined ? '-' : String(part)))].join(':');
}

// ---------------------------------------------------------------------------------------------
// Validation

export interface MessageIssue {
  path: string;
  message: string;
}

function issuesOf(error: z.ZodError): MessageIssue[] {
  return error.issues.map((issue) => ({ path: issue.path.map(String).join('.') || '(root)', message: issue.message }));
}

function invalid(name: string, reason: string, issues: MessageIssue[] = []): S2gError {
  const detail = issues.map((i) => `${i.path}: ${i.message}`).join('; ');
  return new S2gError(ErrorCode.MESSAGE_INVALID, `Invalid ${name} message: ${detail || reason}`, { subject: name, issues });
}

const decoder = new TextDecoder('utf-8', { fatal: true });

function decode(name: string, data: unknown): unknown {
  if (typeof data !== 'string' && !(data instanceof Uint8Array)) return data;
  let text: string;
  try {
    text = typeof data === 'string' ? data : decoder.decode(data);
  } catch {
    throw invalid(name, 'not UTF-8 text');
  }
  try {
    return JSON.parse(text);
  } catch {
    throw invalid(name, 'not JSON');
  }
}

/**
 * Validates a received message (raw bytes, JSON text or an already-parsed value) against its subject's
 * schema. Throws S2gError(MESSAGE_INVALID) with every zod issue in `details.issues`.
 */
export function parseMessage<N extends MessageName>(name: N, data: unknown): Payload<N> {
  const value = decode(name, data);
  const result = schemaOf(name).safeParse(value);
  if (!result.success) throw invalid(name, 'does not match its schema', issuesOf(result.error));
  return result.data as Payload<N>;
}

const encoder = new TextEncoder();

export interface EncodedMessage<N extends MessageName> {
  payload: Payload<N>;
  data: Uint8Array;
  messageId: string;
}

/** Validates a payload before it is sent (so a bad publisher fails, not its consumers) and encodes it. */
export function encodeMessage<N extends MessageName>(name: N, input: PayloadInput<N>): EncodedMessage<N> {
  const payload = parseMessage(name, input);
  return { payload, data: encoder.encode(JSON.stringify(payload)), messageId: messageId(name, payload) };
}

// ---------------------------------------------------------------------------------------------
// Dead letters

export const DEAD_LETTER_PREFIX = 's2g.dlq.';

/** `s2g.training.requested` -> `s2g.dlq.training.requested`. */
export function deadLetterSubject(command: CommandName): string {
  return DEAD_LETTER_PREFIX + command.slice('s2g.'.length);
}

/** The record of a command the bus gave up on: what it was, who failed it, and why. */
export const deadLetterSchema = z.object({
  schemaVersion: z.literal(1).default(1),
  command: z.string(),
  consumerGroup: z.string(),
  messageId: z.string().nullable(),
  deliveries: z.number().int().min(0),
  reason: z.object({
    code: z.string(),
    message: z.string(),
    issues: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
  }),
  /** The message as received (UTF-8), so it can be inspected or re-published after a fix. */
  data: z.string(),
  at: z.iso.datetime().default(() => new Date().toISOString()),
});
export type DeadLetter = z.output<typeof deadLetterSchema>;
