import { readFileSync, writeFileSync } from 'node:fs';
import { envMarkdownTable, loadConfig } from '@s2g/config';
import { type DeadLetter, ErrorCode, S2gError, TRAINING_DEFAULTS, parseMessage, parseTrainingConfig } from '@s2g/contracts';
import { describe, expect, it } from 'vitest';
import { DEFAULT_TRAINER_SETTINGS, TRAINER_ENV, trainerConfig } from './config';
import { deadLetterError } from './handlers';

function rejection(input: unknown): S2gError {
  try {
    parseTrainingConfig(input);
  } catch (e) {
    expect(e).toBeInstanceOf(S2gError);
    return e as S2gError;
  }
  throw new Error('expected TRAINING_CONFIG_INVALID');
}

describe('the training config', () => {
  it("defaults to the paper's: batches of 32, Adam 1e-4, GAN weight 1, 300 epochs of 300 iterations, 512 dev windows", () => {
    const config = parseTrainingConfig({});
    expect(config).toEqual(TRAINING_DEFAULTS);
    expect(config).toMatchObject({ preset: 'paper', batchSize: 32, learningRate: 1e-4, ganWeight: 1, iterations: 90_000, epochIterations: 300, validateEvery: 300, validationSize: 512 });
  });

  it('takes the length in epochs or iterations, and validates once per epoch unless told otherwise', () => {
    expect(parseTrainingConfig({ epochs: 2, epochIterations: 50 })).toMatchObject({ iterations: 100, validateEvery: 50 });
    expect(parseTrainingConfig({ epochs: 3 })).toMatchObject({ iterations: 900, validateEvery: 300 });
    expect(parseTrainingConfig({ iterations: 40, validateEvery: 10 })).toMatchObject({ iterations: 40, validateEvery: 10, epochIterations: 300 });
    // A resolved config reads back as itself (stored runs are parsed again on resume).
    const resolved = parseTrainingConfig({ epochs: 2, epochIterations: 50, preset: 'tiny' });
    expect(parseTrainingConfig(resolved)).toEqual(resolved);
  });

  it('rejects a bad config with TRAINING_CONFIG_INVALID naming every problem', () => {
    const e = rejection({ preset: 'huge', batchSize: 0, learningRate: -1, iterations: 10, epochs: 2, seed: 1.5 });
    expect(e.code).toBe(ErrorCode.TRAINING_CONFIG_INVALID);
    const paths = (e.details?.issues as { path: string }[]).map((i) => i.path).sort();
    expect(paths).toEqual(['batchSize', 'learningRate', 'preset', 'seed']);
    expect(rejection({ iterations: 10, epochs: 2 }).message).toContain('epochs: give iterations or epochs, not both');
    expect(rejection({ epochs: 100_000, epochIterations: 1_000 }).message).toContain('epochs x epochIterations');
    expect(rejection('fast please').code).toBe(ErrorCode.TRAINING_CONFIG_INVALID);
  });

  it('is the schema of the training request command', () => {
    const p = parseMessage('s2g.training.requested', { runId: 'r', speakerId: 's', config: { preset: 'tiny', epochs: 1, epochIterations: 20 } });
    expect(p.config).toMatchObject({ preset: 'tiny', iterations: 20, batchSize: 32 });
    expect(() => parseMessage('s2g.training.requested', { runId: 'r', speakerId: 's', config: { batchSize: -3 } })).toThrow(/config.batchSize/);
  });
});

describe('deadLetterError', () => {
  const letter = (reason: DeadLetter['reason']): DeadLetter => ({
    schemaVersion: 1,
    command: 's2g.training.requested',
    consumerGroup: 'trainer',
    messageId: null,
    deliveries: 3,
    reason,
    data: '{}',
    at: new Date().toISOString(),
  });

  it('fails a run whose request only had config problems with TRAINING_CONFIG_INVALID', () => {
    const e = deadLetterError(letter({ code: ErrorCode.MESSAGE_INVALID, message: 'x', issues: [{ path: 'config.batchSize', message: 'Too small' }] }));
    expect(e).toEqual({ code: ErrorCode.TRAINING_CONFIG_INVALID, message: 'Invalid training config: batchSize: Too small' });
  });

  it('keeps other reasons, and says how many deliveries were tried', () => {
    expect(deadLetterError(letter({ code: ErrorCode.MESSAGE_INVALID, message: 'bad', issues: [{ path: 'runId', message: 'Required' }] })).code).toBe(ErrorCode.MESSAGE_INVALID);
    expect(deadLetterError(letter({ code: 'SOMETHING_NEW', message: 'db down' }))).toEqual({ code: ErrorCode.DELIVERY_EXHAUSTED, message: 'gave up after 3 deliveries: db down' });
  });
});

describe('the trainer service settings', () => {
  it('default to one run at a time, a five-minute ack wait and a 2 GiB cache, and name bad values', () => {
    expect(DEFAULT_TRAINER_SETTINGS).toEqual({ concurrency: 1, ackWaitMs: 300_000, cacheBytes: 2 * 1024 ** 3 });
    expect(loadConfig(trainerConfig, { TRAINER_CONCURRENCY: '3', TRAINER_ACK_WAIT_MS: '60000', TRAINER_CACHE_MB: '512' }).trainer).toEqual({ concurrency: 3, ackWaitMs: 60_000, cacheBytes: 512 * 1024 ** 2 });
    expect(() => loadConfig(trainerConfig, { TRAINER_CONCURRENCY: '0', TRAINER_CACHE_MB: 'lots' })).toThrow(/TRAINER_CONCURRENCY: .*\n {2}TRAINER_CACHE_MB: /);
  });

  // The table in docs/TRAINING.md is generated from the declarations; UPDATE_DOCS=1 rewrites it.
  it('docs/TRAINING.md documents every variable as declared, and every run config default', () => {
    const path = new URL('../../../docs/TRAINING.md', import.meta.url);
    const doc = readFileSync(path, 'utf8');
    const begin = '<!-- trainer-env:begin -->';
    const end = '<!-- trainer-env:end -->';
    const table = envMarkdownTable(trainerConfig.vars.filter((v) => Object.hasOwn(TRAINER_ENV, v.name)));
    const [head, rest] = doc.split(begin);
    const [current, tail] = (rest ?? '').split(end);
    expect(tail, `docs/TRAINING.md needs the markers ${begin} and ${end}`).toBeDefined();
    if (process.env.UPDATE_DOCS === '1' && current !== `\n${table}\n`) writeFileSync(path, `${head}${begin}\n${table}\n${end}${tail}`);
    else expect(current).toBe(`\n${table}\n`);
    for (const [field, value] of Object.entries(TRAINING_DEFAULTS)) expect(doc).toContain(`| \`${field}\` | \`${value}\` |`);
  });
});
