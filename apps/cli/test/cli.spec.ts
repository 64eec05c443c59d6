/**
 * The `s2g` commands against a running embedded stack (started in this process, as `s2g up` would):
 * what they print, their exit codes, and the one-line errors.
 */
import { loadConfig } from '@s2g/config';
import { encodeWav, SAMPLE_RATE } from '@s2g/audio';
import { generateSyntheticSpeaker, planSyntheticSpeaker, synthesizeVideo } from '@s2g/dataset';
import { probe } from '@s2g/media';
import { createLogger } from '@s2g/service';
import { type Stack, stackConfig, startStack } from '@s2g/stack';
import { tempDir, type TempDir, testPostgres, type TestPostgres } from '@s2g/testing';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../src/cli';

let postgres: TestPostgres;
let dir: TempDir;
let stack: Stack;

interface Run {
  code: number;
  out: string;
  err: string;
}

/** Runs `s2g <args>` in this process; `env` replaces the environment the command sees. */
async function s2g(args: string[], env: NodeJS.ProcessEnv = { DATA_DIR: dir.path, S2G_URL: stack.url as string }): Promise<Run> {
  let out = '';
  let err = '';
  const code = await runCli(args, { out: (t) => void (out += t), err: (t) => void (err += t), env });
  return { code, out, err };
}

function expectOneLineError(r: Run, code: string): void {
  expect(r.code).toBe(1);
  expect(r.err).toMatch(new RegExp(`^error ${code}: [^\\n]+\\n$`));
}

beforeAll(async () => {
  postgres = await testPostgres();
  dir = await tempDir('cli');
  const config = loadConfig(stackConfig, { DATA_DIR: dir.path, DATABASE_URL: await postgres.createDatabase('cli'), HTTP_HOST: '127.0.0.1', HTTP_PORT: '0' });
  const sink = new Writable({ write: (_c, _e, done) => done() });
  stack = await startStack(config, { logger: createLogger({ name: 'cli-test', level: 'warn', destination: sink }) });
});

afterAll(async () => {
  await stack?.stop();
  await postgres?.stop();
  await dir?.cleanup();
});

describe('s2g --help', () => {
  const commands = [
    [],
    ['up'],
    ['speakers'],
    ['speakers', 'list'],
    ['speakers', 'create'],
    ['speakers', 'show'],
    ['ingest'],
    ['train'],
    ['runs'],
    ['runs', 'list'],
    ['runs', 'show'],
    ['runs', 'cancel'],
    ['predict'],
    ['render'],
    ['tokens'],
    ['tokens', 'create'],
    ['tokens', 'list'],
    ['tokens', 'revoke'],
    ['demo'],
  ];
  it.each(commands.map((c) => [c.join(' ') || '(none)', c]))('prints usage for %s and exits 0', async (_name, command) => {
    const r = await s2g([...(command as string[]), '--help']);
    expect(r.code).toBe(0);
    expect(r.out).toContain(`Usage: s2g${(command as string[]).length > 0 ? ` ${(command as string[]).join(' ')}` : ''}`);
  });

  it('lists the environment in `up --help`', async () => {
    const r = await s2g(['up', '--help']);
    for (const name of ['S2G_MODE', 'DATA_DIR', 'DATABASE_URL', 'NATS_URL', 'HTTP_PORT', 'TRAINER_CONCURRENCY', 'RENDER_CRF']) expect(r.out).toContain(name);
  });

  it('exits 2 on bad usage', async () => {
    expect((await s2g(['speakers', 'create'])).code).toBe(2);
    expect((await s2g(['frobnicate'])).code).toBe(2);
    expect((await s2g(['train', '--speaker', 'x', '--preset', 'huge'])).code).toBe(2);
  });
});

