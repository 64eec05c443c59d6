/**
 * Ingest end to end over real Postgres, an S3 server and NATS JetStream: each layout imported, the
 * counts, splits and statistics checked against what the data says, and the all-or-nothing and
 * idempotency guarantees.
 */
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { zipSync } from 'fflate';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeWav } from '@s2g/audio';
import type { Split } from '@s2g/contracts';
import { FRAME_VALUES, NECK, NUM_KEYPOINTS, REFERENCE_SHOULDER_WIDTH, type SpeakerStats } from '@s2g/pose';
import { StorageKeys } from '@s2g/storage';
import { assignSplit, decodeShard, ingestCommandHandler, type IngestProgress, type IngestSummary, runIngest, windowCount } from '../../src/index';
import { tempFolder } from '../temp';
import { expectS2g, npzFolder, openPoseFolder, patsFrames, statsOf, synthetic, zipFolder } from './datasets';
import { EventLog, failingOnShard, speakerObjects, speakerRows, startWorld, total, upload, type World } from './world';

let world: World;
let dir: string;
/** One minute of synthetic speaker with its rendered video, in layout 1. */
let synthRoot: string;

beforeAll(async () => {
  dir = await tempFolder('ingest');
  world = await startWorld('ingest');
  synthRoot = await synthetic(join(dir, 'synth'), { seed: 7, name: 'synth', minutes: 1, video: true });
});

afterAll(async () => {
  await world?.stop();
});

/** Deps of a direct call: no bus. */
function deps(): { db: World['db']; store: World['store'] } {
  return { db: world.db, store: world.store };
}

async function speaker(name: string): Promise<string> {
  return (await world.db.speakers.findOrCreate({ name })).id;
}

/** What the gateway does before publishing: a queued job row. */
async function queuedJob(speakerId: string, layout: 's2g' | 'openpose' | 'npz' | 'synthetic', source: string): Promise<string> {
  const id = randomUUID();
  const sp = await world.db.speakers.getById(speakerId);
  await world.db.ingestJobs.create({ id, speakerId, speakerName: sp.name, layout, source });
  return id;
}

function expectStats(poseMean: number[] | null, poseStd: number[] | null, want: SpeakerStats, tolerance: number): void {
  expect(poseMean).toHaveLength(FRAME_VALUES);
  expect(poseStd).toHaveLength(FRAME_VALUES);
  const mean = poseMean as number[];
  const std = poseStd as number[];
  // The neck is the origin: exactly zero mean and spread.
  for (const v of [NECK, NUM_KEYPOINTS + NECK]) {
    expect(mean[v]).toBe(0);
    expect(std[v]).toBe(0);
  }
  for (let v = 0; v < FRAME_VALUES; v++) {
    expect(Math.abs(mean[v] - want.mean[v])).toBeLessThan(tolerance);
    expect(Math.abs(std[v] - want.std[v])).toBeLessThan(tolerance);
  }
}

