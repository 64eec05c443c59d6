/**
 * The worker loop both drivers share, so retry, dead-letter and shutdown behave identically; a driver
 * only supplies deliveries (pull, ack, nak, heartbeat) and a way to store dead letters.
 */
import { type CommandName, type DeadLetter, describeError, ErrorCode, isS2gError, type MessageIssue, parseMessage } from '@s2g/contracts';
import type { BusMetrics } from './metrics';
import { type BusLogger, type CommandConsumer, type CommandHandler, CONSUME_DEFAULTS, type ConsumeOptions, type StopOptions } from './port';

/** One delivery of a stored command, as a driver hands it over. */
export interface Delivery {
  readonly data: Uint8Array;
  readonly messageId: string | null;
  /** Position in the driver's store; identifies messages without an id. */
  readonly seq: number;
  /** 1 on the first delivery. */
  readonly deliveryCount: number;
  /** Resolves once the bus has recorded the acknowledgement. Never throws: a lost ack only means a redelivery. */
  ack(): Promise<void>;
  /** Asks for redelivery after `delayMs`. Never throws. */
  nak(delayMs: number): void;
  /** Tells the bus the handler is still working (resets the ack wait). Never throws. */
  working(): void;
}

export interface DeliverySource {
  /** Waits for the next delivery; null when the driver's wait ended empty or `signal` was aborted. */
  next(signal: AbortSignal): Promise<Delivery | null>;
  /** True once the underlying connection is gone: the loop stops pulling. */
  isClosed(): boolean;
}

export type ResolvedConsumeOptions = Required<Omit<ConsumeOptions, 'onDeadLetter'>> & Pick<ConsumeOptions, 'onDeadLetter'>;

export function resolveConsumeOptions(options: ConsumeOptions = {}): ResolvedConsumeOptions {
  const o = { ...CONSUME_DEFAULTS, ...options };
  if (!Number.isInteger(o.maxDeliver) || o.maxDeliver < 1) throw new RangeError('maxDeliver must be an integer >= 1');
  if (!Number.isInteger(o.concurrency) || o.concurrency < 1) throw new RangeError('concurrency must be an integer >= 1');
  if (!(o.ackWaitMs >= 100)) throw new RangeError('ackWaitMs must be at least 100');
  if (o.backoffMs.some((b) => !(b >= 0))) throw new RangeError('backoffMs values must be >= 0');
  return o;
}

/** Delay before redelivery after the n-th delivery failed (the last value repeats). */
export function backoffFor(backoffMs: readonly number[], deliveryCount: number): number {
  if (backoffMs.length === 0) return 0;
  return backoffMs[Math.min(deliveryCount, backoffMs.length) - 1];
}

/**
 * How long the n-th delivery may stay silent before it counts as lost: the ack wait plus the backoff
 * a failure would have had, so a dead worker's command comes back on the same schedule as a failed one.
 */
export function ackTimeoutFor(options: Pick<ResolvedConsumeOptions, 'ackWaitMs' | 'backoffMs'>, deliveryCount: number): number {
  return options.ackWaitMs + backoffFor(options.backoffMs, deliveryCount);
}

export interface ConsumerDeps<N extends CommandName> {
  command: N;
  group: string;
  handler: CommandHandler<N>;
  options: ResolvedConsumeOptions;
  source: DeliverySource;
  /** Stores a dead letter durably (resolves once stored). */
  storeDeadLetter(deadLetter: DeadLetter, delivery: Delivery): Promise<void>;
  logger: BusLogger;
  metrics: BusMetrics;
  /** Called once the consumer has stopped (the bus forgets it). */
  onStopped?(): void;
}

const decoder = new TextDecoder();
const DEFAULT_STOP_TIMEOUT_MS = 10_000;
const PULL_RETRY_MS = 1_000;

/** A delivery that can be settled once: later acks or naks (e.g. from a handler that outlived shutdown) are ignored. */
class SettleOnce {
  private settled = false;
  constructor(readonly delivery: Delivery) {}

  get done(): boolean {
    return this.settled;
  }

  /** False when the delivery was already settled (released at shutdown while the handler ran on). */
  async ack(): Promise<boolean> {
    if (this.settled) return false;
    this.settled = true;
    await this.delivery.ack();
    return true;
  }

  nak(delayMs: number): void {
    if (this.settled) return;
    this.settled = true;
    this.delivery.nak(delayMs);
  }
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

export class CommandConsumerLoop<N extends CommandName> implements CommandConsumer {
  readonly command: N;
  readonly group: string;
  private stopping = false;
  private stopped: Promise<void> | null = null;
  private readonly pulling = new AbortController();
  private readonly shutdown = new AbortController();
  private readonly inFlight = new Map<SettleOnce, Promise<void>>();

  constructor(private readonly deps: ConsumerDeps<N>) {
    this.command = deps.command;
    this.group = deps.group;
  }

  start(): this {
    for (let i = 0; i < this.deps.options.concurrency; i++) {
      this.loop().catch((e: unknown) => this.deps.logger.error({ command: this.command, group: this.group, err: describeError(e) }, 'consumer loop crashed'));
    }
    return this;
  }

  stop(options: StopOptions = {}): Promise<void> {
    this.stopped ??= this.doStop(options.timeoutMs ?? DEFAULT_STOP_TIMEOUT_MS);
    return this.stopped;
  }

