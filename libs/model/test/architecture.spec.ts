import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { SPEC_FRAMES, WINDOW_FRAMES } from '@s2g/audio';
import { FRAME_VALUES, TRAINED_VALUES } from '@s2g/pose';
import { Discriminator, Generator, INFERENCE, discriminatorSpecs, generatorSpecs, initBackend } from '../src/index';

const quiet = { logger: { info: () => undefined } };

beforeAll(async () => {
  await initBackend('cpu', quiet);
});

describe('generator audio_to_pose_gans', () => {
  it('has exactly 7,423,266 trainable parameters in the paper preset', () => {
    const g = new Generator('paper', 0);
    try {
      expect(g.countTrainable()).toBe(7_423_266);
    } finally {
      g.dispose();
    }
  });

  it('keeps the structure and shrinks only widths in smaller presets', () => {
    const paper = generatorSpecs('paper');
    for (const preset of ['small', 'tiny'] as const) {
      const specs = generatorSpecs(preset);
      expect(specs.map((s) => [s.name, s.rank, s.kernel, s.stride, s.padding, s.norm, s.activation])).toEqual(
        paper.map((s) => [s.name, s.rank, s.kernel, s.stride, s.padding, s.norm, s.activation]),
      );
      expect(specs.every((s, i) => s.outChannels <= paper[i].outChannels)).toBe(true);
    }
    const counts = (['paper', 'small', 'tiny'] as const).map((p) => {
      const g = new Generator(p, 0);
      const n = g.countTrainable();
      g.dispose();
      return n;
    });
    expect(counts[0]).toBeGreaterThan(counts[1]);
    expect(counts[1]).toBeGreaterThan(counts[2]);
  });

  it('produces the ML-SPEC section 4 shapes at every stage', () => {
    const g = new Generator('tiny', 1);
    const [w1, w2, w3, w4] = [8, 16, 32, 32];
    const shapes = tf.tidy(() => {
      const n = g.network;
      const out: number[][] = [];
      let x: tf.Tensor = tf.randomNormal([2, SPEC_FRAMES, 64, 1], 0, 1, 'float32', 3);
      for (const name of ['enc1a', 'enc1b', 'enc2a', 'enc2b', 'enc3a', 'enc3b', 'enc4a', 'enc4b']) {
        x = n.block(name, x, INFERENCE);
        out.push(x.shape);
      }
      return out;
    });
    expect(shapes).toEqual([
      [2, 418, 64, w1],
      [2, 209, 32, w1],
      [2, 209, 32, w2],
      [2, 105, 16, w2],
      [2, 105, 16, w3],
      [2, 53, 8, w3],
      [2, 53, 8, w4],
      [2, 51, 1, w4],
    ]);
    const y = tf.tidy(() => g.apply(tf.randomNormal([2, SPEC_FRAMES, 64, 1], 0, 1, 'float32', 4) as tf.Tensor4D, WINDOW_FRAMES, INFERENCE));
    expect(y.shape).toEqual([2, WINDOW_FRAMES, FRAME_VALUES]);
    expect(Array.from(y.dataSync()).every(Number.isFinite)).toBe(true);
    y.dispose();
    g.dispose();
  });

  it('runs any multiple of 32 frames and rejects other lengths', () => {
    const g = new Generator('tiny', 1);
    const y = tf.tidy(() => g.apply(tf.zeros([1, 213, 64, 1]) as tf.Tensor4D, 32, INFERENCE));
    expect(y.shape).toEqual([1, 32, FRAME_VALUES]);
    y.dispose();
    expect(() => g.apply(tf.zeros([1, 418, 64, 1]) as tf.Tensor4D, 63, INFERENCE)).toThrow(/multiple of 32/);
    g.dispose();
  });

  it('uses a bias on every conv and BatchNorm gamma/beta on all but the output layer', () => {
    const g = new Generator('paper', 0);
    const names = g.network.params.filter((p) => p.trainable).map((p) => p.name);
    const specs = generatorSpecs('paper');
    expect(specs).toHaveLength(8 + 2 + 5 + 5 + 4 + 1);
    for (const s of specs) {
      expect(names).toContain(`${s.name}/bias`);
      expect(names.includes(`${s.name}/gamma`)).toBe(s.name !== 'out');
    }
    // Moving statistics are state, not trainable parameters.
    expect(g.network.params.filter((p) => !p.trainable)).toHaveLength(2 * 24);
    g.dispose();
  });
});

describe('discriminator D_patchgan', () => {
  it('has about 0.19M parameters and scores (B, 16, 1) patches of (B, 63, 96) motion', () => {
    const d = new Discriminator('paper', 0);
    expect(d.countTrainable()).toBeGreaterThan(185_000);
    expect(d.countTrainable()).toBeLessThan(195_000);
    expect(d.countTrainable()).toBe(190_657);
    const y = tf.tidy(() => d.apply(tf.randomNormal([3, WINDOW_FRAMES - 1, TRAINED_VALUES]) as tf.Tensor3D, { training: true, updateStats: false }));
    expect(y.shape).toEqual([3, 16, 1]);
    y.dispose();
    d.dispose();
  });

  it('has no BatchNorm on its first and last layers', () => {
    expect(discriminatorSpecs('paper').map((s) => [s.name, s.stride, s.norm, s.activation])).toEqual([
      ['d1', 2, false, 'leakyRelu'],
      ['d2', 2, true, 'leakyRelu'],
      ['d3', 1, true, 'leakyRelu'],
      ['d4', 1, false, 'linear'],
    ]);
  });
});
