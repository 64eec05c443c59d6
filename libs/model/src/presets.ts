import type { ModelPreset } from '@s2g/contracts';
import { MODEL_PRESETS } from '@s2g/contracts';
import { ErrorCode, S2gError } from '@s2g/contracts';

/** Channel widths of one preset. Only widths differ between presets; the structure never does. */
export interface PresetWidths {
  /** Generator 2D encoder blocks 1..4 (ML-SPEC section 4). */
  encoder2d: readonly [number, number, number, number];
  /** Every generator 1D layer (UNet and decoder). */
  width1d: number;
  /** Discriminator layers 1..3 (the last layer always has one channel). */
  discriminator: readonly [number, number, number];
}

export const PRESET_WIDTHS: Readonly<Record<ModelPreset, PresetWidths>> = {
  paper: { encoder2d: [64, 128, 256, 256], width1d: 256, discriminator: [64, 128, 256] },
  small: { encoder2d: [32, 64, 128, 128], width1d: 128, discriminator: [32, 64, 128] },
  tiny: { encoder2d: [8, 16, 32, 32], width1d: 32, discriminator: [8, 16, 32] },
};

export function presetWidths(preset: ModelPreset): PresetWidths {
  if (!(MODEL_PRESETS as readonly string[]).includes(preset)) {
    throw new S2gError(ErrorCode.TRAINING_CONFIG_INVALID, `unknown model preset '${String(preset)}'`, {
      preset,
      known: [...MODEL_PRESETS],
    });
  }
  return PRESET_WIDTHS[preset];
}
