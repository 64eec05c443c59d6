import * as tf from '@tensorflow/tfjs';

export interface AdamConfig {
  learningRate: number;
  beta1: number;
  beta2: number;
  epsilon: number;
}

/** ML-SPEC section 6: Adam, learning rate 1e-4, betas (0.9, 0.999); epsilon is TF1's default. */
export const DEFAULT_ADAM: AdamConfig = { learningRate: 1e-4, beta1: 0.9, beta2: 0.999, epsilon: 1e-8 };

/**
 * Adam with TF1's update rule (the reference trained with tf.train.AdamOptimizer):
 *   lr_t = lr * sqrt(1 - beta2^t) / (1 - beta1^t);  m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2;
 *   w -= lr_t * m / (sqrt(v) + epsilon).
 * Kept here rather than tf.train.adam so the whole state (moments and the integer step) can be
 * saved and restored exactly: lr_t is recomputed from t in float64, never accumulated in float32.
 */
export class Adam {
  /** Number of updates applied so far. */
  iterations = 0;
  readonly firstMoments: tf.Variable[];
  readonly secondMoments: tf.Variable[];

  readonly config: AdamConfig;

  constructor(
    readonly variables: readonly tf.Variable[],
    config: AdamConfig,
  ) {
    this.config = { ...config };
    this.firstMoments = variables.map((v) => tf.variable(tf.zerosLike(v), false));
    this.secondMoments = variables.map((v) => tf.variable(tf.zerosLike(v), false));
  }

  /** Changes the learning rate from the next update on (for schedules); the moments are kept. */
  setLearningRate(learningRate: number): void {
    this.config.learningRate = learningRate;
  }

  /** Applies one update; `grads[i]` belongs to `variables[i]`. Does not dispose the gradients. */
  apply(grads: readonly tf.Tensor[]): void {
    if (grads.length !== this.variables.length) throw new Error(`expected ${this.variables.length} gradients, got ${grads.length}`);
    const { learningRate, beta1, beta2, epsilon } = this.config;
    const t = this.iterations + 1;
    const lrT = (learningRate * Math.sqrt(1 - Math.pow(beta2, t))) / (1 - Math.pow(beta1, t));
    tf.tidy(() => {
      this.variables.forEach((variable, i) => {
        const g = grads[i];
        const m = tf.add(tf.mul(this.firstMoments[i], beta1), tf.mul(g, 1 - beta1));
        const v = tf.add(tf.mul(this.secondMoments[i], beta2), tf.mul(tf.square(g), 1 - beta2));
        this.firstMoments[i].assign(m);
        this.secondMoments[i].assign(v);
        variable.assign(tf.sub(variable, tf.mul(tf.div(m, tf.add(tf.sqrt(v), epsilon)), lrT)));
      });
    });
    this.iterations = t;
  }

  dispose(): void {
    for (const v of [...this.firstMoments, ...this.secondMoments]) v.dispose();
  }
}
