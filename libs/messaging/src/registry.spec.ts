import { ErrorCode } from '@s2g/contracts';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { connectBus } from './connect';
import { InProcessBroker } from './in-process';
import { subjectMatches } from './names';
import { checkHandlers, commandHandler, startCommandHandlers } from './registry';

describe('command handler registry', () => {
  const render = commandHandler('s2g.render.requested', () => undefined);
  const infer = commandHandler('s2g.inference.requested', () => undefined);

  it('refuses two handlers for one command, naming it', () => {
    expect(() => checkHandlers([render, infer, commandHandler('s2g.render.requested', () => undefined)])).toThrow(/s2g.render.requested has 2 handlers/);
  });

  it('refuses a missing required handler', () => {
    try {
      checkHandlers([render], { required: ['s2g.render.requested', 's2g.training.cancel'] });
      expect.unreachable();
    } catch (e) {
      expect(e).toMatchObject({ code: ErrorCode.HANDLER_CONFLICT, details: { problems: ['s2g.training.cancel has no handler'] } });
    }
  });

  it('starts nothing when the list is invalid', async () => {
    const broker = new InProcessBroker();
    const bus = broker.connect();
    await expect(startCommandHandlers(bus, 'g', [render, render])).rejects.toMatchObject({ code: ErrorCode.HANDLER_CONFLICT });
    // No consumer group was claimed by the failed start.
    await expect(broker.connect().consumeCommands('s2g.render.requested', 'other', () => undefined)).resolves.toBeDefined();
    await bus.close();
  });

  it('types payloads by command and counts outcomes in the metrics registry', async () => {
    const metrics = new Registry();
    const bus = await connectBus({ nats: null, name: 'test', metrics });
    expect(bus.driver).toBe('in-process');
    const seen: number[] = [];
    await startCommandHandlers(bus, 'renderer', [commandHandler('s2g.render.requested', (p) => void seen.push(p.width))]);
    await bus.publishCommand('s2g.render.requested', { renderId: 'r', resultId: 'x', width: 320 });
    await expect.poll(() => seen).toEqual([320]);
    await bus.close();
    const text = await metrics.metrics();
    expect(text).toContain('s2g_bus_commands_total{command="s2g.render.requested",group="renderer",outcome="acked"} 1');
    expect(text).toContain('s2g_bus_published_total{kind="command",name="s2g.render.requested"} 1');
  });
});

describe('subjectMatches', () => {
  it.each([
    ['s2g.training.*', 's2g.training.progress', true],
    ['s2g.training.*', 's2g.training', false],
    ['s2g.training.*', 's2g.ingest.progress', false],
    ['s2g.>', 's2g.render.completed', true],
    ['s2g.>', 's2g', false],
    ['*.*.progress', 's2g.ingest.progress', true],
    ['s2g.render.completed', 's2g.render.completed', true],
    ['s2g.render.completed', 's2g.render.completed.x', false],
  ])('%s ~ %s is %s', (pattern, subject, expected) => {
    expect(subjectMatches(pattern, subject)).toBe(expected);
  });
});
