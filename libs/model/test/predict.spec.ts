import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode } from '@s2g/contracts';
import { SAMPLE_RATE, logMel } from '@s2g/audio';
import { FRAME_VALUES } from '@s2g/pose';
import { Generator, INFERENCE, initBackend, poseFramesForSamples, predict, reflectIndex, reflectPad } from '../src/index';

let generator: Generator;

function tone(seconds: number, seed = 1): Float32Array {
  const n = Math.round(seconds * SAMPLE_RATE);
  return Float32Array.from({ length: n }, (_, i) => 0.3 * Math.sin((2 * Math.PI * (220 + 50 * seed) * i) / SAMPLE_RATE) * (0.6 + 0.4 * Math.sin((2 * Math.PI * 0.7 * i) / SAMPLE_RATE)));
}

/** The generator run directly on (1, T_spec, 64, 1). */
async function direct(mel: { data: Float32Array; frames: number }, frames: number): Promise<Float32Array> {
  const out = tf.tidy(() => generator.apply(tf.tensor4d(mel.data, [1, mel.frames, 64, 1]), frames, INFERENCE));
  const data = (await out.data()) as Float32Array;
  out.dispose();
  return data;
}

beforeAll(async () => {
  await initBackend('wasm', { logger: { info: () => undefined } });
  generator = new Generator('tiny', 2);
});

afterAll(() => generator.dispose());

describe('reflect padding', () => {
  it('follows numpy pad(mode="reflect"), also past one period', () => {
    expect([0, 1, 2, 3, 4, 5, 6, 7, 8, 9].map((i) => reflectIndex(i, 4))).toEqual([0, 1, 2, 3, 2, 1, 0, 1, 2, 3]);
    expect(Array.from(reflectPad(Float32Array.from([1, 2, 3]), 7))).toEqual([1, 2, 3, 2, 1, 2, 3]);
  });
});

describe('predict', () => {
  it('predicts one pose per 1/15 s for audio of any length', async () => {
    const wave = tone(2.5);
    expect(poseFramesForSamples(wave.length)).toBe(38);
    const p = await predict(generator, wave);
    expect(p.frames).toBe(38);
    expect(p.fps).toBe(15);
    expect(p.poses).toHaveLength(38 * FRAME_VALUES);
    expect(p.poses.every(Number.isFinite)).toBe(true);
  });

  it('pads T to a multiple of 32 with reflect-padded audio, then cuts back', async () => {
    const wave = tone(2.5);
    // 38 frames -> 64; 64 * 16000 / 15 = 68267 samples.
    const padded = await direct(logMel(reflectPad(wave, 68_267)), 64);
    const p = await predict(generator, wave);
    expect(Array.from(p.poses)).toEqual(Array.from(padded.subarray(0, 38 * FRAME_VALUES)));
  });

  it('takes a log-mel spectrogram instead of a waveform', async () => {
    const wave = tone(2.5);
    const mel = logMel(reflectPad(wave, 68_267));
    const fromMel = await predict(generator, mel, { poseFrames: 38 });
    const fromWave = await predict(generator, wave);
    expect(Array.from(fromMel.poses)).toEqual(Array.from(fromWave.poses));
    // Without poseFrames the length comes from the spectrogram: 68,267 samples -> 64 frames.
    expect((await predict(generator, mel)).frames).toBe(64);
  });

  it('runs long audio in overlapping chunks of one size, with the same result when it fits one chunk', async () => {
    const wave = tone(21, 2);
    const frames = poseFramesForSamples(wave.length);
    expect(frames).toBe(315);
    const whole = await predict(generator, wave, { maxChunkFrames: 320 });
    const chunked = await predict(generator, wave, { maxChunkFrames: 96, contextFrames: 32 });
    expect(chunked.frames).toBe(frames);
    expect(chunked.poses.every(Number.isFinite)).toBe(true);
    // Chunks see the same audio with less context: close to the single pass, not identical.
    let diff = 0;
    let scale = 0;
    for (let i = 0; i < whole.poses.length; i++) {
      diff += Math.abs(chunked.poses[i] - whole.poses[i]);
      scale += Math.abs(whole.poses[i]);
    }
    expect(diff / scale).toBeLessThan(0.5);
    expect(diff).toBeGreaterThan(0);
    const again = await predict(generator, wave, { maxChunkFrames: 1024 });
    expect(Array.from(again.poses)).toEqual(Array.from(whole.poses));
  });

  it('rejects audio shorter than one analysis frame and bad options', async () => {
    await expect(predict(generator, new Float32Array(100))).rejects.toMatchObject({ code: ErrorCode.AUDIO_TOO_SHORT });
    await expect(predict(generator, tone(1), { maxChunkFrames: 50 })).rejects.toMatchObject({ code: ErrorCode.BAD_USER_INPUT });
    await expect(predict(generator, { data: new Float32Array(10), frames: 3 })).rejects.toMatchObject({ code: ErrorCode.BAD_USER_INPUT });
  });

  it('frees its tensors', async () => {
    const before = tf.memory().numTensors;
    await predict(generator, tone(1.2));
    expect(tf.memory().numTensors).toBe(before);
  });
});
