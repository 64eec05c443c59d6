import * as tf from '@tensorflow/tfjs';
import { NUM_KEYPOINTS, TRAINED_KEYPOINTS } from '@s2g/pose';

/**
 * (B, T, 98) in x0..x48, y0..y48 order -> (B, T, 96) without the neck (indices 0 and 49): the model is
 * trained and scored on keypoints 1..48 only (ML-SPEC section 2).
 */
export function trainedValues(pose: tf.Tensor3D): tf.Tensor3D {
  const [b, t] = pose.shape;
  return tf.concat(
    [tf.slice(pose, [0, 0, 1], [b, t, TRAINED_KEYPOINTS]), tf.slice(pose, [0, 0, NUM_KEYPOINTS + 1], [b, t, TRAINED_KEYPOINTS])],
    2,
  );
}

/** Frame-to-frame differences along time: (B, T, C) -> (B, T - 1, C), the discriminator's input. */
export function motion(x: tf.Tensor3D): tf.Tensor3D {
  const [b, t, c] = x.shape;
  return tf.sub(tf.slice(x, [0, 1, 0], [b, t - 1, c]), tf.slice(x, [0, 0, 0], [b, t - 1, c]));
}

/** Mean absolute error. */
export function l1(a: tf.Tensor, b: tf.Tensor): tf.Scalar {
  return tf.mean(tf.abs(tf.sub(a, b)));
}

/** Least-squares GAN term: mean((scores - target)^2). */
export function lsgan(scores: tf.Tensor, target: 0 | 1): tf.Scalar {
  return tf.mean(tf.square(target === 0 ? scores : tf.sub(scores, target)));
}
