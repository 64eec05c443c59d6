/**
 * NATS JetStream driver (nats.js v3; works against nats-server 2.9+).
 *
 * - Commands: one work-queue stream; a message stays until a worker acknowledges it, and the stream's
 *   duplicate window drops re-sent ids (`Nats-Msg-Id`). Each consumer group is a durable pull consumer
 *   with explicit acks; the server redelivers after the ack wait, stretched per delivery by `backoff`.
 * - Events: published on plain subjects, so every subscriber gets each one. All but progress events
 *   are also stored in an events stream (publishing waits for it), as a record for late readers.
 * - Dead letters: a stream of their own, kept for 30 days by default.
 */
import {
  type AnyEvent,
  COMMAND_NAMES,
  type CommandName,
  type DeadLetter,
  deadLetterSchema,
  describeError,
  encodeMessage,
  ErrorCode,
  EVENT_NAMES,
  type EventName,
  isEventName,
  isTransientEvent,
  parseMessage,
  type Payload,
  type PayloadInput,
  S2gError,
} from '@s2g/contracts';
import {
  AckPolicy,
  type ConsumerConfig,
  DeliverPolicy,
  type JetStreamClient,
  JetStreamApiError,
  type JetStreamManager,
  jetstream,
  jetstreamManager,
  type JsMsg,
  RetentionPolicy,
  type StreamConfig,
  StorageType,
} from '@nats-io/jetstream';
import { connect, headers, type NatsConnection, type Subscription as NatsSubscription } from '@nats-io/transport-node';
import type { Registry } from 'prom-client';
import { ackTimeoutFor, CommandConsumerLoop, type Delivery, type DeliverySource, type ResolvedConsumeOptions, resolveConsumeOptions } from './consumer';
import { busMetrics, type BusMetrics } from './metrics';
import { BusNames } from './names';
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

export interface NatsBusOptions {
  /** One or more server URLs (`nats://host:4222`). */
  servers: string | string[];
  /** Connection name shown by the server (the service name). */
  name?: string;
  /** Prefixes every subject and stream name; isolates deployments or test runs on one server. */
  namespace?: string;
  /** How long re-sent message ids are recognised. Default 1 h. */
  duplicateWindowMs?: number;
  /** How long stored events are kept. Default 7 days. */
  eventsMaxAgeMs?: number;
  /** How long dead letters are kept. Default 30 days. */
  deadLetterMaxAgeMs?: number;
  /** Stream replicas (clustered servers only). Default 1. */
  replicas?: number;
  /** How long one pull waits for a command before asking again (>= 1000). Default 5 s. */
  pullExpiresMs?: number;
  /** How long to wait for the first connection. Default 10 s. */
  connectTimeoutMs?: number;
  logger?: BusLogger;
  metrics?: Registry;
}

const ms = (n: number): number => Math.round(n * 1_000_000);
const MSG_ID = 'Nats-Msg-Id';
/**
 * Deliveries the server allows beyond `maxDeliver`: they only run the dead-letter path, so a failed
 * dead-letter write is retried, while a poison message still cannot loop forever.
 */
const DEAD_LETTER_RETRIES = 5;
const API_CONSUMER_NOT_UNIQUE = 10100;
const API_STREAM_NAME_IN_USE = 10058;

function unavailable(what: string, e: unknown): S2gError {
  return new S2gError(ErrorCode.UNAVAILABLE, `${what}: ${describeError(e).message}`, undefined, { cause: e });
}

export class NatsBus implements EventBus {
  readonly driver = 'nats' as const;
  readonly names: BusNames;
  private readonly logger: BusLogger;
  private readonly metrics: BusMetrics;
  private readonly consumers = new Set<CommandConsumer>();
  private readonly subs = new Set<{ sub: NatsSubscription; done: Promise<void> }>();
  private closing: Promise<void> | null = null;