describe('layout 1: a synthetic speaker uploaded to S3, imported through the bus', () => {
  let speakerId: string;
  let jobId: string;
  let prefix: string;
  let events: EventLog;
  let summary: IngestSummary;

  beforeAll(async () => {
    speakerId = await speaker('synth');
    prefix = await upload(world.store, synthRoot);
    jobId = await queuedJob(speakerId, 's2g', prefix);
    const bus = await world.bus();
    events = await EventLog.on(bus);
    const { store, db } = world;
    await bus.consumeCommands('s2g.ingest.requested', 'ingest', ingestCommandHandler({ db, store, bus }, { progressIntervalMs: 50 }).handle);
    await bus.publishCommand('s2g.ingest.requested', { jobId, speakerId, layout: 's2g', source: { kind: 'object', prefix } });
    const end = await events.end(jobId);
    expect(end.name, JSON.stringify(end.payload)).toBe('s2g.ingest.completed');
    summary = (await world.db.ingestJobs.getById(jobId)).summary as unknown as IngestSummary;
  });

  it('cuts every 64-frame window at stride 5 inside the intervals, with the dataset splits or the deterministic ones', async () => {
    const want = await expectS2g(synthRoot, 'synth');
    expect(total(want.samples)).toBeGreaterThan(20);
    const rows = await speakerRows(world.db, speakerId);
    expect(rows.samples).toEqual(want.samples);
    expect(rows).toMatchObject({ videos: 1, intervals: want.intervals, shardSamples: total(want.samples) });
    expect(summary.samples).toEqual(want.samples);
    const end = events.of('s2g.ingest.completed', jobId)[0];
    expect(end).toMatchObject({ speakerId, videos: 1, samples: want.samples, intervals: want.intervals, issueCount: 0 });
    expect(end.hours).toBeGreaterThan(0.01);
    expect(end.sourceHours).toBeCloseTo(1 / 60, 2);
    const job = await world.db.ingestJobs.getById(jobId);
    expect(job).toMatchObject({ status: 'completed', attempts: 1, errorCode: null });
  });

  it("computes the speaker's normalisation over its training frames, neck at zero", async () => {
    const want = (await expectS2g(synthRoot, 'synth')).stats as SpeakerStats;
    const sp = await world.db.speakers.getById(speakerId);
    expectStats(sp.poseMean, sp.poseStd, want, 1e-6);
    expect(sp.shoulderWidth).toBeCloseTo(want.mean[4] - want.mean[1], 6);
    expect(sp.scaleFactor).toBeCloseTo(REFERENCE_SHOULDER_WIDTH / (sp.shoulderWidth as number), 9);
    expect(sp.hours).toBeCloseTo(summary.hours, 9);
  });

  it('stores shards whose windows are the rows, and the 16 kHz audio and source video under the video', async () => {
    const shards = await world.db.shards.listBySpeaker(speakerId);
    const first = await world.db.samples.listByShard(shards[0].key);
    const decoded = decodeShard(await world.store.getBuffer(shards[0].key), shards[0].key);
    expect(decoded.samples).toHaveLength(shards[0].sampleCount);
    expect(first.map((s) => s.startSeconds)).toEqual(decoded.samples.map((s) => s.startTime));
    expect(new Set(decoded.samples.map((s) => s.split))).toEqual(new Set([shards[0].split]));
    expect(shards[0].key).toBe(StorageKeys.shard(speakerId, `${jobId}-00000.s2gshard`));
    const [video] = await world.db.videos.listBySpeaker(speakerId);
    expect(video).toMatchObject({ name: 'synth_00.mp4', width: 160, height: 90, fps: 15 });
    expect(video.audioKey).toBe(StorageKeys.video(speakerId, video.id, `${jobId}/audio.wav`));
    const wav = decodeWav(await world.store.getBuffer(video.audioKey as string));
    expect(wav.sampleRate).toBe(16_000);
    expect(wav.channels).toHaveLength(1);
    expect(wav.channels[0].length / 16_000).toBeCloseTo(60, 0);
    expect((await world.store.stat(video.sourceKey as string))?.size).toBeGreaterThan(10_000);
    // Nothing else is stored for the speaker.
    expect((await speakerObjects(world.store, speakerId)).sort()).toEqual([...shards.map((s) => s.key), video.audioKey, video.sourceKey].sort());
  });

  it('reported progress while it ran, counting up to the totals', async () => {
    const progress = events.of('s2g.ingest.progress', jobId);
    expect(progress.length).toBeGreaterThan(2);
    const last = progress[progress.length - 1];
    expect(last.samples).toBe(total(summary.samples));
    expect(last.frames).toBe(summary.frames);
    expect(last.bytes).toBeGreaterThan(1_000_000);
    for (const stage of ['reading', 'extracting', 'cutting', 'finishing']) expect(progress.map((p) => p.stage)).toContain(stage);
    for (let i = 1; i < progress.length; i++) expect(progress[i].samples).toBeGreaterThanOrEqual(progress[i - 1].samples);
  });

  it('adds nothing when the same job runs again, or the same data comes in a new job', async () => {
    const before = await speakerRows(world.db, speakerId);
    const objects = await speakerObjects(world.store, speakerId);
    const again = await runIngest({ jobId, speakerId, layout: 's2g', source: { kind: 'object', prefix } }, deps());
    expect(again).toMatchObject({ alreadyCompleted: true, samples: summary.samples });
    const second = await runIngest({ jobId: randomUUID(), speakerId, layout: 's2g', source: { kind: 'object', prefix } }, deps());
    expect(second).toMatchObject({ videos: 0, unchangedVideos: 1, samples: { train: 0, dev: 0, test: 0 }, shards: 0 });
    expect(await speakerRows(world.db, speakerId)).toEqual(before);
    expect((await speakerObjects(world.store, speakerId)).sort()).toEqual(objects.sort());
    const want = (await expectS2g(synthRoot, 'synth')).stats as SpeakerStats;
    const sp = await world.db.speakers.getById(speakerId);
    expectStats(sp.poseMean, sp.poseStd, want, 1e-6);
  });
});

