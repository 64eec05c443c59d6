import { WINDOW_AUDIO_SAMPLES, WINDOW_FRAMES } from '@s2g/audio';
import { ErrorCode, type Split } from '@s2g/contracts';
import { type WindowSample, encodeShard } from '@s2g/dataset';
import { FRAME_VALUES, type SpeakerStats } from '@s2g/pose';
import { FsObjectStore } from '@s2g/storage';
import { type TempDir, tempDir } from '@s2g/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MEL_VALUES, POSE_VALUES, SAMPLE_BYTES, type ShardRef } from './data';
import { SeededRng } from './rng';
import { TrainingSampler, planSampler } from './sampler';

/**
 * Shards whose windows are recognisable in a batch: every pose value of window w of shard s is
 * 1000 * s + w (pixels), and the stats are the identity, so a batch says which windows it holds.
 */
const stats: SpeakerStats = { mean: new Float64Array(FRAME_VALUES), std: new Float64Array(FRAME_VALUES).fill(1), median: new Float64Array(FRAME_VALUES), frames: 0 };
let dir: TempDir;
let store: FsObjectStore;
const shards: ShardRef[] = [];
const PER_SHARD = 4;
const SHARDS = 6;

function window(id: string, value: number, split: Split = 'train'): WindowSample {
  const pose = new Float32Array(WINDOW_FRAMES * FRAME_VALUES).fill(value);
  // The neck is the reference point: keep it at 0 so the normalised values stay `value`.
  for (let f = 0; f < WINDOW_FRAMES; f++) {
    pose[f * FRAME_VALUES] = 0;
    pose[f * FRAME_VALUES + FRAME_VALUES / 2] = 0;
  }
  const audio = new Float32Array(WINDOW_AUDIO_SAMPLES);
  for (let i = 0; i < audio.length; i++) audio[i] = 0.1 * Math.sin(i * 0.01 * (1 + value / 1000));
  return { id, speaker: 's', video: 'v', intervalId: 'i', split, startTime: 0, endTime: 4.2, pose, audio };
}

/** Which windows a batch holds, as `1000 * shard + window` codes. */
function codes(pose: Float32Array, batch: number): number[] {
  return Array.from({ length: batch }, (_, i) => pose[i * POSE_VALUES + 1]);
}

beforeAll(async () => {
  dir = await tempDir('sampler');
  store = new FsObjectStore({ root: dir.path });
  await store.ensureReady();
  for (let s = 0; s < SHARDS; s++) {
    const bytes = encodeShard(Array.from({ length: PER_SHARD }, (_, w) => window(`s${s}w${w}`, 1000 * s + w)));
    const key = `speakers/x/samples/train-${s}`;
    await store.put(key, bytes, bytes.byteLength);
    shards.push({ key, split: 'train', sampleCount: PER_SHARD });
  }
});

afterAll(async () => {
  await dir?.cleanup();
});

describe('planSampler', () => {
  it('keeps everything resident when it fits, else a window of shards that fits with one prefetched', () => {
    expect(planSampler(shards, 2, SAMPLE_BYTES * 24)).toEqual({ mode: 'all', shards: 6, windows: 24, residentShards: 6, batchesPerMove: null });
    // Room for 12 windows: 3 shards of 4, one of them kept free for the prefetch.
    expect(planSampler(shards, 2, SAMPLE_BYTES * 12)).toEqual({ mode: 'window', shards: 6, windows: 24, residentShards: 2, batchesPerMove: 2 });
    expect(() => planSampler([], 2, 1)).toThrow(expect.objectContaining({ code: ErrorCode.NO_TRAINING_DATA }));
  });
});

