import { readFileSync, writeFileSync } from 'node:fs';
import { envMarkdownTable, type EnvVarDoc, loadConfig } from '@s2g/config';
import { describe, expect, it } from 'vitest';
import { DEFAULT_INFERENCE_SETTINGS, DEFAULT_RENDER_SETTINGS, INFERENCE_ENV, inferenceConfig, RENDERER_ENV, rendererConfig } from './config';

describe('inference and renderer configuration', () => {
  it('has working defaults', () => {
    expect(DEFAULT_INFERENCE_SETTINGS).toEqual({ maxAudioSeconds: 600, modelCacheSize: 2, windowFrames: 512, overlapFrames: 64 });
    expect(DEFAULT_RENDER_SETTINGS).toEqual({ x264Preset: 'superfast', crf: 20 });
  });

  it('reads every variable', () => {
    const config = loadConfig(inferenceConfig, {
      INFERENCE_MAX_AUDIO_SECONDS: '30.5',
      INFERENCE_MODEL_CACHE_SIZE: '4',
      INFERENCE_WINDOW_FRAMES: '256',
      INFERENCE_WINDOW_OVERLAP_FRAMES: '96',
    });
    expect(config.inference).toEqual({ maxAudioSeconds: 30.5, modelCacheSize: 4, windowFrames: 256, overlapFrames: 96 });
    expect(loadConfig(rendererConfig, { RENDER_X264_PRESET: 'veryfast', RENDER_CRF: '23' }).render).toEqual({ x264Preset: 'veryfast', crf: 23 });
  });

  it('names every bad value', () => {
    expect(() => loadConfig(inferenceConfig, { INFERENCE_MODEL_CACHE_SIZE: '0', INFERENCE_WINDOW_FRAMES: '100' })).toThrow(
      /INFERENCE_MODEL_CACHE_SIZE: .*\n {2}INFERENCE_WINDOW_FRAMES: must be a multiple of 32/,
    );
    expect(() => loadConfig(inferenceConfig, { INFERENCE_WINDOW_FRAMES: '128', INFERENCE_WINDOW_OVERLAP_FRAMES: '64' })).toThrow(/INFERENCE_WINDOW_OVERLAP_FRAMES: must be less than half/);
    expect(() => loadConfig(rendererConfig, { RENDER_X264_PRESET: 'fastest' })).toThrow(/RENDER_X264_PRESET/);
  });

  // The tables in docs/INFERENCE.md are generated from the declarations; UPDATE_DOCS=1 rewrites them.
  it('docs/INFERENCE.md documents every variable as declared', () => {
    const path = new URL('../../../docs/INFERENCE.md', import.meta.url);
    const own = (names: object) => (doc: EnvVarDoc) => Object.hasOwn(names, doc.name);
    for (const [marker, vars] of [
      ['inference-env', inferenceConfig.vars.filter(own(INFERENCE_ENV))],
      ['renderer-env', rendererConfig.vars.filter(own(RENDERER_ENV))],
    ] as const) {
      const doc = readFileSync(path, 'utf8');
      const begin = `<!-- ${marker}:begin -->`;
      const end = `<!-- ${marker}:end -->`;
      const table = envMarkdownTable(vars);
      const [head, rest] = doc.split(begin);
      const [current, tail] = (rest ?? '').split(end);
      expect(tail, `docs/INFERENCE.md needs the markers ${begin} and ${end}`).toBeDefined();
      if (process.env.UPDATE_DOCS === '1' && current !== `\n${table}\n`) {
        writeFileSync(path, `${head}${begin}\n${table}\n${end}${tail}`);
        continue;
      }
      expect(current).toBe(`\n${table}\n`);
    }
  });
});
