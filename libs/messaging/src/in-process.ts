/**
 * In-process driver: the bus of the embedded single-process mode, and of tests. A broker holds the
 * queues; each `connect()` is one connection to it (like a process connected to NATS), so the contract
 * tests can run competing workers and kill one. Nothing survives the process: in embedded mode the
 * job records in the database, not the bus, are what outlives a restart.
 */
import {
  type AnyEvent,
  type CommandName,
  DEAD_LETTER_PREFIX,
  type DeadLetter,
  deadLetterSchema,
  deadLetterSubject,
  describeError,
  encodeMessage,
  ErrorCode,
  type EventName,
  isEventName,
  parseMessage,
  type Payload,
  type PayloadInput,
  S2gError,
} from '@s2g/contracts';
import type { Registry } from 'prom-client';
import { ackTimeoutFor, CommandConsumerLoop, type Delivery, type DeliverySource, type ResolvedConsumeOptions, resolveConsumeOptions } from './consumer';
import { busMetrics, type BusMetrics } from './metrics';
import { assertToken, subjectMatches } from './names';
import {
  type BusLogger,
  type CommandConsumer,
  type CommandHandler,
  type ConsumeOptions,
  type DeadLetterHandler,
  type EventBus,
  type EventMeta,
  type EventSelector,
  type HandlerFor,
  type PublishResult,
  silentLogger,
  type StopOptions,
  type Subscription,
} from './port';

export interface InProcessBrokerOptions {
  /** How long a message id is remembered for de-duplication. Default 1 h. */
  duplicateWindowMs?: number;
}

const MAX_KEPT_DEAD_LETTERS = 1000;

interface Stored {
  seq: number;
  data: Uint8Array;
  messageId: string | null;
  deliveries: number;
  /** Bumped on every delivery, so a settle from an older delivery is ignored. */
  lease: number;
  leasedBy: InProcessBus | null;
  timer: ReturnType<typeof setTimeout> | null;
}

interface Waiter {
  bus: InProcessBus;
  resolve(d: Delivery | null): void;
}

/** The queue of one command: stored until acknowledged, owned by one consumer group. */
class CommandQueue {
  group: string | null = null;
  options: Pick<ResolvedConsumeOptions, 'ackWaitMs' | 'backoffMs'> = { ackWaitMs: 30_000, backoffMs: [] };
  readonly stored = new Map<number, Stored>();
  ready: Stored[] = [];
  waiters: Waiter[] = [];

  constructor(readonly command: CommandName) {}

  dispatch(): void {
    while (this.ready.length > 0 && this.waiters.length > 0) {
      const waiter = this.waiters.shift() as Waiter;
      if (waiter.bus.closed) {
        waiter.resolve(null);
        continue;
      }
      waiter.resolve(this.lease(this.ready.shift() as Stored, waiter.bus));
    }
  }

  private lease(m: Stored, bus: InProcessBus): Delivery {
    m.deliveries += 1;
    const lease = ++m.lease;
    m.leasedBy = bus;
    const current = (): boolean => m.lease === lease && m.leasedBy === bus && !bus.closed && this.stored.has(m.seq);
    const expireAfter = (ms: number): void => {
      if (m.timer) clearTimeout(m.timer);
      m.timer = setTimeout(() => {
        // Lost (its worker died or hung silent): back to the front of the queue.
        if (m.lease !== lease) return;
        m.lease++;
        m.leasedBy = null;
        m.timer = null;
        this.ready.unshift(m);
        this.dispatch();
      }, ms);
      m.timer.unref();
    };
    expireAfter(ackTimeoutFor(this.options, m.deliveries));
    return {
      data: m.data,
      messageId: m.messageId,
      seq: m.seq,
      deliveryCount: m.deliveries,
      ack: async () => {
        if (!current()) return;
        if (m.timer) clearTimeout(m.timer);
        this.stored.delete(m.seq);
      },
      nak: (delayMs) => {
        if (!current()) return;
        m.lease++;
        m.leasedBy = null;
        if (m.timer) clearTimeout(m.timer);
        m.timer = setTimeout(() => {
          m.timer = null;
          this.ready.push(m);
          this.dispatch();
        }, delayMs);
        m.timer.unref();
      },
      working: () => {
        if (current()) expireAfter(ackTimeoutFor(this.options, m.deliveries));
      },
    };
  }
}

interface EventSub {
  bus: InProcessBus;
  matches(subject: string): boolean;
  deliver(subject: string, data: Uint8Array, messageId: string | null): void;
}

export class InProcessBroker {
  private seq = 0;
  private readonly queues = new Map<CommandName, CommandQueue>();
  private readonly seen = new Map<string, number>();
  readonly subscriptions = new Set<EventSub>();
  /** The latest dead letters (the in-process bus has no durable dead-letter store). */
  readonly deadLetters: DeadLetter[] = [];
  private readonly duplicateWindowMs: number;

