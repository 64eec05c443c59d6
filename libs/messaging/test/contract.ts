/**
 * The event-bus contract: one suite, run against every driver (see *.spec.ts beside this file).
 * Timings are short (ack wait 1 s, backoff 50/100 ms) so the suite stays fast on a real server.
 */
import { type CommandName, type DeadLetter, ErrorCode, type Payload, S2gError } from '@s2g/contracts';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AnyEventHandler, CommandContext, ConsumeOptions, EventBus } from '../src';

export interface BusHarness {
  /** A new connection to the bus in this test's namespace, like one more worker process. */
  connect(): Promise<EventBus>;
  /** The process owning `bus` dies: no ack, no release, no goodbye. */
  kill(bus: EventBus): Promise<void>;
  /** Puts bytes on a command's queue without validation (a buggy or foreign publisher). */
  injectRaw(command: CommandName, data: string): Promise<void>;
  /** Removes what the test left on the bus. */
  cleanup(): Promise<void>;
}

const ACK_WAIT_MS = 1000;
const FAST: ConsumeOptions = { ackWaitMs: ACK_WAIT_MS, backoffMs: [50, 100] };
const GROUP = 'renderer';
const CMD = 's2g.render.requested';

type Render = Payload<typeof CMD>;

function render(id: string): { renderId: string; resultId: string } {
  return { renderId: id, resultId: `result-${id}` };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function waitFor(what: string, predicate: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(10);
  }
}

function gate(): { promise: Promise<void>; open(): void } {
  let open!: () => void;
  const promise = new Promise<void>((r) => (open = r));
  return { promise, open };
}

