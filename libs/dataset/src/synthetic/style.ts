import { ErrorCode, S2gError } from '@s2g/contracts';
import type { Rng } from './rng';

/** How one synthetic speaker speaks and gestures; drawn from the seed, then overridden by the caller. */
export interface SpeakerStyle {
  /** Scale of every gesture excursion (1 = typical). */
  amplitude: number;
  /** Hand that does most of the gesturing; `both` moves the hands as mirror images. */
  preferredHand: 'right' | 'left' | 'both';
  /** Where the hands go in pauses: hanging at the sides, clasped at the belly, or forearms level. */
  rest: 'low' | 'clasped' | 'desk';
  /** Syllables per second (real speech is about 3-6). */
  tempo: number;
  /** Mean voice pitch (Hz). */
  pitchHz: number;
  /** Distance between the shoulder joints in pixels (a 1280x720 frame). */
  shoulderWidth: number;
}

export const STYLE_PRESETS = {
  calm: { amplitude: 0.6, tempo: 3.4, rest: 'clasped' },
  animated: { amplitude: 1.35, tempo: 4.8, preferredHand: 'both', rest: 'desk' },
  lefty: { preferredHand: 'left', rest: 'low' },
} as const satisfies Record<string, Partial<SpeakerStyle>>;
export type StylePreset = keyof typeof STYLE_PRESETS;

export function resolveStyle(rng: Rng, style: StylePreset | Partial<SpeakerStyle> = {}): SpeakerStyle {
  let overrides: Partial<SpeakerStyle>;
  if (typeof style === 'string') {
    if (!(style in STYLE_PRESETS)) {
      throw new S2gError(ErrorCode.BAD_USER_INPUT, `unknown style preset '${style}' (known: ${Object.keys(STYLE_PRESETS).join(', ')})`);
    }
    overrides = STYLE_PRESETS[style];
  } else overrides = style;
  const drawn: SpeakerStyle = {
    amplitude: rng.range(0.75, 1.25),
    preferredHand: rng.pick(['right', 'right', 'left', 'both'] as const),
    rest: rng.pick(['low', 'clasped', 'desk'] as const),
    tempo: rng.range(3.6, 4.6),
    pitchHz: rng.chance(0.5) ? rng.range(95, 140) : rng.range(170, 230),
    shoulderWidth: rng.range(195, 235),
  };
  return { ...drawn, ...overrides };
}
