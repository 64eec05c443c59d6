import { beforeAll, describe, expect, it } from 'vitest';
import { Discriminator, Generator, deriveSeed, initBackend, mulberry32, randomInt } from '../src/index';

beforeAll(async () => {
  await initBackend('cpu', { logger: { info: () => undefined } });
});

function weights(net: { network: { params: { name: string; variable: { dataSync(): ArrayLike<number> } }[] } }): Map<string, number[]> {
  return new Map(net.network.params.map((p) => [p.name, Array.from(p.variable.dataSync())]));
}

describe('seeded randomness', () => {
  it('mulberry32 is a fixed sequence in [0, 1) per seed', () => {
    const a = mulberry32(42);
    const b = mulberry32(42);
    const xs = Array.from({ length: 1000 }, () => a());
    expect(xs).toEqual(Array.from({ length: 1000 }, () => b()));
    expect(xs.every((x) => x >= 0 && x < 1)).toBe(true);
    expect(Math.abs(xs.reduce((s, x) => s + x, 0) / xs.length - 0.5)).toBeLessThan(0.05);
    expect(mulberry32(43)()).not.toBe(xs[0]);
    const r = mulberry32(1);
    const counts = new Array(4).fill(0);
    for (let i = 0; i < 4000; i++) counts[randomInt(r, 4)]++;
    expect(Math.min(...counts)).toBeGreaterThan(900);
  });

  it('derives unrelated seeds per label', () => {
    expect(deriveSeed(1, 'a')).toBe(deriveSeed(1, 'a'));
    expect(deriveSeed(1, 'a')).not.toBe(deriveSeed(1, 'b'));
    expect(deriveSeed(1, 'a')).not.toBe(deriveSeed(2, 'a'));
  });

  it('initialises identical weights from the same seed and different ones from another', () => {
    const [g1, g2, g3] = [new Generator('tiny', 7), new Generator('tiny', 7), new Generator('tiny', 8)];
    const [d1, d2] = [new Discriminator('tiny', 7), new Discriminator('tiny', 7)];
    try {
      expect(weights(g1)).toEqual(weights(g2));
      expect(weights(d1)).toEqual(weights(d2));
      expect(weights(g1).get('enc1a/kernel')).not.toEqual(weights(g3).get('enc1a/kernel'));
      // Glorot uniform: |w| <= sqrt(6 / (fan_in + fan_out)); biases and beta zero, gamma one.
      const k = weights(g1).get('enc2b/kernel') as number[];
      const limit = Math.sqrt(6 / (16 * 16 + 16 * 16));
      expect(Math.max(...k.map(Math.abs))).toBeLessThanOrEqual(limit);
      expect(Math.max(...k.map(Math.abs))).toBeGreaterThan(0.9 * limit);
      expect(weights(g1).get('enc2b/bias')?.every((v) => v === 0)).toBe(true);
      expect(weights(g1).get('enc2b/gamma')?.every((v) => v === 1)).toBe(true);
    } finally {
      for (const n of [g1, g2, g3, d1, d2]) n.dispose();
    }
  });
});