export function eventBusContract(driver: string, createHarness: () => Promise<BusHarness>): void {
  describe(`event bus contract: ${driver}`, () => {
    let harness: BusHarness;
    const buses: EventBus[] = [];
    const gates: { open(): void }[] = [];

    async function worker(): Promise<EventBus> {
      const bus = await harness.connect();
      buses.push(bus);
      return bus;
    }

    /** A handler that blocks until the test ends (or is opened). */
    function blocker(): { promise: Promise<void>; open(): void } {
      const g = gate();
      gates.push(g);
      return g;
    }

    beforeEach(async () => {
      harness = await createHarness();
    });

    afterEach(async () => {
      for (const g of gates.splice(0)) g.open();
      await Promise.all(buses.splice(0).map((b) => b.close({ timeoutMs: 100 }).catch(() => undefined)));
      await harness.cleanup();
    });

    it('handles each command once per consumer group, with two competing workers', async () => {
      const [w1, w2, publisher] = [await worker(), await worker(), await worker()];
      const handled: { worker: string; id: string }[] = [];
      const handler = (name: string) => async (p: Render) => {
        await sleep(15);
        handled.push({ worker: name, id: p.renderId });
      };
      await w1.consumeCommands(CMD, GROUP, handler('w1'), { ...FAST, concurrency: 2 });
      await w2.consumeCommands(CMD, GROUP, handler('w2'), { ...FAST, concurrency: 2 });
      const ids = Array.from({ length: 24 }, (_, i) => `r${i}`);
      for (const id of ids) await publisher.publishCommand(CMD, render(id));

      await waitFor('all commands handled', () => handled.length >= ids.length);
      await sleep(300);
      expect(handled.map((h) => h.id).sort()).toEqual([...ids].sort());
      expect(handled.filter((h) => h.worker === 'w1').length).toBeGreaterThan(0);
      expect(handled.filter((h) => h.worker === 'w2').length).toBeGreaterThan(0);
    });

    it('keeps commands published before any worker exists', async () => {
      const publisher = await worker();
      await publisher.publishCommand(CMD, render('early'));
      const seen: string[] = [];
      await (await worker()).consumeCommands(CMD, GROUP, (p) => void seen.push(p.renderId), FAST);
      await waitFor('the early command', () => seen.length === 1);
      expect(seen).toEqual(['early']);
    });

    it('queues a re-sent command (same message id) once', async () => {
      const bus = await worker();
      const first = await bus.publishCommand(CMD, { ...render('dup'), requestedAt: '2025-01-01T00:00:00Z' });
      const again = await bus.publishCommand(CMD, { ...render('dup'), requestedAt: '2025-01-01T00:05:00Z' });
      const explicit = await bus.publishCommand(CMD, render('other'), { messageId: first.messageId });
      expect(first).toEqual({ messageId: 's2g.render.requested:dup', duplicate: false });
      expect(again.duplicate).toBe(true);
      expect(explicit.duplicate).toBe(true);

      const seen: string[] = [];
      await bus.consumeCommands(CMD, GROUP, (p) => void seen.push(p.renderId), FAST);
      await waitFor('the command', () => seen.length === 1);
      await sleep(300);
      expect(seen).toEqual(['dup']);
    });

    it('redelivers after a handler throws, with backoff, until it succeeds', async () => {
      const bus = await worker();
      const attempts: { delivery: number; at: number; messageId: string | null }[] = [];
      let done = false;
      await bus.consumeCommands(
        CMD,
        GROUP,
        (_p, ctx: CommandContext) => {
          attempts.push({ delivery: ctx.deliveryCount, at: Date.now(), messageId: ctx.messageId });
          if (ctx.deliveryCount < 3) throw new Error(`transient failure ${ctx.deliveryCount}`);
          done = true;
        },
        FAST,
      );
      await bus.publishCommand(CMD, render('flaky'));
      await waitFor('success on the third delivery', () => done);
      expect(attempts.map((a) => a.delivery)).toEqual([1, 2, 3]);
      expect(attempts[1].at - attempts[0].at).toBeGreaterThanOrEqual(40);
      expect(attempts[2].at - attempts[1].at).toBeGreaterThanOrEqual(90);
      expect(new Set(attempts.map((a) => a.messageId))).toEqual(new Set(['s2g.render.requested:flaky']));
      await sleep(300);
      expect(attempts).toHaveLength(3);
    });

    it('dead-letters a command after maxDeliver failures, with the reason, and stops delivering it', async () => {
      const bus = await worker();
      const letters: DeadLetter[] = [];
      const hooked: DeadLetter[] = [];
      await bus.subscribeDeadLetters((d) => void letters.push(d));
      let attempts = 0;
      await bus.consumeCommands(
        CMD,
        GROUP,
        () => {
          attempts++;
          throw new S2gError(ErrorCode.MEDIA_UNREADABLE, 'pose file is truncated');
        },
        { ...FAST, maxDeliver: 3, onDeadLetter: (d) => void hooked.push(d) },
      );
      await bus.publishCommand(CMD, render('doomed'));
      await waitFor('the dead letter', () => letters.length === 1);
      await sleep(400);
      expect(attempts).toBe(3);
      expect(letters).toHaveLength(1);
      expect(letters[0]).toMatchObject({
        command: CMD,
        consumerGroup: GROUP,
        messageId: 's2g.render.requested:doomed',
        deliveries: 3,
        reason: { code: ErrorCode.MEDIA_UNREADABLE, message: 'pose file is truncated' },
      });
      expect(JSON.parse(letters[0].data)).toMatchObject(render('doomed'));
      expect(hooked).toEqual(letters);
    });

    it('retries dead-lettering when the onDeadLetter hook fails, and never loses the command', async () => {
      const bus = await worker();
      let hookCalls = 0;
      const letters: DeadLetter[] = [];
      await bus.subscribeDeadLetters((d) => void letters.push(d), CMD);
      await bus.consumeCommands(
        CMD,
        GROUP,
        () => {
          throw new Error('always');
        },
        {
          ...FAST,
          maxDeliver: 1,
          onDeadLetter: () => {
            hookCalls++;
            if (hookCalls === 1) throw new Error('database down');
          },
        },
      );
      await bus.publishCommand(CMD, render('hook'));
      await waitFor('the second hook call', () => hookCalls === 2);
      await sleep(300);
      expect(hookCalls).toBe(2);
      // The retry found the command past maxDeliver and dead-lettered it without running the handler again.
      expect(letters.at(-1)).toMatchObject({ deliveries: 2, reason: { code: ErrorCode.DELIVERY_EXHAUSTED } });
    });

    it('dead-letters malformed payloads at once and keeps consuming', async () => {
      const bus = await worker();
      const letters: DeadLetter[] = [];
      await bus.subscribeDeadLetters((d) => void letters.push(d));
      const seen: string[] = [];
      await bus.consumeCommands(CMD, GROUP, (p) => void seen.push(p.renderId), FAST);
      await harness.injectRaw(CMD, JSON.stringify({ renderId: 5, resultId: 'x', width: 'wide' }));
      await harness.injectRaw(CMD, '{ not json');
      await bus.publishCommand(CMD, render('fine'));
      await waitFor('two dead letters and the valid command', () => letters.length === 2 && seen.length === 1);
      expect(seen).toEqual(['fine']);
      for (const d of letters) {
        expect(d.deliveries).toBe(1);
        expect(d.reason.code).toBe(ErrorCode.MESSAGE_INVALID);
      }
      const schemaLetter = letters.find((d) => d.data.includes('wide'));
      expect(schemaLetter?.reason.issues?.map((i) => i.path).sort()).toEqual(['renderId', 'width']);
      expect(letters.find((d) => d.data === '{ not json')?.reason.message).toContain('not JSON');
    });

    it('redelivers the command of a worker that dies mid-message to another worker', async () => {
      const doomed = await worker();
      const started = gate();
      await doomed.consumeCommands(
        CMD,
        GROUP,
        async () => {
          started.open();
          await blocker().promise;
        },
        FAST,
      );
      await doomed.publishCommand(CMD, render('orphan'));
      await started.promise;

      const survivor = await worker();
      const seen: { id: string; delivery: number }[] = [];
      await survivor.consumeCommands(CMD, GROUP, (p, ctx) => void seen.push({ id: p.renderId, delivery: ctx.deliveryCount }), FAST);
      const killedAt = Date.now();
      await harness.kill(doomed);
      await waitFor('redelivery to the survivor', () => seen.length === 1, ACK_WAIT_MS * 4);
      expect(seen).toEqual([{ id: 'orphan', delivery: 2 }]);
      expect(Date.now() - killedAt).toBeLessThan(ACK_WAIT_MS * 3);
    });

    it('keeps a handler that runs longer than the ack wait (heartbeats) from being redelivered', async () => {
      const [w1, w2] = [await worker(), await worker()];
      const deliveries: number[] = [];
      let done = false;
      const long = async (_p: Render, ctx: CommandContext): Promise<void> => {
        deliveries.push(ctx.deliveryCount);
        await sleep(ACK_WAIT_MS * 2.5);
        done = true;
      };
      await w1.consumeCommands(CMD, GROUP, long, FAST);
      await w2.consumeCommands(CMD, GROUP, long, FAST);
      await w1.publishCommand(CMD, render('long'));
      await waitFor('the long job', () => done, ACK_WAIT_MS * 5);
      await sleep(200);
      expect(deliveries).toEqual([1]);
    });

    it('finishes in-flight work on graceful close and acknowledges it', async () => {
      const bus = await worker();
      const started = gate();
      let finished = false;
      await bus.consumeCommands(
        CMD,
        GROUP,
        async () => {
          started.open();
          await sleep(200);
          finished = true;
        },
        FAST,
      );
      await bus.publishCommand(CMD, render('graceful'));
      await started.promise;
      await bus.close({ timeoutMs: 5000 });
      expect(finished).toBe(true);

      const next = await worker();
      const seen: string[] = [];
      await next.consumeCommands(CMD, GROUP, (p) => void seen.push(p.renderId), FAST);
      await sleep(ACK_WAIT_MS + 300);
      expect(seen).toEqual([]);
    });

    it('releases work that outlives the close timeout, for immediate redelivery, and aborts the signal', async () => {
      const bus = await worker();
      const started = gate();
      let signal: AbortSignal | undefined;
      await bus.consumeCommands(
        CMD,
        GROUP,
        async (_p, ctx) => {
          signal = ctx.signal;
          started.open();
          await blocker().promise;
        },
        FAST,
      );
      await bus.publishCommand(CMD, render('slow'));
      await started.promise;
      const closing = Date.now();
      await bus.close({ timeoutMs: 100 });
      expect(Date.now() - closing).toBeLessThan(2000);
      expect(signal?.aborted).toBe(true);

      const next = await worker();
      const seen: { id: string; delivery: number }[] = [];
      await next.consumeCommands(CMD, GROUP, (p, ctx) => void seen.push({ id: p.renderId, delivery: ctx.deliveryCount }), FAST);
      // Released, not left to time out: back well before an ack wait would have passed.
      await waitFor('redelivery', () => seen.length === 1, ACK_WAIT_MS - 200);
      expect(seen).toEqual([{ id: 'slow', delivery: 2 }]);
    });

    it('does not count a handler that stops for shutdown as a failure', async () => {
      const bus = await worker();
      const started = gate();
      const letters: DeadLetter[] = [];
      await bus.subscribeDeadLetters((d) => void letters.push(d));
      await bus.consumeCommands(
        CMD,
        GROUP,
        async (_p, ctx) => {
          started.open();
          await new Promise((_, reject) => ctx.signal.addEventListener('abort', () => reject(new Error('stopping at a checkpoint'))));
        },
        { ...FAST, maxDeliver: 2 },
      );
      await bus.publishCommand(CMD, render('resumable'));
      await started.promise;
      await bus.close({ timeoutMs: 2000 });

      const next = await worker();
      const seen: number[] = [];
      await next.consumeCommands(CMD, GROUP, (_p, ctx) => void seen.push(ctx.deliveryCount), { ...FAST, maxDeliver: 2 });
      await waitFor('redelivery', () => seen.length === 1, ACK_WAIT_MS - 200);
      expect(seen).toEqual([2]);
      expect(letters).toEqual([]);
    });

    it('loses nothing when workers die or stop while commands are queued', async () => {
      const publisher = await worker();
      const ids = Array.from({ length: 30 }, (_, i) => `n${i}`);
      for (const id of ids) await publisher.publishCommand(CMD, render(id));
      const completed = new Set<string>();
      const slowly = async (p: Render): Promise<void> => {
        await sleep(20);
        completed.add(p.renderId);
      };

      const crashing = await worker();
      await crashing.consumeCommands(CMD, GROUP, slowly, { ...FAST, concurrency: 2 });
      await waitFor('some progress', () => completed.size >= 4);
      await harness.kill(crashing);

      const stopping = await worker();
      await stopping.consumeCommands(CMD, GROUP, slowly, { ...FAST, concurrency: 2 });
      await waitFor('more progress', () => completed.size >= 12);
      await stopping.close({ timeoutMs: 0 });

      const last = await worker();
      await last.consumeCommands(CMD, GROUP, slowly, { ...FAST, concurrency: 3 });
      await waitFor('every command', () => completed.size === ids.length, ACK_WAIT_MS * 6);
      expect([...completed].sort()).toEqual([...ids].sort());
    });

    it('refuses a second consumer group for the same command', async () => {
      const bus = await worker();
      await bus.consumeCommands(CMD, GROUP, () => undefined, FAST);
      const other = await worker();
      await expect(other.consumeCommands(CMD, 'someone-else', () => undefined, FAST)).rejects.toMatchObject({ code: ErrorCode.HANDLER_CONFLICT });
    });

    it('fans events out to every subscriber, in order', async () => {
      const [a, b, publisher] = [await worker(), await worker(), await worker()];
      const steps: Record<string, number[]> = { a: [], b: [] };
      const all: string[] = [];
      const unrelated: unknown[] = [];
      await a.subscribeEvents('s2g.training.progress', (p) => void steps.a.push(p.step));
      await b.subscribeEvents('s2g.training.progress', (p) => void steps.b.push(p.step));
      const patternHandler: AnyEventHandler = (e) => {
        all.push(e.name);
        if (e.name === 's2g.training.completed') expect(e.payload.finalCheckpointId).toBe('c9');
      };
      await b.subscribeEvents('s2g.training.*', patternHandler);
      await a.subscribeEvents('s2g.render.completed', (p) => void unrelated.push(p));

      for (let step = 1; step <= 5; step++) {
        await publisher.publishEvent('s2g.training.progress', { runId: 'run', step, epoch: 0, totalSteps: 5, lossG: 1, lossD: 1, l1: 1, samplesPerSec: 10, etaSeconds: 0 });
      }
      await publisher.publishEvent('s2g.training.completed', { runId: 'run', speakerId: 's', steps: 5, finalCheckpointId: 'c9', durationMs: 10 });
      // Commands share the subject tree; a pattern subscription must not see them as events.
      await publisher.publishCommand('s2g.training.requested', { runId: 'run2', speakerId: 's' });

      await waitFor('every subscriber to get every event', () => steps.a.length === 5 && steps.b.length === 5 && all.length === 6);
      await sleep(100);
      expect(steps).toEqual({ a: [1, 2, 3, 4, 5], b: [1, 2, 3, 4, 5] });
      expect(all).toEqual([...Array(5).fill('s2g.training.progress'), 's2g.training.completed']);
      expect(unrelated).toEqual([]);
    });

    it('keeps delivering events to a subscriber whose handler throws', async () => {
      const bus = await worker();
      const got: string[] = [];
      await bus.subscribeEvents('s2g.render.failed', (p) => {
        got.push(p.renderId);
        if (p.renderId === 'x1') throw new Error('subscriber bug');
      });
      for (const id of ['x1', 'x2']) await bus.publishEvent('s2g.render.failed', { renderId: id, resultId: 'r', error: { code: 'INTERNAL', message: 'boom' } });
      await waitFor('both events', () => got.length === 2);
      expect(got).toEqual(['x1', 'x2']);
    });

    it('stops delivering to an unsubscribed handler', async () => {
      const bus = await worker();
      const got: number[] = [];
      const sub = await bus.subscribeEvents('s2g.training.progress', (p) => void got.push(p.step));
      const progress = (step: number) => ({ runId: 'r', step, epoch: 0, totalSteps: 2, lossG: 0, lossD: 0, l1: 0, samplesPerSec: 0, etaSeconds: 0 });
      await bus.publishEvent('s2g.training.progress', progress(1));
      await waitFor('first event', () => got.length === 1);
      await sub.unsubscribe();
      await bus.publishEvent('s2g.training.progress', progress(2));
      await sleep(200);
      expect(got).toEqual([1]);
    });

    it('validates what is published', async () => {
      const bus = await worker();
      // @ts-expect-error resultId is missing: caught by the types and at run time
      await expect(bus.publishCommand(CMD, { renderId: 'r' })).rejects.toMatchObject({ code: ErrorCode.MESSAGE_INVALID });
      await expect(bus.publishEvent('s2g.render.completed', { renderId: 'r', resultId: 'x', objectKey: '', durationMs: 1 })).rejects.toMatchObject({ code: ErrorCode.MESSAGE_INVALID });
    });

    it('answers ping while connected and refuses work once closed', async () => {
      const bus = await worker();
      await expect(bus.ping()).resolves.toBeUndefined();
      await bus.close();
      await expect(bus.ping()).rejects.toBeInstanceOf(S2gError);
      await expect(bus.publishCommand(CMD, render('late'))).rejects.toMatchObject({ code: ErrorCode.UNAVAILABLE });
    });
  });
}
