import * as tf from '@tensorflow/tfjs';
import type { BatchNormAttrs } from './kernels/batch-norm';
import { batchNormTrain, batchNormTrainGrad } from './kernels/batch-norm';
import { deriveSeed, mulberry32 } from './prng';

/** TF1 / Keras BatchNormalization defaults, as in the reference code. */
export const BN_MOMENTUM = 0.99;
export const BN_EPSILON = 1e-3;
export const LEAKY_ALPHA = 0.2;

/** One convolution block: conv (with bias) -> optional BatchNorm -> optional LeakyReLU(0.2). */
export interface ConvSpec {
  name: string;
  rank: 1 | 2;
  /** [height, width] for 2D (height is time); [1, k] for 1D. */
  kernel: readonly [number, number];
  stride: number;
  padding: 'same' | 'valid';
  inChannels: number;
  outChannels: number;
  norm: boolean;
  activation: 'leakyRelu' | 'linear';
}

export interface Param {
  /** Stable logical name, `<layer>/<kind>`; checkpoints are keyed by it. */
  name: string;
  variable: tf.Variable;
  trainable: boolean;
}

/**
 * How a forward pass runs: `training` uses batch statistics in BatchNorm (else the moving ones);
 * `updateStats` also folds the batch statistics into the moving ones (only in a network's own step).
 */
export interface ForwardMode {
  training: boolean;
  updateStats: boolean;
  /** Receives every BatchNorm layer's batch statistics (training mode only). */
  statsSink?: (layer: string, mean: tf.Tensor, variance: tf.Tensor) => void;
  /** No gradient will be taken of this pass: free each block's intermediates at once. */
  noGradient?: boolean;
}

export const INFERENCE: ForwardMode = { training: false, updateStats: false };

let instanceCounter = 0;

/** LeakyReLU as x * step(x, alpha): two fast elementwise kernels (wasm's LeakyRelu is a slow loop). */
function leakyForward(x: tf.Tensor): tf.Tensor {
  return tf.mul(x, tf.step(x, LEAKY_ALPHA));
}

/** LeakyReLU for training: dx = dy * step(y, alpha) (y > 0 exactly where x > 0). */
const leakyTraining = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
  const x = args[0] as tf.Tensor;
  const save = args[1] as tf.GradSaveFunc;
  const y = leakyForward(x);
  save([y]);
  return { value: y, gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => [tf.mul(dy as tf.Tensor, tf.step(saved[0], LEAKY_ALPHA))] };
});

/** Runs a conv block's convolution as 2D: 1D tensors (B, L, C) become (B, 1, L, C). */
function as4d(t: tf.Tensor, rank: 1 | 2): tf.Tensor4D {
  return (rank === 2 ? t : tf.expandDims(t, 1)) as tf.Tensor4D;
}

/**
 * A whole conv -> bias -> BatchNorm (batch statistics) -> optional LeakyReLU block as one op with a
 * hand-written gradient, for training.
 * - Memory: only xhat and y are kept for the backward pass (plus the block's input and kernel), and
 *   the backward pass leaves one gradient per block. Under tfjs' tape every intermediate and every
 *   intermediate gradient would live until the end of the step.
 * - Speed: tfjs' own batchNorm gradient tiles every per-channel vector to the activation's full size,
 *   and wasm's FusedBatchNorm and LeakyRelu kernels are slow scalar loops; this runs the BatchNorm
 *   and LeakyReLU parts as two fused kernels where the backend has them (kernels/batch-norm.ts: the
 *   native kernels), else as broadcasting elementwise ops with one-pass channel sums.
 *   forward:  z = conv(x, k) + bias;  xhat = (z - mean) * rstd;  pre = gamma * xhat + beta;
 *             y = pre * step(pre, alpha)
 *   backward: dpre = dy * step(y, alpha);  dbeta = sum(dpre);  dgamma = sum(dpre * xhat);
 *             dz = gamma * rstd * (dpre - dbeta / n - xhat * dgamma / n);  dbias = sum(dz);
 *             dk = Conv2DBackpropFilter(x, dz);  dx = Conv2DBackpropInput(dz, k)
 */
