import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode } from '@s2g/contracts';
import { SPEC_FRAMES, WINDOW_FRAMES } from '@s2g/audio';
import { FRAME_VALUES } from '@s2g/pose';
import type { Trainer } from '../src/index';
import { createTrainer, initBackend, mulberry32, randomNormal } from '../src/index';

let trainer: Trainer;
const rng = mulberry32(5);

function batch(b: number): { audio: Float32Array; pose: Float32Array } {
  return {
    audio: Float32Array.from({ length: b * SPEC_FRAMES * 64 }, () => randomNormal(rng) - 6),
    pose: Float32Array.from({ length: b * WINDOW_FRAMES * FRAME_VALUES }, () => randomNormal(rng)),
  };
}

beforeAll(async () => {
  await initBackend('wasm', { logger: { info: () => undefined } });
  trainer = createTrainer({ preset: 'tiny', seed: 1 });
});

afterAll(() => trainer.dispose());

describe('trainer', () => {
  it('runs D then G steps, reports the losses and frees every temporary tensor', async () => {
    const first = await trainer.trainStep(batch(2), batch(2));
    const tensors = tf.memory().numTensors;
    const losses = [first];
    for (let i = 0; i < 2; i++) losses.push(await trainer.trainStep(batch(2), batch(2)));
    expect(tf.memory().numTensors).toBe(tensors);
    expect(trainer.step).toBe(3);
    for (const l of losses) {
      expect(Object.values(l).every(Number.isFinite)).toBe(true);
      expect(l.lossG).toBeCloseTo(l.l1 + 1.0 * l.gan, 4);
      expect(l.lossD).toBeGreaterThan(0);
    }
  });

  it('updates both networks and the generator BatchNorm statistics', async () => {
    const snapshot = (): number[][] =>
      [trainer.generator.network.param('enc1a/kernel'), trainer.generator.network.param('enc1a/moving_mean'), trainer.discriminator.network.param('d1/kernel')].map((p) =>
        Array.from(p.variable.dataSync()),
      );
    const before = snapshot();
    await trainer.trainStep(batch(2), batch(2));
    const after = snapshot();
    for (let i = 0; i < before.length; i++) expect(after[i]).not.toEqual(before[i]);
  });

  it('accepts log-mel tensors and evaluates in inference mode', async () => {
    const b = batch(3);
    const audio = tf.tensor3d(b.audio, [3, SPEC_FRAMES, 64]);
    const losses = await trainer.trainStep({ audio, pose: b.pose }, b);
    expect(Number.isFinite(losses.l1)).toBe(true);
    expect(audio.isDisposed).toBe(false);
    const e = await trainer.evaluate({ audio, pose: b.pose });
    expect(e.predictions).toHaveLength(3 * WINDOW_FRAMES * FRAME_VALUES);
    expect([e.batchSize, e.frames]).toEqual([3, WINDOW_FRAMES]);
    // evaluate() is deterministic: no statistics update, no dropout.
    expect((await trainer.evaluate(b)).l1).toBe(e.l1);
    audio.dispose();
  });

  it('re-estimates BatchNorm statistics from batches without touching weights', async () => {
    const kernel = Array.from(trainer.generator.network.param('enc2a/kernel').variable.dataSync());
    const mean = Array.from(trainer.generator.network.param('enc2a/moving_mean').variable.dataSync());
    const tensors = tf.memory().numTensors;
    await trainer.refreshBatchNormStatistics([batch(2), batch(2)]);
    expect(tf.memory().numTensors).toBe(tensors);
    expect(Array.from(trainer.generator.network.param('enc2a/kernel').variable.dataSync())).toEqual(kernel);
    expect(Array.from(trainer.generator.network.param('enc2a/moving_mean').variable.dataSync())).not.toEqual(mean);
  });

  it('rejects malformed batches with a typed error', async () => {
    const b = batch(2);
    await expect(trainer.trainStep({ audio: b.audio, pose: b.pose.subarray(1) }, b)).rejects.toMatchObject({ code: ErrorCode.TRAINING_CONFIG_INVALID });
    await expect(trainer.trainStep({ audio: b.audio.subarray(5), pose: b.pose }, b)).rejects.toMatchObject({ code: ErrorCode.TRAINING_CONFIG_INVALID });
    expect(() => createTrainer({ preset: 'huge' as 'tiny' })).toThrow(/preset/);
    expect(() => createTrainer({ preset: 'tiny', learningRate: -1 })).toThrow(/learningRate/);
  });
});
