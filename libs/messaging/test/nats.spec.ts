import { AckPolicy, jetstreamManager, RetentionPolicy } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { testNats, type TestNats } from '@s2g/testing';
import { ErrorCode } from '@s2g/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BusNames, connectBus, NatsBus } from '../src';
import { eventBusContract } from './contract';

let nats: TestNats;
let admin: NatsConnection;
let run = 0;

beforeAll(async () => {
  nats = await testNats();
  admin = await connect({ servers: nats.url });
});

afterAll(async () => {
  await admin?.close();
  await nats?.stop();
});

eventBusContract('nats', async () => {
  // A namespace per test: its own streams and subjects, so tests and parallel runs never collide.
  const names = new BusNames(`t${process.pid}x${Date.now().toString(36)}x${run++}`);
  return {
    connect: () => NatsBus.connect({ servers: nats.url, name: 'contract-test', namespace: names.namespace, pullExpiresMs: 1000 }),
    kill: (bus) => (bus as NatsBus).kill(),
    injectRaw: async (command, data) => {
      await admin.request(names.subject(command), data);
    },
    cleanup: async () => {
      const jsm = await jetstreamManager(admin);
      for (const kind of ['COMMANDS', 'EVENTS', 'DLQ'] as const) await jsm.streams.delete(names.stream(kind)).catch(() => false);
    },
  };
});

describe('NATS driver set-up', () => {
  it('creates its streams and consumers idempotently, with the configured limits', async () => {
    const names = new BusNames(`setup${process.pid}x${Date.now().toString(36)}`);
    const connectOnce = () => connectBus({ nats: { servers: [nats.url], namespace: names.namespace }, name: 'setup-test' });
    const [a, b] = await Promise.all([connectOnce(), connectOnce()]);
    try {
      expect(a.driver).toBe('nats');
      await a.ping();
      await a.consumeCommands('s2g.training.requested', 'trainer', () => undefined, { maxDeliver: 4, ackWaitMs: 2000, backoffMs: [100, 500] });
      await b.consumeCommands('s2g.training.requested', 'trainer', () => undefined, { maxDeliver: 4, ackWaitMs: 2000, backoffMs: [100, 500] });

      const jsm = await jetstreamManager(admin);
      const commands = await jsm.streams.info(names.stream('COMMANDS'));
      expect(commands.config.retention).toBe(RetentionPolicy.Workqueue);
      expect(commands.config.subjects).toContain(names.subject('s2g.render.requested'));
      expect(commands.config.duplicate_window).toBe(3_600_000_000_000);
      const events = await jsm.streams.info(names.stream('EVENTS'));
      expect(events.config.subjects).toContain(names.subject('s2g.training.completed'));
      // Progress is fire-and-forget: not stored.
      expect(events.config.subjects).not.toContain(names.subject('s2g.training.progress'));
      const consumer = await jsm.consumers.info(names.stream('COMMANDS'), 'trainer-training-requested');
      expect(consumer.config).toMatchObject({ ack_policy: AckPolicy.Explicit, filter_subject: names.subject('s2g.training.requested'), max_deliver: 9, backoff: [2_100_000_000, 2_500_000_000] });
    } finally {
      await Promise.all([a.close(), b.close()]);
      const jsm = await jetstreamManager(admin);
      for (const kind of ['COMMANDS', 'EVENTS', 'DLQ'] as const) await jsm.streams.delete(names.stream(kind)).catch(() => false);
    }
  });

  it('fails with UNAVAILABLE when no server answers', async () => {
    await expect(NatsBus.connect({ servers: 'nats://127.0.0.1:1', connectTimeoutMs: 1000 })).rejects.toMatchObject({ code: ErrorCode.UNAVAILABLE });
  });
});
