import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode, S2gError } from '@s2g/contracts';
import { resolveBinaries } from '../src';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 's2g-media-bin-'));
  for (const name of ['ffmpeg', 'ffprobe']) {
    await writeFile(join(dir, name), '#!/bin/sh\nexit 0\n');
    await chmod(join(dir, name), 0o755);
  }
  await writeFile(join(dir, 'not-executable'), 'x');
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('resolveBinaries', () => {
  it('prefers options, then FFMPEG_PATH/FFPROBE_PATH, then PATH, then npm', () => {
    const fake = join(dir, 'ffmpeg');
    expect(resolveBinaries({ ffmpegPath: fake, env: {} }).sources.ffmpeg).toBe('option');
    const fromEnv = resolveBinaries({ env: { FFMPEG_PATH: fake, FFPROBE_PATH: join(dir, 'ffprobe') } });
    expect(fromEnv).toMatchObject({ ffmpeg: fake, sources: { ffmpeg: 'env', ffprobe: 'env' } });
    const fromPath = resolveBinaries({ env: { PATH: `/nonexistent:${dir}` } });
    expect(fromPath).toMatchObject({ ffmpeg: fake, ffprobe: join(dir, 'ffprobe'), sources: { ffmpeg: 'path', ffprobe: 'path' } });
    const fromNpm = resolveBinaries({ env: { PATH: '/nonexistent' } });
    expect(fromNpm.sources).toEqual({ ffmpeg: 'npm', ffprobe: 'npm' });
    expect(fromNpm.ffmpeg).toMatch(/@ffmpeg-installer/);
  });

  it('treats a broken explicit setting as a configuration error, not a silent fallback', () => {
    for (const env of [{ FFMPEG_PATH: join(dir, 'missing') }, { FFPROBE_PATH: join(dir, 'not-executable') }]) {
      try {
        resolveBinaries({ env });
        expect.unreachable();
      } catch (e) {
        expect((e as S2gError).code).toBe(ErrorCode.CONFIG_INVALID);
        expect((e as Error).message).toMatch(/FF(MPEG|PROBE)_PATH/);
      }
    }
  });
});
