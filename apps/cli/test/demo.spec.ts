/**
 * `s2g demo --tiny`: the whole product in one process, as `npm run demo` runs it (embedded Postgres,
 * in-process bus and filesystem store under a fresh DATA_DIR), with its outputs checked. The step
 * count is fixed so the outcome does not depend on the machine's load: 120 steps of the tiny preset
 * is the shortest run here that beats the median-pose baseline on the test split with a margin
 * (about 9 %; 80 steps barely ties it).
 */
import { probe } from '@s2g/media';
import { tempDir, type TempDir } from '@s2g/testing';
import { chmod, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../src/cli';
import { TINY_PROFILE } from '../src/demo/demo';

const ITERATIONS = '120';
let dir: TempDir;
let env: NodeJS.ProcessEnv;

async function demo(): Promise<{ code: number; out: string; err: string; seconds: number }> {
  let out = '';
  let err = '';
  const started = Date.now();
  const code = await runCli(['demo', '--tiny', '--exit', '--iterations', ITERATIONS], { out: (t) => void (out += t), err: (t) => void (err += t), env });
  return { code, out, err, seconds: (Date.now() - started) / 1000 };
}

beforeAll(async () => {
  dir = await tempDir('demo');
  // The embedded Postgres runs as its own OS user when the tests run as root: it needs to enter the folder.
  await chmod(dir.path, 0o755);
  env = { DATA_DIR: join(dir.path, 'data'), HTTP_HOST: '127.0.0.1', HTTP_PORT: '0', ...(process.env.TF_BACKEND ? { TF_BACKEND: process.env.TF_BACKEND } : {}) };
});

afterAll(async () => {
  await dir?.cleanup();
});

describe('s2g demo --tiny', () => {
  it('trains a model that beats the median pose, renders its prediction and draws its losses', async () => {
    const first = await demo();
    console.info(`demo --tiny: ${first.seconds.toFixed(0)} s`);
    expect(first.err).not.toMatch(/^error /m);
    expect(first.code).toBe(0);

    // The table, printed.
    expect(first.out).toMatch(/^method\s+L1\s+PCK@0\.1\s+PCK@0\.2\s+Frechet\s+beats\s+diversity\s+windows$/m);
    for (const method of ['model', 'median pose', 'random window', 'nearest audio']) {
      expect(first.out).toMatch(new RegExp(`^${method}\\s+\\d+\\.\\d{4}\\s+\\d\\.\\d{4}\\s+\\d\\.\\d{4}(\\s+\\d+\\.\\d{3}){3}\\s+\\d+$`, 'm'));
    }

    // The model against the median pose on the test split, from the API's evaluation records.
    const out = join(env.DATA_DIR as string, 'demo');
    const evaluation = JSON.parse(await readFile(join(out, 'evaluation.json'), 'utf8')) as {
      split: string;
      config: { iterations: number; preset: string };
      evaluations: { method: string; l1: number; sampleCount: number; metrics: Record<string, number> }[];
    };
    expect(evaluation.split).toBe('test');
    expect(evaluation.config).toMatchObject({ iterations: Number(ITERATIONS), preset: 'tiny' });
    const l1 = (method: string): number => evaluation.evaluations.find((e) => e.method === method)?.l1 ?? Number.NaN;
    expect(evaluation.evaluations.find((e) => e.method === 'model')?.sampleCount).toBeGreaterThan(20);
    expect(l1('model')).toBeLessThan(l1('median'));
    const metrics = (method: string): Record<string, number> => evaluation.evaluations.find((e) => e.method === method)?.metrics ?? {};
    expect(metrics('model').frechet).toBeLessThan(metrics('median').frechet);
    expect(metrics('median').diversity).toBe(0);
    // The printed table says the same.
    expect(first.out).toContain(`model          ${l1('model').toFixed(4)}`);

    // The video: H.264 at the demo's size, with the speech, as long as the held-out clip.
    const video = await probe(join(out, 'prediction.mp4'));
    expect(video.video).toMatchObject({ codec: 'h264', width: TINY_PROFILE.render.width, height: TINY_PROFILE.render.height });
    expect(video.video?.fps).toBeCloseTo(15, 1);
    expect(video.audio?.codec).toBe('aac');
    expect(video.durationSec).toBeGreaterThan(TINY_PROFILE.heldOutSeconds - 0.5);
    expect(video.durationSec).toBeLessThan(TINY_PROFILE.heldOutSeconds + 0.5);
    const poses = JSON.parse(await readFile(join(out, 'prediction.poses.json'), 'utf8')) as { format: string; frames: number; pixels: unknown[] };
    expect(poses.format).toBe('s2g-poses');
    expect(poses.frames).toBe(TINY_PROFILE.heldOutSeconds * 15);
    expect(poses.pixels).toHaveLength(poses.frames);

    // The loss curves: a PNG of the chart's size.
    const png = await readFile(join(out, 'loss-curves.png'));
    expect(png.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
    expect(png.readUInt32BE(16)).toBe(900);
    expect(png.readUInt32BE(20)).toBe(500);

    // Where everything is.
    for (const line of ['video:', 'loss curves:', 'GraphQL API:', 'admin token file:']) expect(first.out).toContain(line);

    // A second run reuses the speaker and the run.
    const second = await demo();
    expect(second.code).toBe(0);
    expect(second.out).toContain('(already ingested)');
    expect(second.out).toMatch(/^reusing completed run [0-9a-f-]{36}$/m);
    expect(second.out).toContain(`model          ${l1('model').toFixed(4)}`);
    expect(second.seconds).toBeLessThan(first.seconds);
  }, 600_000);
});
