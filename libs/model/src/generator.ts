import * as tf from '@tensorflow/tfjs';
import type { ModelPreset } from '@s2g/contracts';
import { NUM_MEL_BANDS } from '@s2g/audio';
import { FRAME_VALUES } from '@s2g/pose';
import type { ConvSpec, ForwardMode } from './network';
import { Network } from './network';
import { presetWidths } from './presets';

/** The UNet halves the time axis five times, so the pose length must be a multiple of this. */
export const FRAME_MULTIPLE = 32;

function conv2d(name: string, inC: number, outC: number, kernel: readonly [number, number], stride: number, padding: 'same' | 'valid' = 'same'): ConvSpec {
  return { name, rank: 2, kernel, stride, padding, inChannels: inC, outChannels: outC, norm: true, activation: 'leakyRelu' };
}

function conv1d(name: string, inC: number, outC: number, k: number, stride: number): ConvSpec {
  return { name, rank: 1, kernel: [1, k], stride, padding: 'same', inChannels: inC, outChannels: outC, norm: true, activation: 'leakyRelu' };
}

/** Layer list of `audio_to_pose_gans` (ML-SPEC section 4); only the widths depend on the preset. */
export function generatorSpecs(preset: ModelPreset): ConvSpec[] {
  const { encoder2d: [w1, w2, w3, w4], width1d: c } = presetWidths(preset);
  const specs: ConvSpec[] = [
    conv2d('enc1a', 1, w1, [3, 3], 1),
    conv2d('enc1b', w1, w1, [4, 4], 2),
    conv2d('enc2a', w1, w2, [3, 3], 1),
    conv2d('enc2b', w2, w2, [4, 4], 2),
    conv2d('enc3a', w2, w3, [3, 3], 1),
    conv2d('enc3b', w3, w3, [4, 4], 2),
    conv2d('enc4a', w3, w4, [3, 3], 1),
    // Collapses the 8 remaining frequency bins: (53, 8) -> (51, 1) for a training window.
    conv2d('enc4b', w4, w4, [3, 8], 1, 'valid'),
    conv1d('unet_in1', w4, c, 3, 1),
    conv1d('unet_in2', c, c, 3, 1),
  ];
  for (let i = 1; i <= 5; i++) specs.push(conv1d(`unet_down${i}`, c, c, 4, 2));
  for (let i = 1; i <= 5; i++) specs.push(conv1d(`unet_up${i}`, c, c, 3, 1));
  for (let i = 1; i <= 4; i++) specs.push(conv1d(`dec${i}`, c, c, 3, 1));
  specs.push({ name: 'out', rank: 1, kernel: [1, 1], stride: 1, padding: 'same', inChannels: c, outChannels: FRAME_VALUES, norm: false, activation: 'linear' });
  return specs;
}

/**
 * Weights of TF1's legacy bilinear resize (align_corners=false, half_pixel_centers=false) of `from`
 * samples to `to`: output t reads src = t * from / to, i.e. (1 - f) * x[floor(src)] + f * x[floor(src) + 1]
 * with the upper index clamped. Row t of the (to, from) matrix holds those two weights.
 */
export function legacyBilinearWeights(from: number, to: number): Float32Array {
  const w = new Float32Array(to * from);
  const scale = from / to;
  for (let t = 0; t < to; t++) {
    const src = t * scale;
    const lo = Math.floor(src);
    const hi = Math.min(lo + 1, from - 1);
    const frac = src - lo;
    w[t * from + lo] += 1 - frac;
    w[t * from + hi] += frac;
  }
  return w;
}

/**
 * Bilinear resize along time, (B, L, C) -> (B, frames, C): the same numbers as
 * tf.image.resizeBilinear(x, [frames, 1], false, false) on (B, L, 1, C), done as one matmul with the
 * interpolation matrix. Its gradient is then a plain matmul on every backend (tfjs-backend-cpu's
 * ResizeBilinearGrad returns a wrongly shaped gradient for non-square inputs).
 */
export function resizeTime(x: tf.Tensor3D, frames: number): tf.Tensor3D {
  const [b, l, c] = x.shape;
  const weights = tf.tensor2d(legacyBilinearWeights(l, frames), [frames, l]);
  const flat = tf.reshape(tf.transpose(x, [1, 0, 2]), [l, b * c]);
  return tf.transpose(tf.reshape(tf.matMul(weights, flat), [frames, b, c]), [1, 0, 2]);
}

/** Nearest-neighbour x2 along time (Keras UpSampling1D): (B, L, C) -> (B, 2L, C). */
function upsample2(x: tf.Tensor3D): tf.Tensor3D {
  const [b, l, c] = x.shape;
  const e = tf.expandDims(x, 2);
  return tf.reshape(tf.concat([e, e], 2), [b, 2 * l, c]);
}

/** The speech2gesture generator: log-mel (B, T_spec, 64, 1) -> normalised pose (B, T, 98). */
export class Generator {
  readonly network: Network;

  constructor(
    readonly preset: ModelPreset,
    seed: number,
  ) {
    this.network = new Network('generator', generatorSpecs(preset), seed);
  }

  countTrainable(): number {
    return this.network.countTrainable();
  }

  /**
   * `frames` is the pose length T (a multiple of 32). In inference mode (`mode.training` false) the
   * caller owns the result; in training mode call it inside tf.tidy / a gradient function.
   */
  apply(logMel: tf.Tensor4D, frames: number, mode: ForwardMode): tf.Tensor3D {
    if (frames <= 0 || frames % FRAME_MULTIPLE !== 0) {
      throw new RangeError(`pose length must be a positive multiple of ${FRAME_MULTIPLE}, got ${frames}`);
    }
    if (logMel.shape[2] !== NUM_MEL_BANDS || logMel.shape[3] !== 1) {
      throw new RangeError(`expected log-mel input (B, T_spec, ${NUM_MEL_BANDS}, 1), got (${logMel.shape.join(', ')})`);
    }
    const run = (): tf.Tensor3D => {
      const n = this.network;
      let x: tf.Tensor = logMel;
      for (const name of ['enc1a', 'enc1b', 'enc2a', 'enc2b', 'enc3a', 'enc3b', 'enc4a', 'enc4b']) x = n.block(name, x, mode);
      const [b, , , c] = x.shape as [number, number, number, number];
      x = resizeTime(tf.reshape(x, [b, x.shape[1] as number, c]), frames);
      x = n.block('unet_in1', x, mode);
      const skips: tf.Tensor[] = [n.block('unet_in2', x, mode)];
      x = skips[0];
      for (let i = 1; i <= 5; i++) {
        x = n.block(`unet_down${i}`, x, mode);
        if (i < 5) skips.push(x);
      }
      for (let i = 1; i <= 5; i++) {
        x = tf.add(upsample2(x as tf.Tensor3D), skips[skips.length - i]);
        x = n.block(`unet_up${i}`, x, mode);
      }
      for (let i = 1; i <= 4; i++) x = n.block(`dec${i}`, x, mode);
      return n.block('out', x, mode) as tf.Tensor3D;
    };
    return mode.training && !mode.noGradient ? run() : tf.tidy(run);
  }

  dispose(): void {
    this.network.dispose();
  }
}
