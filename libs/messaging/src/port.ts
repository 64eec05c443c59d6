/**
 * The event-bus port. Two drivers implement it with the same semantics (checked by one contract
 * test suite): NATS JetStream for distributed mode, in-process for embedded mode and tests.
 *
 * Commands are work: each is handled by exactly one worker of the one consumer group that owns the
 * command, acknowledged only after the handler resolves, redelivered with backoff when the handler
 * throws or the worker disappears, and dead-lettered after `maxDeliver` deliveries. Delivery is
 * at-least-once, so handlers must be idempotent (the message id helps).
 * Events are facts fanned out to every subscriber that is listening when they are published.
 */
import type { AnyEvent, CommandName, DeadLetter, EventName, Payload, PayloadInput } from '@s2g/contracts';

export type { DeadLetter } from '@s2g/contracts';

export interface ConsumeOptions {
  /** Deliveries before the command is dead-lettered (crashed or stopped workers count too). Default 5. */
  maxDeliver?: number;
  /** Wait before redelivery after the n-th failure (the last value repeats). Default 1 s, 5 s, 30 s, 2 min. */
  backoffMs?: readonly number[];
  /** Handlers of this command running at once in this process. Default 1. */
  concurrency?: number;
  /**
   * How long a delivery may go without a sign of life before it is given to another worker. Running
   * handlers send heartbeats automatically, so this bounds the detection of a dead worker, not the
   * length of a job. Default 30 s.
   */
  ackWaitMs?: number;
  /**
   * Called once a command is given up on (after the dead letter is stored, before it is acknowledged):
   * the place to write the job's `failed` record and publish its `failed` event. If it throws, the
   * command comes back later and dead-lettering is retried.
   */
  onDeadLetter?: (deadLetter: DeadLetter) => Promise<void> | void;
}

export const CONSUME_DEFAULTS = {
  maxDeliver: 5,
  backoffMs: [1_000, 5_000, 30_000, 120_000],
  concurrency: 1,
  ackWaitMs: 30_000,
} as const satisfies Required<Omit<ConsumeOptions, 'onDeadLetter'>>;

export interface CommandContext {
  command: CommandName;
  group: string;
  /** The publisher's de-duplication id (null if the message was published without one). */
  messageId: string | null;
  /** 1 on the first delivery. */
  deliveryCount: number;
  maxDeliver: number;
  /**
   * Aborted when this worker shuts down. Long handlers should stop at a safe point (e.g. after saving a
   * checkpoint) and throw: the command is then redelivered at once, without counting as a failure.
   */
  signal: AbortSignal;
}

/** Resolve to acknowledge; throw to have the command retried (or dead-lettered on the last delivery). */
export type CommandHandler<N extends CommandName> = (payload: Payload<N>, ctx: CommandContext) => Promise<void> | void;

export interface StopOptions {
  /** How long in-flight handlers may run before their commands are released for redelivery. Default 10 s. */
  timeoutMs?: number;
}

export interface CommandConsumer {
  readonly command: CommandName;
  readonly group: string;
  /** Stops pulling, waits for in-flight handlers (up to the timeout), releases the rest for redelivery. */
  stop(options?: StopOptions): Promise<void>;
}

export interface PublishResult {
  messageId: string;
  /** True when the bus already had a message with this id (within its de-duplication window). */
  duplicate: boolean;
}

export interface EventMeta {
  name: EventName;
  messageId: string | null;
}

/** A NATS-style wildcard over event names: `*` matches one token, `>` the rest (`s2g.training.*`, `s2g.>`). */
export type EventPattern = `${string}*${string}` | `${string}>`;
export type EventSelector = EventName | EventPattern;

export type EventHandler<N extends EventName> = (payload: Payload<N>, meta: EventMeta) => Promise<void> | void;
/** Handler of a pattern: `switch (event.name)` narrows the payload. */
export type AnyEventHandler = (event: AnyEvent, meta: EventMeta) => Promise<void> | void;
export type HandlerFor<S extends EventSelector> = S extends EventName ? EventHandler<S> : AnyEventHandler;

export type DeadLetterHandler = (deadLetter: DeadLetter) => Promise<void> | void;

export interface Subscription {
  unsubscribe(): Promise<void>;
}

export interface EventBus {
  readonly driver: 'nats' | 'in-process';
  /** Validates and queues a command. Re-sending the same id within the de-duplication window is a no-op. */
  publishCommand<N extends CommandName>(name: N, payload: PayloadInput<N>, options?: { messageId?: string }): Promise<PublishResult>;
  /**
   * Starts handling a command as a worker of `group`. A command belongs to one group: a second group
   * for the same command is refused with S2gError(HANDLER_CONFLICT).
   */
  consumeCommands<N extends CommandName>(name: N, group: string, handler: CommandHandler<N>, options?: ConsumeOptions): Promise<CommandConsumer>;
  /** Validates and publishes an event; resolves once the bus has it (progress events: once sent). */
  publishEvent<N extends EventName>(name: N, payload: PayloadInput<N>): Promise<void>;
  /** Delivers matching events to `handler`, one at a time, in order. Invalid events are logged and skipped. */
  subscribeEvents<S extends EventSelector>(selector: S, handler: HandlerFor<S>): Promise<Subscription>;
  /** Dead letters as they are recorded (of one command, or all). */
  subscribeDeadLetters(handler: DeadLetterHandler, command?: CommandName): Promise<Subscription>;
  /** Throws unless the bus can take messages now (for readiness checks). */
  ping(): Promise<void>;
  /** Stops every consumer (see CommandConsumer.stop) and subscription, then disconnects. */
  close(options?: StopOptions): Promise<void>;
}

/** Minimal logger the bus writes to; a pino logger fits. */
export interface BusLogger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

const ignore = (): void => undefined;
export const silentLogger: BusLogger = { debug: ignore, info: ignore, warn: ignore, error: ignore };
