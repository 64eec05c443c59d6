/**
 * The inference and renderer services' own environment variables (on top of the shared ones).
 * Documented in docs/INFERENCE.md, whose tables a test keeps in sync with these declarations.
 */
import { type ConfigDefinition, envVar, extendConfig, loadConfig, type SharedConfig } from '@s2g/config';
import { FRAME_MULTIPLE } from '@s2g/model';
import { z } from 'zod';

const multipleOf32 = (min: number, max: number) =>
  z.coerce
    .number()
    .int()
    .min(min)
    .max(max)
    .refine((v) => v % FRAME_MULTIPLE === 0, `must be a multiple of ${FRAME_MULTIPLE}`);

export const INFERENCE_ENV = {
  INFERENCE_MAX_AUDIO_SECONDS: envVar(z.coerce.number().gt(0).max(6 * 3600).default(600), {
    description: 'Longest input audio accepted, in seconds; longer audio fails the job with AUDIO_TOO_LONG (decoding stops at the limit).',
  }),
  INFERENCE_MODEL_CACHE_SIZE: envVar(z.coerce.number().int().min(1).max(64).default(2), {
    description: 'Generators kept loaded, least recently used evicted first. A paper-size generator holds about 30 MB of weights.',
  }),
  INFERENCE_WINDOW_FRAMES: envVar(multipleOf32(64, 8192).default(512), {
    description:
      'Longest stretch of audio, in pose frames (15 per second), run through the network at once. Longer audio runs in overlapping windows of this size, blended, so memory stays flat: about 0.7 MB of tensors per window frame at the paper preset (373 MB for the default).',
  }),
  INFERENCE_WINDOW_OVERLAP_FRAMES: envVar(multipleOf32(32, 1024).default(64), {
    description: 'Frames shared by consecutive windows; predictions are cross-faded over them. Must be less than half of INFERENCE_WINDOW_FRAMES.',
  }),
};

export const RENDERER_ENV = {
  RENDER_X264_PRESET: envVar(z.enum(['ultrafast', 'superfast', 'veryfast', 'faster', 'fast', 'medium', 'slow', 'slower', 'veryslow']).default('superfast'), {
    description: 'x264 speed preset of rendered videos: slower presets make smaller files for more CPU time.',
  }),
  RENDER_CRF: envVar(z.coerce.number().int().min(0).max(51).default(20), {
    description: 'x264 constant rate factor of rendered videos (lower is better quality and bigger).',
  }),
};

/** How the inference service runs the model; part of InferenceConfig as `inference`. */
export interface InferenceSettings {
  maxAudioSeconds: number;
  modelCacheSize: number;
  windowFrames: number;
  overlapFrames: number;
}

/** How the renderer encodes; part of RendererConfig as `render`. */
export interface RenderSettings {
  x264Preset: string;
  crf: number;
}

export type InferenceConfig = SharedConfig & { inference: InferenceSettings };
export type RendererConfig = SharedConfig & { render: RenderSettings };

export const inferenceConfig: ConfigDefinition<InferenceConfig> = extendConfig(
  INFERENCE_ENV,
  (v) => ({
    inference: {
      maxAudioSeconds: v.INFERENCE_MAX_AUDIO_SECONDS,
      modelCacheSize: v.INFERENCE_MODEL_CACHE_SIZE,
      windowFrames: v.INFERENCE_WINDOW_FRAMES,
      overlapFrames: v.INFERENCE_WINDOW_OVERLAP_FRAMES,
    },
  }),
  [
    (values, _raw, report) => {
      const { INFERENCE_WINDOW_FRAMES: w, INFERENCE_WINDOW_OVERLAP_FRAMES: o } = values;
      // Each window must keep a stretch of its own between the cross-fades at either end.
      if (w !== undefined && o !== undefined && 2 * o >= w) report('INFERENCE_WINDOW_OVERLAP_FRAMES', `must be less than half of INFERENCE_WINDOW_FRAMES (${w})`);
    },
  ],
);

export const rendererConfig: ConfigDefinition<RendererConfig> = extendConfig(RENDERER_ENV, (v) => ({
  render: { x264Preset: v.RENDER_X264_PRESET, crf: v.RENDER_CRF },
}));

/** The defaults (an empty environment), for embedding the services without reading the environment. */
export const DEFAULT_INFERENCE_SETTINGS: InferenceSettings = loadConfig(inferenceConfig, {}).inference;
export const DEFAULT_RENDER_SETTINGS: RenderSettings = loadConfig(rendererConfig, {}).render;
