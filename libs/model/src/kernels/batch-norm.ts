import * as tf from '@tensorflow/tfjs';
import { channelSum } from './channel-sum';

/**
 * BatchNorm with batch statistics plus optional LeakyReLU, forward and backward, as two kernels (not
 * tfjs ops: called through runKernel) where a backend has them (the native kernels on wasm), else as
 * tfjs ops. z is channels-last; statistics are per channel over every other axis.
 *   forward:  mean, variance (biased);  rstd = 1 / sqrt(variance + epsilon);  xhat = (z - mean) * rstd;
 *             pre = gamma * xhat + beta;  y = leaky ? pre * step(pre, alpha) : pre
 *   backward: dpre = leaky ? dy * step(y, alpha) : dy;  dbeta = sum(dpre);  dgamma = sum(dpre * xhat);
 *             dz = gamma * rstd * (dpre - dbeta / n - xhat * dgamma / n);  dbias = sum(dz)
 * The kernels do each in two or three passes over memory on every core; the ops take about twenty
 * single-threaded elementwise passes.
 */
export const BATCH_NORM_TRAIN = 'S2gBatchNormTrain';
export const BATCH_NORM_TRAIN_GRAD = 'S2gBatchNormTrainGrad';

export interface BatchNormAttrs {
  epsilon: number;
  leaky: boolean;
  alpha: number;
}

export interface BatchNormTrainOutputs {
  xhat: tf.Tensor;
  y: tf.Tensor;
  mean: tf.Tensor1D;
  variance: tf.Tensor1D;
  rstd: tf.Tensor1D;
}

export interface BatchNormGradOutputs {
  dz: tf.Tensor;
  dbias: tf.Tensor1D;
  dgamma: tf.Tensor1D;
  dbeta: tf.Tensor1D;
}

const hasKernel = (name: string): boolean => tf.getKernel(name, tf.getBackend()) !== undefined;

export function batchNormTrain(z: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor, attrs: BatchNormAttrs): BatchNormTrainOutputs {
  if (hasKernel(BATCH_NORM_TRAIN)) {
    const [xhat, y, mean, variance, rstd] = tf.engine().runKernel(BATCH_NORM_TRAIN, { z, gamma, beta }, attrs as unknown as tf.NamedAttrMap) as tf.Tensor[];
    return { xhat, y, mean: mean as tf.Tensor1D, variance: variance as tf.Tensor1D, rstd: rstd as tf.Tensor1D };
  }
  // Full-size temporaries are disposed as soon as they are used.
  const n = z.size / z.shape[z.shape.length - 1];
  const mean = tf.tidy(() => tf.div(channelSum(z), n)) as tf.Tensor1D;
  const centred = tf.sub(z, mean);
  const variance = tf.tidy(() => tf.div(channelSum(tf.square(centred)), n)) as tf.Tensor1D;
  const rstd = tf.tidy(() => tf.rsqrt(tf.add(variance, attrs.epsilon))) as tf.Tensor1D;
  const xhat = tf.mul(centred, rstd);
  centred.dispose();
  const y = tf.tidy(() => {
    const pre = tf.add(tf.mul(xhat, gamma), beta);
    return attrs.leaky ? tf.mul(pre, tf.step(pre, attrs.alpha)) : pre;
  });
  return { xhat, y, mean, variance, rstd };
}

export function batchNormTrainGrad(
  dy: tf.Tensor,
  y: tf.Tensor,
  xhat: tf.Tensor,
  gamma: tf.Tensor,
  rstd: tf.Tensor,
  attrs: BatchNormAttrs,
): BatchNormGradOutputs {
  if (hasKernel(BATCH_NORM_TRAIN_GRAD)) {
    const [dz, dbias, dgamma, dbeta] = tf.engine().runKernel(BATCH_NORM_TRAIN_GRAD, { dy, y, xhat, gamma, rstd }, attrs as unknown as tf.NamedAttrMap) as tf.Tensor[];
    return { dz, dbias: dbias as tf.Tensor1D, dgamma: dgamma as tf.Tensor1D, dbeta: dbeta as tf.Tensor1D };
  }
  const n = xhat.size / xhat.shape[xhat.shape.length - 1];
  const dpre = attrs.leaky ? tf.tidy(() => tf.mul(dy, tf.step(y, attrs.alpha))) : dy;
  const dbeta = channelSum(dpre);
  const dgamma = tf.tidy(() => channelSum(tf.mul(dpre, xhat)));
  const dz = tf.tidy(() => tf.mul(tf.sub(tf.sub(dpre, tf.div(dbeta, n)), tf.mul(xhat, tf.div(dgamma, n))), tf.mul(rstd, gamma)));
  if (dpre !== dy) dpre.dispose();
  const dbias = channelSum(dz);
  return { dz, dbias, dgamma, dbeta };
}