  private async doStop(timeoutMs: number): Promise<void> {
    this.stopping = true;
    this.pulling.abort();
    this.shutdown.abort();
    const deadline = new AbortController();
    const finished = await Promise.race([Promise.allSettled(this.inFlight.values()).then(() => true), sleep(timeoutMs, deadline.signal).then(() => false)]);
    deadline.abort();
    if (!finished) {
      // Handlers still running get their commands back to the bus now, for another worker.
      for (const settle of this.inFlight.keys()) {
        if (settle.done) continue;
        settle.nak(0);
        this.deps.metrics.handled(this.command, this.group, 'released', 0);
      }
      this.deps.logger.warn({ command: this.command, group: this.group, released: this.inFlight.size }, 'stop timed out: in-flight commands released for redelivery');
    }
    this.deps.onStopped?.();
  }

  private async loop(): Promise<void> {
    const { source, logger } = this.deps;
    while (!this.stopping && !source.isClosed()) {
      let delivery: Delivery | null;
      try {
        delivery = await source.next(this.pulling.signal);
      } catch (e) {
        if (this.stopping || source.isClosed()) break;
        logger.warn({ command: this.command, group: this.group, err: describeError(e) }, 'pulling commands failed; retrying');
        await sleep(PULL_RETRY_MS, this.pulling.signal);
        continue;
      }
      if (!delivery) continue;
      if (this.stopping) {
        // Arrived while stopping: hand it straight back.
        delivery.nak(0);
        break;
      }
      const settle = new SettleOnce(delivery);
      const work = this.process(settle);
      this.inFlight.set(settle, work);
      await work;
      this.inFlight.delete(settle);
    }
  }

  private async process(settle: SettleOnce): Promise<void> {
    const { options, logger, metrics } = this.deps;
    const d = settle.delivery;
    const log = { command: this.command, group: this.group, messageId: d.messageId, delivery: d.deliveryCount };
    const started = performance.now();
    const seconds = (): number => (performance.now() - started) / 1000;

    let payload;
    try {
      payload = parseMessage(this.command, d.data);
    } catch (e) {
      const issues = isS2gError(e) ? (e.details?.issues as MessageIssue[] | undefined) : undefined;
      await this.deadLetter(settle, { ...describeError(e), ...(issues ? { issues } : {}) });
      return;
    }
    if (d.deliveryCount > options.maxDeliver) {
      // Earlier deliveries never settled (workers crashed or were stopped): give up rather than loop.
      await this.deadLetter(settle, {
        code: ErrorCode.DELIVERY_EXHAUSTED,
        message: `delivered ${d.deliveryCount} times (maxDeliver ${options.maxDeliver}) without completing`,
      });
      return;
    }

    const heartbeat = setInterval(() => d.working(), Math.max(50, Math.floor(options.ackWaitMs / 3)));
    let failure: { error: unknown } | null = null;
    try {
      await this.deps.handler(payload, {
        command: this.command,
        group: this.group,
        messageId: d.messageId,
        deliveryCount: d.deliveryCount,
        maxDeliver: options.maxDeliver,
        signal: this.shutdown.signal,
      });
    } catch (error) {
      failure = { error };
    } finally {
      clearInterval(heartbeat);
    }

    if (!failure) {
      if (await settle.ack()) {
        metrics.handled(this.command, this.group, 'acked', seconds());
        logger.debug(log, 'command handled');
      }
      return;
    }
    // Already released at shutdown while the handler ran on: nothing left to settle.
    if (settle.done) return;
    const reason = describeError(failure.error);
    if (this.stopping) {
      // Interrupted by shutdown: not the command's fault, so no backoff and no dead letter.
      settle.nak(0);
      metrics.handled(this.command, this.group, 'released', seconds());
      logger.info({ ...log, reason }, 'command released at shutdown');
    } else if (d.deliveryCount >= options.maxDeliver) {
      await this.deadLetter(settle, reason);
    } else {
      const delay = backoffFor(options.backoffMs, d.deliveryCount);
      settle.nak(delay);
      metrics.handled(this.command, this.group, 'retried', seconds());
      logger.warn({ ...log, reason, retryInMs: delay }, 'command failed; will retry');
    }
  }

  private async deadLetter(settle: SettleOnce, reason: DeadLetter['reason']): Promise<void> {
    const { options, logger, metrics } = this.deps;
    const d = settle.delivery;
    const deadLetter: DeadLetter = {
      schemaVersion: 1,
      command: this.command,
      consumerGroup: this.group,
      messageId: d.messageId,
      deliveries: d.deliveryCount,
      reason,
      data: decoder.decode(d.data),
      at: new Date().toISOString(),
    };
    try {
      await this.deps.storeDeadLetter(deadLetter, d);
      await options.onDeadLetter?.(deadLetter);
      await settle.ack();
      metrics.handled(this.command, this.group, 'dead_lettered', 0);
      logger.error({ command: this.command, group: this.group, messageId: d.messageId, deliveries: d.deliveryCount, reason }, 'command dead-lettered');
    } catch (e) {
      // Keep the command until its dead letter (and failed record) are written.
      settle.nak(backoffFor(options.backoffMs, d.deliveryCount));
      logger.error({ command: this.command, group: this.group, messageId: d.messageId, err: describeError(e) }, 'dead-lettering failed; will retry');
    }
  }
}