  constructor(options: InProcessBrokerOptions = {}) {
    this.duplicateWindowMs = options.duplicateWindowMs ?? 3_600_000;
  }

  /** A new connection; give each worker its own to model separate processes. */
  connect(options: InProcessBusOptions = {}): InProcessBus {
    return new InProcessBus(this, options);
  }

  queue(command: CommandName): CommandQueue {
    let q = this.queues.get(command);
    if (!q) {
      q = new CommandQueue(command);
      this.queues.set(command, q);
    }
    return q;
  }

  /** Stores a command unless its id was seen within the window. Returns false for a duplicate. */
  enqueue(command: CommandName, data: Uint8Array, messageId: string | null): boolean {
    const now = Date.now();
    if (messageId !== null) {
      for (const [id, expires] of this.seen) if (expires <= now) this.seen.delete(id);
      if (this.seen.has(messageId)) return false;
      this.seen.set(messageId, now + this.duplicateWindowMs);
    }
    const q = this.queue(command);
    const m: Stored = { seq: ++this.seq, data, messageId, deliveries: 0, lease: 0, leasedBy: null, timer: null };
    q.stored.set(m.seq, m);
    q.ready.push(m);
    q.dispatch();
    return true;
  }

  /** Fans a message out to every live subscription whose pattern matches. */
  broadcast(subject: string, data: Uint8Array, messageId: string | null): void {
    for (const sub of this.subscriptions) if (!sub.bus.closed && sub.matches(subject)) sub.deliver(subject, data, messageId);
  }

  /** Keeps the latest dead letters for inspection and tells subscribers. */
  recordDeadLetter(command: CommandName, deadLetter: DeadLetter): void {
    this.deadLetters.push(deadLetter);
    if (this.deadLetters.length > MAX_KEPT_DEAD_LETTERS) this.deadLetters.shift();
    this.broadcast(deadLetterSubject(command), new TextEncoder().encode(JSON.stringify(deadLetter)), null);
  }

  /** Ends the pending pulls of a dropped connection. */
  dropWaiters(bus: InProcessBus): void {
    for (const q of this.queues.values()) {
      for (const w of q.waiters) if (w.bus === bus) w.resolve(null);
      q.waiters = q.waiters.filter((w) => w.bus !== bus);
    }
  }

  /** Raw publish that skips validation, for tests of malformed input. */
  injectCommand(command: CommandName, data: Uint8Array | string, messageId: string | null = null): void {
    this.enqueue(command, typeof data === 'string' ? new TextEncoder().encode(data) : data, messageId);
  }
}

export interface InProcessBusOptions {
  logger?: BusLogger;
  metrics?: Registry;
}

/** A serial queue per subscription: handlers see messages one at a time, in order. */
function serialSubscription(bus: InProcessBus, pattern: string, handle: (subject: string, data: Uint8Array, messageId: string | null) => Promise<void>): EventSub & { idle(): Promise<void> } {
  let chain = Promise.resolve();
  return {
    bus,
    matches: (subject) => subjectMatches(pattern, subject),
    deliver(subject, data, messageId) {
      chain = chain.then(() => handle(subject, data, messageId));
    },
    idle: () => chain,
  };
}

export class InProcessBus implements EventBus {
  readonly driver = 'in-process' as const;
  closed = false;
  private readonly logger: BusLogger;
  private readonly metrics: BusMetrics;
  private readonly consumers = new Set<CommandConsumer>();
  private readonly subs = new Set<EventSub & { idle(): Promise<void> }>();

  constructor(
    readonly broker: InProcessBroker,
    options: InProcessBusOptions = {},
  ) {
    this.logger = options.logger ?? silentLogger;
    this.metrics = busMetrics(options.metrics);
  }

  private assertOpen(): void {
    if (this.closed) throw new S2gError(ErrorCode.UNAVAILABLE, 'The bus connection is closed');
  }

  async publishCommand<N extends CommandName>(name: N, payload: PayloadInput<N>, options: { messageId?: string } = {}): Promise<PublishResult> {
    this.assertOpen();
    const m = encodeMessage(name, payload);
    const messageId = options.messageId ?? m.messageId;
    const stored = this.broker.enqueue(name, m.data, messageId);
    if (stored) this.metrics.published('command', name);
    return { messageId, duplicate: !stored };
  }

