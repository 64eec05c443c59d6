import { describe, expect, it } from 'vitest';
import { TopicPubSub } from './pubsub';

describe('TopicPubSub', () => {
  it('delivers to subscribers of the topic and id, in order, and forgets them on return()', async () => {
    const ps = new TopicPubSub<number>();
    const a = ps.subscribe('t', '1');
    const b = ps.subscribe('t', '2');
    ps.publish('t', '1', 1);
    ps.publish('t', '1', 2);
    ps.publish('t', '2', 3);
    expect([(await a.next()).value, (await a.next()).value, (await b.next()).value]).toEqual([1, 2, 3]);
    expect(ps.size).toBe(2);
    await a.return?.();
    expect(ps.size).toBe(1);
    ps.publish('t', '1', 4);
    expect(await a.next()).toEqual({ value: undefined, done: true });
  });

  it('wakes a waiting reader', async () => {
    const ps = new TopicPubSub<string>();
    const s = ps.subscribe('t', 'x');
    const pending = s.next();
    ps.publish('t', 'x', 'hello');
    expect(await pending).toEqual({ value: 'hello', done: false });
  });

  it('keeps the newest values for a slow reader (bounded buffer)', async () => {
    const ps = new TopicPubSub<number>(3);
    const s = ps.subscribe('t', 'x');
    for (let i = 1; i <= 5; i++) ps.publish('t', 'x', i);
    const got = [(await s.next()).value, (await s.next()).value, (await s.next()).value];
    expect(got).toEqual([3, 4, 5]);
  });

  it('ends every subscription on close()', async () => {
    const ps = new TopicPubSub<number>();
    const s = ps.subscribe('t', 'x');
    const pending = s.next();
    ps.close();
    expect(await pending).toEqual({ value: undefined, done: true });
    expect(ps.size).toBe(0);
  });
});