  private constructor(
    /** The underlying connection (for diagnostics and failure drills). */
    readonly connection: NatsConnection,
    private readonly js: JetStreamClient,
    private readonly jsm: JetStreamManager,
    private readonly options: NatsBusOptions,
  ) {
    this.names = new BusNames(options.namespace);
    this.logger = options.logger ?? silentLogger;
    this.metrics = busMetrics(options.metrics);
  }

  /** Connects and creates (or updates) the streams; safe to run from every service at once. */
  static async connect(options: NatsBusOptions): Promise<NatsBus> {
    let nc: NatsConnection;
    try {
      nc = await connect({
        servers: options.servers,
        name: options.name,
        timeout: options.connectTimeoutMs ?? 10_000,
        // A service outlives NATS restarts: keep reconnecting, and let readiness report the outage.
        maxReconnectAttempts: -1,
      });
    } catch (e) {
      throw unavailable(`Cannot connect to NATS at ${String(options.servers)}`, e);
    }
    try {
      const jsm = await jetstreamManager(nc);
      const bus = new NatsBus(nc, jetstream(nc), jsm, options);
      await bus.ensureStreams();
      return bus;
    } catch (e) {
      await nc.close();
      throw e instanceof S2gError ? e : unavailable('JetStream is not usable (is the server started with -js?)', e);
    }
  }

  private async ensureStream(config: Partial<StreamConfig> & { name: string }): Promise<void> {
    try {
      await this.jsm.streams.add(config);
    } catch (e) {
      if (!(e instanceof JetStreamApiError && e.code === API_STREAM_NAME_IN_USE)) throw e;
      // Exists with another configuration (e.g. a command was added): bring it up to date.
      await this.jsm.streams.update(config.name, config);
    }
  }

  private async ensureStreams(): Promise<void> {
    const n = this.names;
    const o = this.options;
    const replicas = o.replicas ?? 1;
    await this.ensureStream({
      name: n.stream('COMMANDS'),
      description: 's2g commands: work queues, one consumer group per command',
      subjects: COMMAND_NAMES.map((c) => n.subject(c)),
      retention: RetentionPolicy.Workqueue,
      storage: StorageType.File,
      duplicate_window: ms(o.duplicateWindowMs ?? 3_600_000),
      num_replicas: replicas,
    });
    await this.ensureStream({
      name: n.stream('EVENTS'),
      description: 's2g events (progress excluded)',
      subjects: EVENT_NAMES.filter((e) => !isTransientEvent(e)).map((e) => n.subject(e)),
      retention: RetentionPolicy.Limits,
      storage: StorageType.File,
      max_age: ms(o.eventsMaxAgeMs ?? 7 * 86_400_000),
      duplicate_window: ms(120_000),
      num_replicas: replicas,
    });
    await this.ensureStream({
      name: n.stream('DLQ'),
      description: 's2g dead letters: commands given up on, with the reason',
      subjects: [n.deadLetterSubject()],
      retention: RetentionPolicy.Limits,
      storage: StorageType.File,
      max_age: ms(o.deadLetterMaxAgeMs ?? 30 * 86_400_000),
      duplicate_window: ms(120_000),
      num_replicas: replicas,
    });
  }

  async publishCommand<N extends CommandName>(name: N, payload: PayloadInput<N>, options: { messageId?: string } = {}): Promise<PublishResult> {
    const m = encodeMessage(name, payload);
    const messageId = options.messageId ?? m.messageId;
    try {
      const ack = await this.js.publish(this.names.subject(name), m.data, { msgID: messageId });
      if (!ack.duplicate) this.metrics.published('command', name);
      return { messageId, duplicate: ack.duplicate };
    } catch (e) {
      throw unavailable(`Publishing ${name} failed`, e);
    }
  }