  async consumeCommands<N extends CommandName>(name: N, group: string, handler: CommandHandler<N>, options?: ConsumeOptions): Promise<CommandConsumer> {
    this.assertOpen();
    assertToken('Consumer group', group);
    const resolved = resolveConsumeOptions(options);
    const q = this.broker.queue(name);
    if (q.group !== null && q.group !== group) {
      throw new S2gError(ErrorCode.HANDLER_CONFLICT, `${name} is already handled by consumer group "${q.group}"; a command has one group`, { command: name, group: q.group });
    }
    q.group = group;
    q.options = { ackWaitMs: resolved.ackWaitMs, backoffMs: resolved.backoffMs };

    const source: DeliverySource = {
      isClosed: () => this.closed,
      next: (signal) =>
        new Promise<Delivery | null>((resolve) => {
          if (signal.aborted || this.closed) return resolve(null);
          const onAbort = (): void => {
            q.waiters = q.waiters.filter((w) => w !== waiter);
            resolve(null);
          };
          const waiter: Waiter = {
            bus: this,
            resolve: (d) => {
              signal.removeEventListener('abort', onAbort);
              resolve(d);
            },
          };
          signal.addEventListener('abort', onAbort, { once: true });
          q.waiters.push(waiter);
          q.dispatch();
        }),
    };
    const consumer: CommandConsumer = new CommandConsumerLoop({
      command: name,
      group,
      handler,
      options: resolved,
      source,
      storeDeadLetter: async (deadLetter) => this.broker.recordDeadLetter(name, deadLetter),
      logger: this.logger,
      metrics: this.metrics,
      onStopped: (): void => void this.consumers.delete(consumer),
    }).start();
    this.consumers.add(consumer);
    return consumer;
  }

  async publishEvent<N extends EventName>(name: N, payload: PayloadInput<N>): Promise<void> {
    this.assertOpen();
    const m = encodeMessage(name, payload);
    this.broker.broadcast(name, m.data, m.messageId);
    this.metrics.published('event', name);
  }

  async subscribeEvents<S extends EventSelector>(selector: S, handler: HandlerFor<S>): Promise<Subscription> {
    this.assertOpen();
    const exact = isEventName(selector);
    return this.subscribe(selector, async (subject, data, messageId) => {
      if (!isEventName(subject)) return;
      let payload: Payload<EventName>;
      try {
        payload = parseMessage(subject, data);
      } catch (e) {
        this.logger.warn({ subject, err: describeError(e) }, 'invalid event skipped');
        return;
      }
      const meta: EventMeta = { name: subject, messageId };
      if (exact) await (handler as (p: unknown, m: EventMeta) => unknown)(payload, meta);
      else await (handler as (e: AnyEvent, m: EventMeta) => unknown)({ name: subject, payload } as AnyEvent, meta);
    });
  }

  async subscribeDeadLetters(handler: DeadLetterHandler, command?: CommandName): Promise<Subscription> {
    this.assertOpen();
    const pattern = command ? deadLetterSubject(command) : `${DEAD_LETTER_PREFIX}>`;
    return this.subscribe(pattern, async (_subject, data) => {
      await handler(deadLetterSchema.parse(JSON.parse(new TextDecoder().decode(data))) as DeadLetter);
    });
  }

  private subscribe(pattern: string, handle: (subject: string, data: Uint8Array, messageId: string | null) => Promise<void>): Subscription {
    const sub = serialSubscription(this, pattern, async (subject, data, messageId) => {
      try {
        await handle(subject, data, messageId);
      } catch (e) {
        this.logger.error({ subject, err: describeError(e) }, 'event handler failed');
      }
    });
    this.broker.subscriptions.add(sub);
    this.subs.add(sub);
    return {
      unsubscribe: async () => {
        this.broker.subscriptions.delete(sub);
        this.subs.delete(sub);
        await sub.idle();
      },
    };
  }

  async ping(): Promise<void> {
    this.assertOpen();
  }

  async close(options: StopOptions = {}): Promise<void> {
    if (this.closed) return;
    await Promise.all([...this.consumers].map((c) => c.stop(options)));
    for (const s of this.subs) this.broker.subscriptions.delete(s);
    await Promise.all([...this.subs].map((s) => s.idle()));
    this.subs.clear();
    this.closed = true;
    this.broker.dropWaiters(this);
  }

  /**
   * Drops the connection like a crashed process: nothing is acknowledged or released, so in-flight
   * commands come back after their ack wait. For tests and failure drills.
   */
  kill(): void {
    this.closed = true;
    this.broker.dropWaiters(this);
    for (const s of this.subs) this.broker.subscriptions.delete(s);
    this.subs.clear();
  }
}

/** A bus on a broker of its own (the embedded mode's single process). */
export function createInProcessBus(options: InProcessBrokerOptions & InProcessBusOptions = {}): InProcessBus {
  return new InProcessBroker(options).connect(options);
}
