import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { BN_EPSILON, BN_MOMENTUM, LEAKY_ALPHA, Network, initBackend, motion, trainedValues } from '../src/index';
import type { ConvSpec } from '../src/index';
import { legacyBilinearWeights, resizeTime } from '../src/generator';

beforeAll(async () => {
  await initBackend('cpu', { logger: { info: () => undefined } });
});

function maxRelErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < a.length; i++) {
    diff = Math.max(diff, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(b[i]));
  }
  return diff / scale;
}

describe('resizeTime (legacy TF1 bilinear along time)', () => {
  it('matches tf.image.resizeBilinear with alignCorners and halfPixelCenters off', () => {
    for (const [from, to] of [
      [51, 64],
      [51, 96],
      [7, 32],
      [40, 32],
      [1, 32],
    ]) {
      const x = tf.randomNormal([2, from, 5], 0, 1, 'float32', from);
      const ours = resizeTime(x as tf.Tensor3D, to);
      const ref = tf.reshape(tf.image.resizeBilinear(tf.reshape(x, [2, from, 1, 5]) as tf.Tensor4D, [to, 1], false, false), [2, to, 5]);
      expect(maxRelErr(ours.dataSync(), ref.dataSync())).toBeLessThan(1e-6);
      tf.dispose([x, ours, ref]);
    }
  });

  it('reads src = dst * in / out', () => {
    const w = legacyBilinearWeights(3, 4); // src = 0, 0.75, 1.5, 2.25 (clamped)
    expect(Array.from(w)).toEqual([1, 0, 0, 0.25, 0.75, 0, 0, 0.5, 0.5, 0, 0, 1]);
  });
});

function bnSpec(leaky: boolean): ConvSpec {
  return { name: 'l', rank: 1, kernel: [1, 3], stride: 1, padding: 'same', inChannels: 4, outChannels: 6, norm: true, activation: leaky ? 'leakyRelu' : 'linear' };
}

const BLOCKS: { label: string; spec: ConvSpec; input: number[] }[] = [
  { label: '1D k3 + BN + LeakyReLU', spec: bnSpec(true), input: [3, 11, 4] },
  { label: '1D k4 s2 + BN, no activation', spec: { ...bnSpec(false), kernel: [1, 4], stride: 2 }, input: [2, 13, 4] },
  { label: '2D 4x4 s2 + BN + LeakyReLU', spec: { ...bnSpec(true), rank: 2, kernel: [4, 4], stride: 2 }, input: [2, 9, 8, 4] },
  { label: '2D 3x8 valid + BN + LeakyReLU', spec: { ...bnSpec(true), rank: 2, kernel: [3, 8], padding: 'valid' }, input: [2, 7, 8, 4] },
];