  private async ensureConsumer(command: CommandName, group: string, o: ResolvedConsumeOptions): Promise<string> {
    const stream = this.names.stream('COMMANDS');
    const durable = this.names.consumer(group, command);
    // The server's backoff is the ack timeout of each delivery (see ackTimeoutFor), capped to what it accepts.
    const timeouts = o.backoffMs.slice(0, o.maxDeliver).map((_, i) => ms(ackTimeoutFor(o, i + 1)));
    const config: Partial<ConsumerConfig> = {
      durable_name: durable,
      description: `${group} workers of ${command}`,
      filter_subject: this.names.subject(command),
      deliver_policy: DeliverPolicy.All,
      ack_policy: AckPolicy.Explicit,
      ack_wait: ms(o.ackWaitMs),
      max_deliver: o.maxDeliver + DEAD_LETTER_RETRIES,
      ...(timeouts.length > 0 ? { backoff: timeouts } : {}),
    };
    try {
      const info = await this.jsm.consumers.add(stream, config);
      const c = info.config;
      if (c.max_deliver !== config.max_deliver || JSON.stringify(c.backoff ?? []) !== JSON.stringify(config.backoff ?? []) || (!config.backoff && c.ack_wait !== config.ack_wait)) {
        await this.jsm.consumers.update(stream, durable, { ack_wait: config.ack_wait, max_deliver: config.max_deliver, backoff: config.backoff ?? [], description: config.description });
      }
    } catch (e) {
      if (e instanceof JetStreamApiError && e.code === API_CONSUMER_NOT_UNIQUE) {
        throw new S2gError(ErrorCode.HANDLER_CONFLICT, `${command} is already handled by another consumer group on stream ${stream}; a command has one group`, { command, group });
      }
      throw unavailable(`Creating consumer ${durable}`, e);
    }
    return durable;
  }

  async consumeCommands<N extends CommandName>(name: N, group: string, handler: CommandHandler<N>, options?: ConsumeOptions): Promise<CommandConsumer> {
    const resolved = resolveConsumeOptions(options);
    const durable = await this.ensureConsumer(name, group, resolved);
    const consumer = await this.js.consumers.get(this.names.stream('COMMANDS'), durable);
    const expires = Math.max(1000, this.options.pullExpiresMs ?? 5000);
    const source: DeliverySource = {
      isClosed: () => this.connection.isClosed(),
      next: async () => {
        const m = await consumer.next({ expires });
        return m ? this.delivery(m) : null;
      },
    };
    const loop: CommandConsumer = new CommandConsumerLoop({
      command: name,
      group,
      handler,
      options: resolved,
      source,
      storeDeadLetter: (deadLetter, d) => this.storeDeadLetter(name, deadLetter, d),
      logger: this.logger,
      metrics: this.metrics,
      onStopped: (): void => void this.consumers.delete(loop),
    }).start();
    this.consumers.add(loop);
    return loop;
  }

  private delivery(m: JsMsg): Delivery {
    const guard = (what: string, fn: () => void): void => {
      try {
        fn();
      } catch (e) {
        // The connection is gone: the server redelivers after the ack wait.
        this.logger.debug({ subject: m.subject, err: describeError(e) }, `${what} not sent`);
      }
    };
    return {
      data: m.data,
      messageId: m.headers?.get(MSG_ID) || null,
      seq: m.seq,
      deliveryCount: m.info.deliveryCount,
      ack: async () => {
        try {
          await m.ackAck({ timeout: 5000 });
        } catch (e) {
          this.logger.warn({ subject: m.subject, seq: m.seq, err: describeError(e) }, 'ack not confirmed; the command may be redelivered');
        }
      },
      nak: (delayMs) => guard('nak', () => m.nak(delayMs)),
      working: () => guard('heartbeat', () => m.working()),
    };
  }