describe('TrainingSampler', () => {
  it('draws seeded batches with replacement from every window, with log-mel and normalised pose', async () => {
    const sampler = await TrainingSampler.open({ store, shards, stats, batchSize: 3, seed: 7 });
    expect(sampler.plan.mode).toBe('all');
    expect(sampler.residentWindows()).toHaveLength(24);
    const seen = new Set<number>();
    for (let i = 0; i < 40; i++) {
      const batch = await sampler.next();
      expect(batch.audio).toHaveLength(3 * MEL_VALUES);
      expect(batch.pose).toHaveLength(3 * POSE_VALUES);
      for (const c of codes(batch.pose, 3)) seen.add(c);
    }
    expect(seen.size).toBeGreaterThan(20);
    expect([...seen].every((c) => c % 1000 < PER_SHARD && Math.floor(c / 1000) < SHARDS)).toBe(true);
    expect(sampler.state.batches).toBe(40);
    const again = await TrainingSampler.open({ store, shards, stats, batchSize: 3, seed: 7 });
    const other = await TrainingSampler.open({ store, shards, stats, batchSize: 3, seed: 8 });
    const a = codes((await again.next()).pose, 3).concat(codes((await again.next()).pose, 3));
    const b = codes((await other.next()).pose, 3).concat(codes((await other.next()).pose, 3));
    expect(a).not.toEqual(b);
  });

  it.each([
    ['all resident', SAMPLE_BYTES * 100],
    ['a rotating window of shards', SAMPLE_BYTES * 12],
  ])('continues from a saved state exactly as without the interruption (%s)', async (_, cacheBytes) => {
    const options = { store, shards, stats, batchSize: 2, seed: 3, cacheBytes };
    const straight = await TrainingSampler.open(options);
    const reference: number[][] = [];
    for (let i = 0; i < 30; i++) reference.push(codes((await straight.next()).pose, 2));

    const first = await TrainingSampler.open(options);
    for (let i = 0; i < 13; i++) await first.next();
    // The next batch is already assembled; the state must still point just after batch 13.
    const saved = first.state;
    expect(saved.batches).toBe(13);
    first.close();
    const resumed = await TrainingSampler.open({ ...options, state: JSON.parse(JSON.stringify(saved)) });
    const rest: number[][] = [];
    for (let i = 13; i < 30; i++) rest.push(codes((await resumed.next()).pose, 2));
    expect(rest).toEqual(reference.slice(13));
  });

  it('keeps only a window of shards in memory and passes every shard through it', async () => {
    const loads: string[] = [];
    const sampler = await TrainingSampler.open({ store, shards, stats, batchSize: 2, seed: 5, cacheBytes: SAMPLE_BYTES * 12, onShardLoaded: (i) => loads.push(i.key) });
    expect(sampler.plan).toMatchObject({ mode: 'window', residentShards: 2, batchesPerMove: 2 });
    const shardsSeen = new Set<number>();
    // One cycle over 6 shards moves the window 6 times, 2 batches per move.
    for (let i = 0; i < 14; i++) {
      expect(sampler.residentWindows().length).toBeLessThanOrEqual(2 * PER_SHARD);
      for (const c of codes((await sampler.next()).pose, 2)) shardsSeen.add(Math.floor(c / 1000));
    }
    expect(shardsSeen.size).toBe(SHARDS);
    // Each shard is loaded once per pass through the window, not once per batch.
    expect(loads.length).toBeLessThanOrEqual(SHARDS + 3);
  });

  it('refuses a damaged, missing or mislabelled shard with SHARD_CORRUPT', async () => {
    const good = await store.getBuffer(shards[0].key);
    const damaged = Buffer.from(good);
    damaged[damaged.length - 10] ^= 0xff;
    await store.put('speakers/x/samples/damaged', damaged, damaged.length);
    const mislabelled = encodeShard([window('d0', 1, 'dev')]);
    await store.put('speakers/x/samples/mislabelled', mislabelled, mislabelled.byteLength);
    const cases: [ShardRef, RegExp][] = [
      [{ key: 'speakers/x/samples/damaged', split: 'train', sampleCount: PER_SHARD }, /payload checksum/],
      [{ key: 'speakers/x/samples/absent', split: 'train', sampleCount: 1 }, /missing/],
      [{ key: 'speakers/x/samples/mislabelled', split: 'train', sampleCount: 1 }, /dev split/],
      [{ key: shards[0].key, split: 'train', sampleCount: PER_SHARD + 1 }, /database lists 5/],
    ];
    for (const [shard, message] of cases) {
      const opened = TrainingSampler.open({ store, shards: [shards[1], shard], stats, batchSize: 1, seed: 1 });
      await expect(opened).rejects.toMatchObject({ code: ErrorCode.SHARD_CORRUPT, message: expect.stringMatching(message) });
    }
  });
});

describe('SeededRng', () => {
  it('restarts from its state', () => {
    const a = new SeededRng(42);
    for (let i = 0; i < 5; i++) a.next();
    const b = new SeededRng(0);
    b.state = a.state;
    expect(Array.from({ length: 5 }, () => b.next())).toEqual(Array.from({ length: 5 }, () => a.next()));
    expect(() => (b.state = -1)).toThrow(RangeError);
  });
});
