import { ErrorCode, isS2gError } from '@s2g/contracts';
import { loadConfig } from '@s2g/config';
import { describe, expect, it } from 'vitest';
import { stackConfig } from './config';

describe('stackConfig', () => {
  it('reads the variables of every service once, with their defaults', () => {
    const names = stackConfig.vars.map((v) => v.name);
    expect(new Set(names).size).toBe(names.length);
    for (const name of ['S2G_MODE', 'DATA_DIR', 'PUBLIC_URL', 'TRAINER_CONCURRENCY', 'INFERENCE_WINDOW_FRAMES', 'RENDER_CRF']) expect(names).toContain(name);
    const config = loadConfig(stackConfig, {});
    expect(config.mode).toBe('embedded');
    expect(config.api.maxDepth).toBe(10);
    expect(config.trainer.concurrency).toBe(1);
    expect(config.inference.windowFrames).toBe(512);
    expect(config.render.x264Preset).toBe('superfast');
  });

  it('reports a bad shared variable once and every service\'s own problems', () => {
    let error: unknown;
    try {
      loadConfig(stackConfig, { LOG_LEVEL: 'chatty', RENDER_CRF: '99', TRAINER_CONCURRENCY: '0' });
    } catch (e) {
      error = e;
    }
    expect(isS2gError(error) && error.code).toBe(ErrorCode.CONFIG_INVALID);
    const message = (error as Error).message;
    expect(message.match(/LOG_LEVEL/g)).toHaveLength(1);
    expect(message).toContain('RENDER_CRF');
    expect(message).toContain('TRAINER_CONCURRENCY');
    expect(message).toContain('3 variables to fix');
  });
});
