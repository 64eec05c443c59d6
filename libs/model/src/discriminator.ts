import type * as tf from '@tensorflow/tfjs';
import type { ModelPreset } from '@s2g/contracts';
import { TRAINED_VALUES } from '@s2g/pose';
import type { ConvSpec, ForwardMode } from './network';
import { Network } from './network';
import { presetWidths } from './presets';

/** Layer list of `D_patchgan` (ML-SPEC section 5): two k4 s2 downsamplings, then two k4 s1 convs. */
export function discriminatorSpecs(preset: ModelPreset): ConvSpec[] {
  const [d1, d2, d3] = presetWidths(preset).discriminator;
  const conv = (name: string, inC: number, outC: number, stride: number, norm: boolean, last = false): ConvSpec => ({
    name,
    rank: 1,
    kernel: [1, 4],
    stride,
    padding: 'same',
    inChannels: inC,
    outChannels: outC,
    norm,
    activation: last ? 'linear' : 'leakyRelu',
  });
  return [
    conv('d1', TRAINED_VALUES, d1, 2, false),
    conv('d2', d1, d2, 2, true),
    conv('d3', d2, d3, 1, true),
    conv('d4', d3, 1, 1, false, true),
  ];
}

/** The PatchGAN motion discriminator: frame differences (B, T-1, 96) -> patch scores (B, ~T/4, 1). */
export class Discriminator {
  readonly network: Network;

  constructor(
    readonly preset: ModelPreset,
    seed: number,
  ) {
    this.network = new Network('discriminator', discriminatorSpecs(preset), seed);
  }

  countTrainable(): number {
    return this.network.countTrainable();
  }

  /** Call inside tf.tidy or a gradient function. */
  apply(motion: tf.Tensor3D, mode: ForwardMode): tf.Tensor3D {
    let x: tf.Tensor = motion;
    for (const name of ['d1', 'd2', 'd3', 'd4']) x = this.network.block(name, x, mode);
    return x as tf.Tensor3D;
  }

  dispose(): void {
    this.network.dispose();
  }
}