describe('s2g against a running stack', () => {
  it('creates, lists and shows speakers', async () => {
    const created = await s2g(['speakers', 'create', 'alice', '--display-name', 'Alice A.']);
    expect(created.code).toBe(0);
    expect(created.out).toMatch(/^created speaker alice [0-9a-f-]{36}\n$/);
    const listed = await s2g(['speakers', 'list']);
    expect(listed.code).toBe(0);
    expect(listed.out).toMatch(/^name\s+id\s+hours/);
    expect(listed.out).toMatch(/^alice\s+[0-9a-f-]{36}\s+0\.000\s+0\s+0\s+0/m);
    const shown = await s2g(['speakers', 'show', 'alice']);
    expect(shown.out).toContain('alice (Alice A.)');
    expect(shown.out).toContain('default model: none yet');
  });

  it('prints errors as one line with their code', async () => {
    expectOneLineError(await s2g(['speakers', 'create', 'alice']), 'CONFLICT');
    expectOneLineError(await s2g(['speakers', 'create', 'Not Valid']), 'BAD_USER_INPUT');
    expectOneLineError(await s2g(['speakers', 'show', 'nobody']), 'NOT_FOUND');
    expectOneLineError(await s2g(['runs', 'show', '00000000-0000-4000-8000-000000000000']), 'NOT_FOUND');
    expectOneLineError(await s2g(['ingest', join(dir.path, 'missing'), '--speaker', 'alice']), 'FILE_MISSING');
    expectOneLineError(await s2g(['speakers', 'list', '--url', 'http://127.0.0.1:9/graphql']), 'UNAVAILABLE');
  });

  it('finds the token in DATA_DIR, or takes it from --token / S2G_TOKEN', async () => {
    // No token anywhere: the API refuses.
    expectOneLineError(await s2g(['speakers', 'list'], { DATA_DIR: join(dir.path, 'elsewhere'), S2G_URL: stack.url as string }), 'UNAUTHENTICATED');
    expect((await s2g(['speakers', 'list'], { DATA_DIR: join(dir.path, 'elsewhere'), S2G_URL: stack.url as string, S2G_TOKEN: stack.token as string })).code).toBe(0);
    expect((await s2g(['--token', stack.token as string, 'speakers', 'list'], { S2G_URL: stack.url as string, DATA_DIR: join(dir.path, 'elsewhere') })).code).toBe(0);
    expectOneLineError(await s2g(['speakers', 'list'], { DATA_DIR: dir.path, S2G_URL: stack.url as string, S2G_TOKEN: 's2g_not-a-real-token' }), 'UNAUTHENTICATED');
  });

  it('creates, lists and revokes tokens; a read token cannot write', async () => {
    const created = await s2g(['tokens', 'create', '--name', 'ci-reader', '--scopes', 'read']);
    expect(created.code).toBe(0);
    const token = created.out.trim();
    expect(token).toMatch(/^s2g_[A-Za-z0-9_-]{43}$/);
    const id = /created token ([0-9a-f-]{36})/.exec(created.err)?.[1] as string;
    const listed = await s2g(['tokens', 'list']);
    expect(listed.out).toMatch(new RegExp(`^${id}\\s+ci-reader\\s+read\\s`, 'm'));
    const env = { S2G_URL: stack.url as string, S2G_TOKEN: token };
    expect((await s2g(['speakers', 'list'], env)).code).toBe(0);
    expectOneLineError(await s2g(['speakers', 'create', 'bob'], env), 'FORBIDDEN');
    expect((await s2g(['tokens', 'revoke', id])).out).toBe(`revoked ${id}\n`);
    expectOneLineError(await s2g(['speakers', 'list'], env), 'UNAUTHENTICATED');
    expectOneLineError(await s2g(['tokens', 'revoke', id]), 'NOT_FOUND');
  });

  it('ingests a folder, trains, lists runs, predicts and renders', async () => {
    const data = join(dir.path, 'dataset');
    await generateSyntheticSpeaker({ seed: 5, name: 'carol', minutes: 1.5, outDir: data, style: 'calm', video: false });
    const ingested = await s2g(['ingest', data, '--speaker', 'carol']);
    expect(ingested.err).toBe(ingested.err.replace(/^error/m, ''));
    expect(ingested.code).toBe(0);
    expect(ingested.out).toMatch(/^ingest job [0-9a-f-]{36} for speaker carol$/m);
    expect(ingested.out).toMatch(/^ingested: 1 videos, \d+ frames, \d+ windows/m);
    expect(ingested.err).toContain('created speaker carol');

    const trained = await s2g(['train', '--speaker', 'carol', '--preset', 'tiny', '--iterations', '3', '--batch-size', '2', '--validation-size', '4']);
    expect(trained.code, trained.err).toBe(0);
    const runId = /^training run ([0-9a-f-]{36}): tiny preset, 3 steps, batch 2$/m.exec(trained.out)?.[1] as string;
    expect(runId).toBeDefined();
    expect(trained.out).toContain(`run ${runId} completed (3 steps)`);
    expect(trained.out).toMatch(/^model\s+\d/m);
    expect(trained.out).toMatch(/^median pose\s+\d/m);

    const runs = await s2g(['runs', 'list', '--speaker', 'carol']);
    expect(runs.out).toMatch(new RegExp(`^${runId}\\s+carol\\s+tiny\\s+completed\\s+3/3`, 'm'));
    const shown = await s2g(['runs', 'show', runId]);
    expect(shown.out).toContain('test split:');
    for (const method of ['model', 'median pose', 'random window', 'nearest audio']) expect(shown.out).toMatch(new RegExp(`^${method}\\s+\\d`, 'm'));
    expectOneLineError(await s2g(['runs', 'cancel', runId]), 'CONFLICT');

    const plan = planSyntheticSpeaker({ seed: 'speech', name: 'speech', minutes: 0.05, style: 'calm' });
    const wav = join(dir.path, 'speech.wav');
    await writeFile(wav, encodeWav(synthesizeVideo(plan, 0).audio, SAMPLE_RATE));
    const out = join(dir.path, 'out');
    const predicted = await s2g(['predict', wav, '--run', runId, '--out', out, '--width', '160', '--height', '120']);
    expect(predicted.code, predicted.err).toBe(0);
    const resultId = /^result ([0-9a-f-]{36}): \d+ frames/m.exec(predicted.out)?.[1] as string;
    const poses = JSON.parse(await readFile(join(out, `${resultId}.poses.json`), 'utf8')) as Record<string, unknown>;
    expect(poses).toBeTypeOf('object');
    const video = await probe(join(out, `${resultId}.mp4`));
    expect(video.video).toMatchObject({ width: 160, height: 120 });

    const rendered = await s2g(['render', resultId, '--out', out, '--width', '96', '--height', '64']);
    expect(rendered.code, rendered.err).toBe(0);
    const file = /^video: (.+)$/m.exec(rendered.out)?.[1] as string;
    expect((await stat(file)).size).toBeGreaterThan(0);
    expect((await probe(file)).video).toMatchObject({ width: 96, height: 64 });
    expectOneLineError(await s2g(['predict', wav, '--out', out]), 'BAD_USER_INPUT');
  }, 600_000);
});