function convBlockTraining(
  spec: ConvSpec,
  params: { kernel: tf.Tensor; bias: tf.Tensor; gamma: tf.Tensor; beta: tf.Tensor },
  x: tf.Tensor,
  onStats: (mean: tf.Tensor, variance: tf.Tensor) => void,
): tf.Tensor {
  const leaky = spec.activation === 'leakyRelu';
  const strides: [number, number] = spec.rank === 2 ? [spec.stride, spec.stride] : [1, spec.stride];
  const filterShape = [spec.kernel[0], spec.kernel[1], spec.inChannels, spec.outChannels] as [number, number, number, number];
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [xIn, kIn, biasIn, gammaIn, betaIn] = args as tf.Tensor[];
    const save = args[5] as tf.GradSaveFunc;
    // Full-size temporaries are disposed as soon as they are used: the first blocks' activations are
    // the largest tensors of the whole step.
    const bn: BatchNormAttrs = { epsilon: BN_EPSILON, leaky, alpha: LEAKY_ALPHA };
    const [xhat, rstd, y] = tf.tidy(() => {
      const z = tf.tidy(() =>
        tf.fused.conv2d({ x: as4d(xIn, spec.rank), filter: tf.reshape(kIn, filterShape) as tf.Tensor4D, strides, pad: spec.padding, bias: biasIn }),
      );
      const out = batchNormTrain(z, gammaIn, betaIn, bn);
      z.dispose();
      onStats(out.mean, out.variance);
      return [out.xhat, out.rstd, spec.rank === 2 ? out.y : tf.squeeze(out.y, [1])];
    });
    save([xIn, kIn, xhat, rstd, y, gammaIn]);
    return {
      value: y,
      gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
        const [xs, ks, xh, r, ys, g] = saved;
        const { dz, dbias, dgamma, dbeta } = batchNormTrainGrad(as4d(dy as tf.Tensor, spec.rank), as4d(ys, spec.rank), xh, g, r, bn);
        const x4 = as4d(xs, spec.rank);
        const dk = tf.engine().runKernel('Conv2DBackpropFilter', { x: x4, dy: dz }, {
          strides,
          pad: spec.padding,
          dataFormat: 'NHWC',
          filterShape,
        } as unknown as tf.NamedAttrMap) as tf.Tensor;
        const dx = tf.conv2dTranspose(dz as tf.Tensor4D, tf.reshape(ks, filterShape) as tf.Tensor4D, x4.shape, strides, spec.padding);
        dz.dispose();
        return [tf.reshape(dx, xs.shape), tf.reshape(dk, ks.shape), dbias, dgamma, dbeta];
      },
    };
  });
  return op(x, params.kernel, params.bias, params.gamma, params.beta);
}

/** Glorot (Xavier) uniform, as tf.layers' default kernel initializer; fans as Keras computes them. */
function glorotUniform(shape: readonly number[], seed: number): Float32Array {
  const receptive = shape.slice(0, -2).reduce((a, b) => a * b, 1);
  const fanIn = receptive * shape[shape.length - 2];
  const fanOut = receptive * shape[shape.length - 1];
  const limit = Math.sqrt(6 / (fanIn + fanOut));
  const rng = mulberry32(seed);
  const size = shape.reduce((a, b) => a * b, 1);
  const out = new Float32Array(size);
  for (let i = 0; i < size; i++) out[i] = (2 * rng() - 1) * limit;
  return out;
}

function kernelShape(spec: ConvSpec): number[] {
  return spec.rank === 2
    ? [spec.kernel[0], spec.kernel[1], spec.inChannels, spec.outChannels]
    : [spec.kernel[1], spec.inChannels, spec.outChannels];
}

/**
 * A network as an ordered list of named variables plus the conv blocks that use them. Own variables
 * (rather than tf.layers) give exact control of initialisation, BatchNorm statistics and checkpoints.
 */
export class Network {
  readonly params: Param[] = [];
  private readonly byName = new Map<string, Param>();
  private readonly specsByName = new Map<string, ConvSpec>();

  constructor(
    readonly kind: 'generator' | 'discriminator',
    readonly specs: readonly ConvSpec[],
    seed: number,
  ) {
    // Unique engine names: several networks may live in one process (tests, resumed runs).
    const prefix = `${kind}_${++instanceCounter}`;
    const add = (name: string, value: tf.Tensor, trainable: boolean): void => {
      const variable = tf.variable(value, trainable, `${prefix}/${name}`);
      value.dispose();
      const param = { name, variable, trainable };
      this.params.push(param);
      this.byName.set(name, param);
    };
    for (const spec of specs) {
      this.specsByName.set(spec.name, spec);
      const shape = kernelShape(spec);
      add(`${spec.name}/kernel`, tf.tensor(glorotUniform(shape, deriveSeed(seed, `${kind}/${spec.name}/kernel`)), shape), true);
      add(`${spec.name}/bias`, tf.zeros([spec.outChannels]), true);
      if (spec.norm) {
        add(`${spec.name}/gamma`, tf.ones([spec.outChannels]), true);
        add(`${spec.name}/beta`, tf.zeros([spec.outChannels]), true);
        add(`${spec.name}/moving_mean`, tf.zeros([spec.outChannels]), false);
        add(`${spec.name}/moving_variance`, tf.ones([spec.outChannels]), false);
      }
    }
  }