describe('conv block with batch statistics', () => {
  for (const { label, spec, input } of BLOCKS) {
    it(`has the gradients of ${label} by autodiff`, () => {
      const leaky = spec.activation === 'leakyRelu';
      const net = new Network('generator', [spec], 5);
      const x = tf.randomNormal(input, 2, 3, 'float32', 1);
      const outShape = tf.tidy(() => net.block('l', x, { training: true, updateStats: false }).shape);
      const w = tf.randomNormal(outShape, 0, 1, 'float32', 2);
      const kernel = net.param('l/kernel').variable;
      const bias = net.param('l/bias').variable;
      const gamma = net.param('l/gamma').variable;
      const beta = net.param('l/beta').variable;
      tf.tidy(() => {
        gamma.assign(tf.randomNormal([6], 1, 0.3, 'float32', 3));
        beta.assign(tf.randomNormal([6], 0, 0.3, 'float32', 4));
      });
      const vars = [kernel, bias, gamma, beta];
      const ours = tf.variableGrads(() => tf.sum(tf.mul(net.block('l', x, { training: true, updateStats: false }), w)), vars);
      const reference = tf.variableGrads(() => {
        const conv =
          spec.rank === 2
            ? tf.conv2d(x as tf.Tensor4D, kernel as tf.Tensor4D, spec.stride, spec.padding)
            : tf.conv1d(x as tf.Tensor3D, kernel as tf.Tensor3D, spec.stride, spec.padding);
        const y = tf.add(conv, bias);
        const { mean, variance } = tf.moments(y, y.shape.map((_, i) => i).slice(0, -1));
        let z = tf.batchNorm(y, mean, variance, beta, gamma, BN_EPSILON);
        if (leaky) z = tf.leakyRelu(z, LEAKY_ALPHA);
        return tf.sum(tf.mul(z, w));
      }, vars);
      expect(Math.abs(ours.value.dataSync()[0] - reference.value.dataSync()[0])).toBeLessThan(1e-3);
      for (const v of [kernel, gamma, beta]) {
        expect(maxRelErr(ours.grads[v.name].dataSync(), reference.grads[v.name].dataSync())).toBeLessThan(1e-4);
      }
      // A conv bias right before BatchNorm has no effect on the output: its gradient vanishes.
      expect(Math.max(...Array.from(ours.grads[bias.name].dataSync()).map(Math.abs))).toBeLessThan(1e-3);
      // And the gradient with respect to the block's input.
      const dxOurs = tf.grad((xx: tf.Tensor) => tf.sum(tf.mul(net.block('l', xx, { training: true, updateStats: false }), w)))(x);
      const dxRef = tf.grad((xx: tf.Tensor) => {
        const conv =
          spec.rank === 2
            ? tf.conv2d(xx as tf.Tensor4D, kernel as tf.Tensor4D, spec.stride, spec.padding)
            : tf.conv1d(xx as tf.Tensor3D, kernel as tf.Tensor3D, spec.stride, spec.padding);
        const y = tf.add(conv, bias);
        const { mean, variance } = tf.moments(y, y.shape.map((_, i) => i).slice(0, -1));
        let z = tf.batchNorm(y, mean, variance, beta, gamma, BN_EPSILON);
        if (leaky) z = tf.leakyRelu(z, LEAKY_ALPHA);
        return tf.sum(tf.mul(z, w));
      })(x);
      expect(dxOurs.shape).toEqual(x.shape);
      expect(maxRelErr(dxOurs.dataSync(), dxRef.dataSync())).toBeLessThan(1e-4);
      tf.dispose([x, w, dxOurs, dxRef, ours.value, reference.value, ...Object.values(ours.grads), ...Object.values(reference.grads)]);
      net.dispose();
    });
  }

  for (const { label, spec, input } of BLOCKS) {
    it(`folds the moving statistics into the kernel at inference: ${label}`, () => {
      const net = new Network('generator', [spec], 6);
      const p = (kind: string): tf.Variable => net.param(`l/${kind}`).variable;
      tf.tidy(() => {
        p('bias').assign(tf.randomNormal([6], 0, 0.5, 'float32', 7));
        p('gamma').assign(tf.randomNormal([6], 1, 0.3, 'float32', 8));
        p('beta').assign(tf.randomNormal([6], 0, 0.3, 'float32', 9));
        p('moving_mean').assign(tf.randomNormal([6], 0, 1, 'float32', 10));
        p('moving_variance').assign(tf.randomUniform([6], 0.5, 2, 'float32', 11));
      });
      const x = tf.randomNormal(input, 0, 1, 'float32', 12);
      const ours = net.block('l', x, { training: false, updateStats: false });
      const reference = tf.tidy(() => {
        const conv =
          spec.rank === 2
            ? tf.conv2d(x as tf.Tensor4D, p('kernel') as tf.Tensor4D, spec.stride, spec.padding)
            : tf.conv1d(x as tf.Tensor3D, p('kernel') as tf.Tensor3D, spec.stride, spec.padding);
        const z = tf.batchNorm(tf.add(conv, p('bias')), p('moving_mean'), p('moving_variance'), p('beta'), p('gamma'), BN_EPSILON);
        return spec.activation === 'leakyRelu' ? tf.leakyRelu(z, LEAKY_ALPHA) : z;
      });
      expect(ours.shape).toEqual(reference.shape);
      expect(maxRelErr(ours.dataSync(), reference.dataSync())).toBeLessThan(1e-5);
      tf.dispose([x, ours, reference]);
      net.dispose();
    });
  }

  it('moves the moving statistics towards the batch statistics with momentum 0.99', () => {
    const spec = { ...bnSpec(true), inChannels: 2, outChannels: 2, kernel: [1, 1] as const };
    const net = new Network('generator', [spec], 1);
    tf.tidy(() => net.param('l/kernel').variable.assign(tf.tensor3d([1, 0, 0, 1], [1, 2, 2])));
    const x = tf.tensor3d([1, 10, 3, 20, 5, 30, 7, 40], [1, 4, 2]);
    tf.tidy(() => net.block('l', x, { training: true, updateStats: true }));
    const mean = Array.from(net.param('l/moving_mean').variable.dataSync());
    const variance = Array.from(net.param('l/moving_variance').variable.dataSync());
    expect(mean[0]).toBeCloseTo((1 - BN_MOMENTUM) * 4, 5);
    expect(mean[1]).toBeCloseTo((1 - BN_MOMENTUM) * 25, 5);
    expect(variance[0]).toBeCloseTo(BN_MOMENTUM + (1 - BN_MOMENTUM) * 5, 5);
    expect(variance[1]).toBeCloseTo(BN_MOMENTUM + (1 - BN_MOMENTUM) * 125, 4);
    // Inference mode leaves them alone.
    tf.tidy(() => net.block('l', x, { training: false, updateStats: false }));
    expect(net.param('l/moving_mean').variable.dataSync()[0]).toBeCloseTo((1 - BN_MOMENTUM) * 4, 5);
    x.dispose();
    net.dispose();
  });
});

describe('training values', () => {
  it('drops the neck (x0 at 0 and y0 at 49) from 98 values', () => {
    const pose = tf.tensor3d(Array.from({ length: 2 * 98 }, (_, i) => i % 98), [1, 2, 98]);
    const out = trainedValues(pose);
    const row = Array.from(out.dataSync().slice(0, 96));
    expect(out.shape).toEqual([1, 2, 96]);
    expect(row).not.toContain(0);
    expect(row).not.toContain(49);
    expect(row[0]).toBe(1);
    expect(row[47]).toBe(48);
    expect(row[48]).toBe(50);
    tf.dispose([pose, out]);
  });

  it('turns (B, 64, 96) pose into (B, 63, 96) frame differences', () => {
    const x = tf.tensor3d([0, 0, 1, 10, 3, 30], [1, 3, 2]);
    const m = motion(x);
    expect(m.shape).toEqual([1, 2, 2]);
    expect(Array.from(m.dataSync())).toEqual([1, 10, 2, 20]);
    tf.dispose([x, m]);
  });
});