describe('all or nothing', () => {
  it('leaves no rows and no objects when it fails after writing shards, and completes when run again', async () => {
    const speakerId = await speaker('synth-fail');
    const jobId = randomUUID();
    const job = { jobId, speakerId, layout: 's2g' as const, source: { kind: 'path' as const, path: synthRoot }, options: { sourceSpeaker: 'synth' } };
    const broken = failingOnShard(world.store, 3);
    // Small shards, so several are written before the third one fails.
    await expect(runIngest(job, { ...deps(), store: broken }, { shardMaxBytes: 2 << 20, recordFailure: () => false })).rejects.toThrow(/injected failure/);
    expect(broken.shardPuts).toBe(3);
    expect(await speakerRows(world.db, speakerId)).toEqual({ videos: 0, intervals: 0, samples: { train: 0, dev: 0, test: 0 }, shards: 0, shardSamples: 0 });
    expect(await speakerObjects(world.store, speakerId)).toEqual([]);
    expect(await world.db.ingestJobs.getById(jobId)).toMatchObject({ status: 'running', attempts: 1 });
    const sp = await world.db.speakers.getById(speakerId);
    expect(sp.poseMean).toBeNull();

    // The redelivered command: same job, same keys, nothing doubled.
    const done = await runIngest(job, deps(), { shardMaxBytes: 2 << 20 });
    const want = await expectS2g(synthRoot, 'synth');
    expect(done.samples).toEqual(want.samples);
    expect(done.shards).toBeGreaterThan(3);
    const rows = await speakerRows(world.db, speakerId);
    expect(rows).toMatchObject({ samples: want.samples, shards: done.shards, shardSamples: total(want.samples) });
    expect(await world.db.ingestJobs.getById(jobId)).toMatchObject({ status: 'completed', attempts: 2 });
    expect((await speakerObjects(world.store, speakerId)).filter((k) => k.endsWith('.s2gshard'))).toHaveLength(done.shards);
  });

  it('redelivers a job that failed unexpectedly and completes it, through the bus', async () => {
    const speakerId = await speaker('synth-redeliver');
    // One archive: each attempt downloads the upload again, and one object is quicker than 800.
    await writeFile(join(dir, 'synth.zip'), await zipFolder(synthRoot, 'synth-dataset'));
    const prefix = await upload(world.store, join(dir, 'synth.zip'));
    const jobId = await queuedJob(speakerId, 's2g', prefix);
    const bus = await world.bus();
    const events = await EventLog.on(bus);
    const broken = failingOnShard(world.store, 1);
    const handler = ingestCommandHandler({ db: world.db, store: broken, bus }, { backoffMs: [100], maxDeliver: 3, shardMaxBytes: 4 << 20 });
    await bus.consumeCommands('s2g.ingest.requested', 'ingest', handler.handle, handler.options);
    await bus.publishCommand('s2g.ingest.requested', { jobId, speakerId, layout: 's2g', source: { kind: 'object', prefix }, options: { sourceSpeaker: 'synth' } });
    const end = await events.end(jobId);
    expect(end.name).toBe('s2g.ingest.completed');
    expect(events.of('s2g.ingest.failed', jobId)).toEqual([]);
    expect(await world.db.ingestJobs.getById(jobId)).toMatchObject({ status: 'completed', attempts: 2 });
    const want = await expectS2g(synthRoot, 'synth');
    expect((await speakerRows(world.db, speakerId)).samples).toEqual(want.samples);
  });
});

describe('layout 2: OpenPose JSON from the PATS fixture', () => {
  it('imports a zip upload of per-frame JSON and a wav: 109 frames, 10 windows, statistics of the real pose', async () => {
    const speakerId = await speaker('pats');
    const folder = await openPoseFolder(join(dir, 'openpose'), 'pats', 8);
    const files: Record<string, Uint8Array> = {};
    for (const name of await readdir(join(folder, 'pats'))) files[`dataset/pats/${name}`] = await readFile(join(folder, 'pats', name));
    files['dataset/pats.wav'] = await readFile(join(folder, 'pats.wav'));
    await writeFile(join(dir, 'pats.zip'), zipSync(files));
    const prefix = await upload(world.store, join(dir, 'pats.zip'));
    // A seed under which the one interval is for training, so the statistics are computed.
    const splitSeed = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9].find((s) => assignSplit('pats', 'pats', 'pats-0', s) === 'train') as number;
    const progress: IngestProgress[] = [];
    const summary = await runIngest(
      { jobId: randomUUID(), speakerId, layout: 'openpose', source: { kind: 'object', prefix }, options: { keypointFps: 15, splitSeed } },
      deps(),
      { onProgress: (p) => progress.push(p), progressIntervalMs: 0 },
    );
    const frames = await patsFrames();
    expect(summary).toMatchObject({ videos: 1, intervals: 1, frames: 109, samples: { train: windowCount(109), dev: 0, test: 0 }, issueCount: 0 });
    expect(windowCount(109)).toBe(10);
    const sp = await world.db.speakers.getById(speakerId);
    expectStats(sp.poseMean, sp.poseStd, statsOf(frames) as SpeakerStats, 1e-3);
    const [video] = await world.db.videos.listBySpeaker(speakerId);
    expect(video).toMatchObject({ name: 'pats', sourceKey: null, frameCount: 109, width: null });
    expect(video.durationSeconds).toBeCloseTo(8, 2);
    expect(progress.at(-1)).toMatchObject({ stage: 'finishing', files: 1, totalFiles: 1, samples: 10, frames: 109 });
  });
});

