import { describe, expect, it } from 'vitest';
import { WINDOW_AUDIO_SAMPLES, WINDOW_FRAMES } from '@s2g/audio';
import { ErrorCode } from '@s2g/contracts';
import { FRAME_VALUES } from '@s2g/pose';
import type { WindowSample } from '../windows';
import { decodeShard, encodeShard, packShards, readShardHeader } from './shard';

function sample(i: number): WindowSample {
  const pose = Float32Array.from({ length: WINDOW_FRAMES * FRAME_VALUES }, (_, j) => 100 + i + j * 0.25);
  const audio = Float32Array.from({ length: WINDOW_AUDIO_SAMPLES }, (_, j) => Math.sin(j * 0.01 + i) * 0.8);
  return { id: `v/int/${i}`, speaker: 'oliver', video: 'v.mp4', intervalId: 'int', split: i % 2 ? 'dev' : 'train', startTime: i / 3, endTime: i / 3 + 4.2, pose, audio };
}

const bytesOf = (a: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

describe('shards', () => {
  const samples = [sample(0), sample(1), sample(2)];

  it('round-trips float32 audio exactly and metadata unchanged', () => {
    const { header, samples: back } = decodeShard(encodeShard(samples, 'f32'));
    expect(header.audioEncoding).toBe('f32');
    expect(back).toHaveLength(3);
    back.forEach((s, i) => {
      expect(s).toMatchObject({ id: samples[i].id, split: samples[i].split, startTime: samples[i].startTime });
      expect(bytesOf(s.pose).equals(bytesOf(samples[i].pose))).toBe(true);
      expect(bytesOf(s.audio).equals(bytesOf(samples[i].audio))).toBe(true);
    });
  });

  it('round-trips int16 audio to within one quantisation step, at about half the size', () => {
    const f32 = encodeShard(samples, 'f32');
    const i16 = encodeShard(samples, 'i16');
    expect(i16.length).toBeLessThan(0.6 * f32.length);
    const back = decodeShard(i16).samples;
    let worst = 0;
    back.forEach((s, i) => s.audio.forEach((v, j) => (worst = Math.max(worst, Math.abs(v - samples[i].audio[j])))));
    expect(worst).toBeLessThanOrEqual(1 / 32767);
    expect(bytesOf(back[2].pose).equals(bytesOf(samples[2].pose))).toBe(true);
  });

  it('detects damage anywhere: payload, header, length, magic, version', () => {
    const good = encodeShard(samples);
    const damaged = (mutate: (b: Uint8Array) => Uint8Array) => () => decodeShard(mutate(good.slice()), 'speakers/x/samples/0007');
    const corrupt = (message: RegExp) => expect.objectContaining({ code: ErrorCode.SHARD_CORRUPT, message: expect.stringMatching(message) });
    expect(
      damaged((b) => {
        b[b.length - 100] ^= 1;
        return b;
      }),
    ).toThrow(corrupt(/^speakers\/x\/samples\/0007: payload checksum mismatch/));
    expect(
      damaged((b) => {
        b[40] ^= 4;
        return b;
      }),
    ).toThrow(corrupt(/header checksum mismatch/));
    expect(damaged((b) => b.subarray(0, b.length - 1))).toThrow(corrupt(/length mismatch/));
    expect(
      damaged((b) => {
        b[0] = 0x41;
        return b;
      }),
    ).toThrow(corrupt(/bad magic/));
    expect(
      damaged((b) => {
        b[8] = 9;
        return b;
      }),
    ).toThrow(corrupt(/unsupported shard version 9/));
    expect(() => decodeShard(new Uint8Array(5), 'tiny')).toThrow(corrupt(/tiny: too short/));
    expect(readShardHeader(good).samples.map((s) => s.id)).toEqual(samples.map((s) => s.id));
  });

  it('packs a stream into shards under the size limit without losing or reordering samples', async () => {
    const all = Array.from({ length: 7 }, (_, i) => sample(i));
    const maxBytes = 3 * 160_000 + 4096;
    const shards = [];
    for await (const s of packShards(all, { maxBytes })) shards.push(s);
    expect(shards.map((s) => s.samples.length)).toEqual([3, 3, 1]);
    for (const s of shards) expect(s.bytes.length).toBeLessThanOrEqual(maxBytes);
    const ids = shards.flatMap((s) => decodeShard(s.bytes).samples.map((x) => x.id));
    expect(ids).toEqual(all.map((s) => s.id));
  });

  it('refuses samples of the wrong size', () => {
    expect(() => encodeShard([{ ...sample(0), audio: new Float32Array(10) }])).toThrow(/audio 10 samples/);
  });
});