  get trainableVariables(): tf.Variable[] {
    return this.params.filter((p) => p.trainable).map((p) => p.variable);
  }

  /** Number of trainable scalars (kernels, biases, BatchNorm gamma and beta). */
  countTrainable(): number {
    return this.params.filter((p) => p.trainable).reduce((n, p) => n + p.variable.size, 0);
  }

  param(name: string): Param {
    const p = this.byName.get(name);
    if (!p) throw new Error(`${this.kind} has no parameter '${name}'`);
    return p;
  }

  hasParam(name: string): boolean {
    return this.byName.has(name);
  }

  /** Applies the named conv block. Without a gradient to take, the block's intermediates are freed at once. */
  block(name: string, x: tf.Tensor, mode: ForwardMode): tf.Tensor {
    const spec = this.specsByName.get(name);
    if (!spec) throw new Error(`${this.kind} has no layer '${name}'`);
    return mode.training && !mode.noGradient ? this.blockOps(spec, x, mode) : tf.tidy(() => this.blockOps(spec, x, mode));
  }

  private blockOps(spec: ConvSpec, x: tf.Tensor, mode: ForwardMode): tf.Tensor {
    const kernel = this.param(`${spec.name}/kernel`).variable;
    const bias = this.param(`${spec.name}/bias`).variable;
    const leaky = spec.activation === 'leakyRelu';
    if (spec.norm && mode.training) {
      const movingMean = this.param(`${spec.name}/moving_mean`).variable;
      const movingVariance = this.param(`${spec.name}/moving_variance`).variable;
      const onStats = (mean: tf.Tensor, variance: tf.Tensor): void => {
        if (mode.updateStats) {
          // Biased batch variance, as Keras' non-fused BatchNormalization and tfjs-layers use.
          movingMean.assign(tf.add(tf.mul(movingMean, BN_MOMENTUM), tf.mul(mean, 1 - BN_MOMENTUM)));
          movingVariance.assign(tf.add(tf.mul(movingVariance, BN_MOMENTUM), tf.mul(variance, 1 - BN_MOMENTUM)));
        }
        mode.statsSink?.(spec.name, mean, variance);
      };
      const gamma = this.param(`${spec.name}/gamma`).variable;
      const beta = this.param(`${spec.name}/beta`).variable;
      return convBlockTraining(spec, { kernel, bias, gamma, beta }, x, onStats);
    }
    if (!mode.training) return this.inferenceBlock(spec, x);
    const conv =
      spec.rank === 2
        ? tf.conv2d(x as tf.Tensor4D, kernel as tf.Tensor4D, spec.stride, spec.padding)
        : tf.conv1d(x as tf.Tensor3D, kernel as tf.Tensor3D, spec.stride, spec.padding);
    const y = tf.add(conv, bias);
    return leaky ? (leakyTraining(y) as tf.Tensor) : y;
  }

  /**
   * Inference: BatchNorm with the moving statistics folded into the kernel and bias
   * (w' = w * s, b' = (b - mean) * s + beta with s = gamma / sqrt(var + eps)), so each block is a
   * single fused conv + bias + LeakyReLU kernel.
   */
  private inferenceBlock(spec: ConvSpec, x: tf.Tensor): tf.Tensor {
    const p = (kind: string): tf.Tensor => this.param(`${spec.name}/${kind}`).variable;
    let kernel = p('kernel');
    let bias = p('bias');
    if (spec.norm) {
      const scale = tf.mul(p('gamma'), tf.rsqrt(tf.add(p('moving_variance'), BN_EPSILON)));
      kernel = tf.mul(kernel, scale);
      bias = tf.add(tf.mul(tf.sub(bias, p('moving_mean')), scale), p('beta'));
    }
    const filterShape = [spec.kernel[0], spec.kernel[1], spec.inChannels, spec.outChannels] as [number, number, number, number];
    const y = tf.fused.conv2d({
      x: as4d(x, spec.rank),
      filter: tf.reshape(kernel, filterShape) as tf.Tensor4D,
      strides: spec.rank === 2 ? [spec.stride, spec.stride] : [1, spec.stride],
      pad: spec.padding,
      bias,
      activation: spec.activation === 'leakyRelu' ? 'leakyrelu' : 'linear',
      leakyreluAlpha: LEAKY_ALPHA,
    });
    return spec.rank === 2 ? y : tf.squeeze(y, [1]);
  }

  dispose(): void {
    for (const p of this.params) p.variable.dispose();
  }
}