describe('layout 3: per-window npz files', () => {
  const windows = [
    ...[0, 5, 10, 15, 20].map((start) => ({ interval: 'p1', split: 'train' as const, start })),
    ...[25, 30, 35].map((start) => ({ interval: 'p2', split: 'dev' as const, start })),
    ...[40, 45].map((start) => ({ interval: 'p3', split: '' as const, start })),
  ];
  let root: string;

  beforeAll(async () => {
    root = await npzFolder(join(dir, 'npz'), 'pats', windows);
  });

  it('imports the windows with their splits and the statistics of the unique training frames', async () => {
    const speakerId = await speaker('pats-npz');
    const summary = await runIngest({ jobId: randomUUID(), speakerId, layout: 'npz', source: { kind: 'path', path: root }, options: { sourceSpeaker: 'pats' } }, deps());
    const p3 = assignSplit('pats', 'talk.mp4', 'p3');
    const want: Record<Split, number> = { train: 5, dev: 3, test: 0 };
    want[p3] += 2;
    expect(summary.samples).toEqual(want);
    expect((await speakerRows(world.db, speakerId)).samples).toEqual(want);
    expect(summary).toMatchObject({ videos: 1, intervals: 3, issueCount: 0 });
    // Frames are counted once per interval: p1's windows cover frames 0..83, p3's (when training) 40..108.
    const frames = await patsFrames();
    const train = [...frames.slice(0, 84), ...(p3 === 'train' ? frames.slice(40) : [])];
    const sp = await world.db.speakers.getById(speakerId);
    expectStats(sp.poseMean, sp.poseStd, statsOf(train) as SpeakerStats, 1e-3);
    expect(sp.poseMean?.[1]).not.toBe(0);
  });

  it('stops at maxSamples, and replaces the speaker data on request', async () => {
    const speakerId = await speaker('pats-npz-limit');
    const path = { kind: 'path' as const, path: root };
    const first = await runIngest({ jobId: randomUUID(), speakerId, layout: 'npz', source: path, options: { sourceSpeaker: 'pats', maxSamples: 3 } }, deps());
    expect(total(first.samples)).toBe(3);
    const oldShards = await world.db.shards.listBySpeaker(speakerId);
    const replaced = await runIngest({ jobId: randomUUID(), speakerId, layout: 'npz', source: path, options: { sourceSpeaker: 'pats', replace: true } }, deps());
    expect(total(replaced.samples)).toBe(10);
    expect(total((await speakerRows(world.db, speakerId)).samples)).toBe(10);
    for (const s of oldShards) expect(await world.store.stat(s.key)).toBeNull();
    const sp = await world.db.speakers.getById(speakerId);
    expect(replaced.normalisation?.frames).toBeGreaterThanOrEqual(84);
    expect(sp.poseMean).toHaveLength(FRAME_VALUES);
  });
});

describe('the synthetic layout', () => {
  it('generates a speaker from a seed and imports it like layout 1', async () => {
    const speakerId = await speaker('generated');
    const summary = await runIngest({ jobId: randomUUID(), speakerId, layout: 'synthetic', source: { kind: 'path', path: '-' }, options: { synthetic: { minutes: 0.5, seed: 3, video: false } } }, deps());
    const expectedRoot = await synthetic(join(dir, 'generated'), { seed: 3, name: 'generated', minutes: 0.5 });
    const want = await expectS2g(expectedRoot, 'generated');
    expect(summary.samples).toEqual(want.samples);
    const sp = await world.db.speakers.getById(speakerId);
    expectStats(sp.poseMean, sp.poseStd, want.stats as SpeakerStats, 1e-6);
  });
});