  private async storeDeadLetter(command: CommandName, deadLetter: DeadLetter, d: Delivery): Promise<void> {
    const data = new TextEncoder().encode(JSON.stringify(deadLetter));
    // Re-dead-lettering the same delivery (after a failed onDeadLetter) is dropped as a duplicate.
    const id = `dlq:${deadLetter.consumerGroup}:${d.messageId ?? `seq-${d.seq}`}`;
    await this.js.publish(this.names.deadLetterSubject(command), data, { msgID: id });
  }

  async publishEvent<N extends EventName>(name: N, payload: PayloadInput<N>): Promise<void> {
    const m = encodeMessage(name, payload);
    const subject = this.names.subject(name);
    try {
      if (isTransientEvent(name)) {
        const h = headers();
        h.set(MSG_ID, m.messageId);
        this.connection.publish(subject, m.data, { headers: h });
      } else {
        await this.js.publish(subject, m.data, { msgID: m.messageId });
      }
    } catch (e) {
      throw unavailable(`Publishing ${name} failed`, e);
    }
    this.metrics.published('event', name);
  }

  async subscribeEvents<S extends EventSelector>(selector: S, handler: HandlerFor<S>): Promise<Subscription> {
    const exact = isEventName(selector);
    return this.subscribe(this.names.subject(selector), async (m) => {
      const name = this.names.name(m.subject);
      // Patterns also match commands and dead letters on the same subjects tree: only events pass.
      if (name === null || !isEventName(name)) return;
      let payload: Payload<EventName>;
      try {
        payload = parseMessage(name, m.data);
      } catch (e) {
        this.logger.warn({ subject: m.subject, err: describeError(e) }, 'invalid event skipped');
        return;
      }
      const meta: EventMeta = { name, messageId: m.headers?.get(MSG_ID) || null };
      if (exact) await (handler as (p: unknown, meta: EventMeta) => unknown)(payload, meta);
      else await (handler as (e: AnyEvent, meta: EventMeta) => unknown)({ name, payload } as AnyEvent, meta);
    });
  }

  async subscribeDeadLetters(handler: DeadLetterHandler, command?: CommandName): Promise<Subscription> {
    return this.subscribe(this.names.deadLetterSubject(command), async (m) => {
      await handler(deadLetterSchema.parse(JSON.parse(new TextDecoder().decode(m.data))));
    });
  }

  private async subscribe(subject: string, handle: (m: { subject: string; data: Uint8Array; headers?: { get(k: string): string } }) => Promise<void>): Promise<Subscription> {
    const sub = this.connection.subscribe(subject);
    const done = (async () => {
      for await (const m of sub) {
        try {
          await handle(m);
        } catch (e) {
          this.logger.error({ subject: m.subject, err: describeError(e) }, 'event handler failed');
        }
      }
    })();
    const entry = { sub, done };
    this.subs.add(entry);
    // The subscription is live on the server once this returns: no event published afterwards is missed.
    await this.connection.flush();
    return {
      unsubscribe: async () => {
        this.subs.delete(entry);
        sub.unsubscribe();
        await done;
      },
    };
  }

  async ping(): Promise<void> {
    try {
      await this.jsm.streams.info(this.names.stream('COMMANDS'));
    } catch (e) {
      throw unavailable('NATS JetStream is not reachable', e);
    }
  }

  close(options: StopOptions = {}): Promise<void> {
    this.closing ??= (async () => {
      await Promise.all([...this.consumers].map((c) => c.stop(options)));
      for (const { sub } of this.subs) sub.unsubscribe();
      await Promise.all([...this.subs].map((s) => s.done));
      this.subs.clear();
      if (this.connection.isClosed()) return;
      // Acks and releases written by the consumers must reach the server before the socket closes.
      await this.connection.flush().catch(() => undefined);
      await this.connection.close();
    })();
    return this.closing;
  }

  /**
   * Drops the connection like a crashed process: nothing is acknowledged or released, so in-flight
   * commands come back after their ack wait. For tests and failure drills.
   */
  async kill(): Promise<void> {
    await this.connection.close();
  }
}
