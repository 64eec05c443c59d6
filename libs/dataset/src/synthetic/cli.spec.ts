import { mkdir, readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempFolder } from '../../test/temp';
import { runSynthCli } from './cli';

describe('synth CLI', () => {
  it('prints usage with --help', async () => {
    const lines: string[] = [];
    expect(await runSynthCli(['--help'], (l) => lines.push(l))).toBe(0);
    const text = lines.join('\n');
    for (const flag of ['--seed', '--name', '--minutes', '--out', '--style', '--no-video']) expect(text).toContain(flag);
  });

  it('writes a dataset and summarises it', async () => {
    const out = join(await tempFolder('cli'), 'ds');
    const lines: string[] = [];
    const code = await runSynthCli(['--seed', '9', '--name', 'carol', '--minutes', '0.2', '--out', out, '--style', 'calm', '--no-video'], (l) => lines.push(l));
    expect(code).toBe(0);
    expect(lines.at(-2)).toMatch(/^speaker carol: 1 video\(s\), \d+ intervals, \d+ frames in /);
    const manifest = JSON.parse(await readFile(join(out, 'carol', 'synthetic.json'), 'utf8'));
    expect(manifest).toMatchObject({ seed: '9', speaker: 'carol', style: { rest: 'clasped', amplitude: 0.6 } });
    expect((await readFile(join(out, 'frames.csv'), 'utf8')).split('\n')[1]).toContain(',carol,carol_00.mp4,');
  });

  it('refuses to overwrite a speaker folder it did not generate', async () => {
    const out = await tempFolder('cli-conflict');
    await mkdir(join(out, 'oliver', 'keypoints_simple'), { recursive: true });
    const lines: string[] = [];
    expect(await runSynthCli(['--name', 'oliver', '--minutes', '0.1', '--out', out, '--no-video'], (l) => lines.push(l))).toBe(1);
    expect(lines.at(-1)).toBe(`error CONFLICT: ${join(out, 'oliver')}: exists and is not a synthetic speaker; not overwriting it`);
    expect(await readdir(join(out, 'oliver'))).toEqual(['keypoints_simple']);
  });

  it('fails with a message on bad options', async () => {
    const lines: string[] = [];
    expect(await runSynthCli(['--out', '/tmp/x', '--minutes', '-1'], (l) => lines.push(l))).not.toBe(0);
    expect(lines.join('\n')).toMatch(/must be a positive number/);
    expect(await runSynthCli(['--minutes', '1'], () => undefined)).not.toBe(0);
  });
});
