import type { LimbGroup } from '@s2g/pose';
import { Colour, hex } from './canvas';

/** Colours of a rendering. Limb colours are saturated and distinct in hue and lightness, so the two sides read apart. */
export interface Theme {
  background: Colour;
  /** Behind the panel labels and the footer. */
  bars: Colour;
  /** Label and title text. */
  text: Colour;
  /** Time and secondary text. */
  mutedText: Colour;
  divider: Colour;
  /** Drawn under every limb, a little wider: keeps the figure legible over busy video frames. */
  outline: Colour | null;
  limbs: Record<LimbGroup, Colour>;
}

const LIMBS: Record<LimbGroup, Colour> = {
  torso: hex('#334155'),
  right_arm: hex('#e0452b'),
  left_arm: hex('#1f6fd1'),
  right_hand: hex('#f59e0b'),
  left_hand: hex('#10a37f'),
};

export const LIGHT_THEME: Theme = {
  background: hex('#ffffff'),
  bars: hex('#f1f5f9'),
  text: hex('#1e293b'),
  mutedText: hex('#64748b'),
  divider: hex('#e2e8f0'),
  outline: null,
  limbs: LIMBS,
};

/** For drawing over source video: a dark halo around each limb and light text on dark label strips. */
export const VIDEO_THEME: Theme = {
  background: hex('#111827'),
  bars: hex('#111827'),
  text: hex('#f8fafc'),
  mutedText: hex('#cbd5e1'),
  divider: hex('#0b0f19'),
  outline: hex('#000000b3'),
  limbs: {
    torso: hex('#e2e8f0'),
    right_arm: hex('#ff5a3c'),
    left_arm: hex('#3b8bff'),
    right_hand: hex('#ffc21a'),
    left_hand: hex('#22d3a0'),
  },
};
