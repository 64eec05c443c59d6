/**
 * Records and objects as the workers would have written them: a speaker with a video, intervals,
 * samples in a shard; a finished training run with metric history, checkpoints and evaluations; a
 * finished inference result and render with their files. Written through the same repositories.
 */
import type { Database } from '@s2g/db';
import { type ObjectStore, StorageKeys } from '@s2g/storage';

export interface SeededSpeaker {
  speakerId: string;
  videoId: string;
  sampleIds: { train: string[]; dev: string[]; test: string[] };
  audioBytes: Buffer;
}

export async function seedSpeaker(db: Database, store: ObjectStore, name: string): Promise<SeededSpeaker> {
  const speaker = await db.speakers.create({ name, displayName: name.toUpperCase() });
  const audioBytes = Buffer.from(`RIFF-fake-wav-of-${name}`);
  const video = await db.videos.upsert({ speakerId: speaker.id, name: `${name}-1.mp4`, durationSeconds: 60, fps: 15, width: 1280, height: 720, frameCount: 900 });
  const audioKey = StorageKeys.video(speaker.id, video.id, 'audio.wav');
  await store.put(audioKey, audioBytes);
  await db.videos.update(video.id, { audioKey });
  const intervals = await db.intervals.upsertMany([
    { videoId: video.id, externalId: 'i-train', startSeconds: 0, endSeconds: 30, split: 'train' },
    { videoId: video.id, externalId: 'i-dev', startSeconds: 30, endSeconds: 45, split: 'dev' },
    { videoId: video.id, externalId: 'i-test', startSeconds: 45, endSeconds: 60, split: 'test' },
  ]);
  const shardKey = StorageKeys.shard(speaker.id, 'train-000.bin');
  await db.shards.create({ speakerId: speaker.id, split: 'train', key: shardKey, sampleCount: 3, byteSize: 1000 });
  const rows = intervals.flatMap((interval) =>
    [0, 1, 2].slice(0, interval.split === 'train' ? 3 : 1).map((i) => ({
      speakerId: speaker.id,
      intervalId: interval.id,
      split: interval.split,
      startSeconds: interval.startSeconds + i * 4.2667,
      endSeconds: interval.startSeconds + (i + 1) * 4.2667,
      startFrame: i * 64,
      shardKey,
      shardIndex: i,
    })),
  );
  await db.samples.insertMany(rows);
  await db.speakers.setNormalisation(speaker.id, {
    poseMean: Array.from({ length: 98 }, (_, i) => i),
    poseStd: Array.from({ length: 98 }, () => 1),
    scaleFactor: 1.1,
    shoulderWidth: 120,
  });
  const listed = await db.samples.list(speaker.id, {}, { first: 100 });
  const ids = { train: [] as string[], dev: [] as string[], test: [] as string[] };
  for (const edge of listed.edges) ids[edge.node.split].push(edge.node.id);
  return { speakerId: speaker.id, videoId: video.id, sampleIds: ids, audioBytes };
}

export interface SeededRun {
  runId: string;
  bestCheckpointId: string;
  finalCheckpointId: string;
}

/** A completed run as the trainer leaves it. */
export async function seedCompletedRun(db: Database, speakerId: string): Promise<SeededRun> {
  const run = await db.trainingRuns.create({ speakerId, preset: 'tiny', config: { preset: 'tiny', iterations: 600, batchSize: 8 } });
  await db.trainingRuns.markRunning(run.id);
  await db.trainingRuns.setBackend(run.id, 'wasm', 'cpu');
  for (const step of [300, 600]) {
    await db.trainingRuns.appendMetric(run.id, { step, epoch: step / 300, phase: 'train', values: { lossG: 1 / step, lossD: 0.7, l1: 2 / step }, elapsedMs: step * 10 });
    await db.trainingRuns.appendMetric(run.id, { step, epoch: step / 300, phase: 'validation', values: { l1: 3 / step } });
  }
  await db.trainingRuns.markProgress(run.id, { step: 600, epoch: 2, progress: { totalSteps: 600, lossG: 0.01, lossD: 0.7, l1: 0.02, samplesPerSec: 80, etaSeconds: 0 } });
  const best = await db.checkpoints.create({ runId: run.id, step: 300, epoch: 1, kind: 'best', storagePrefix: StorageKeys.checkpointPrefix(run.id, 300), validationLoss: 0.4 });
  const final = await db.checkpoints.create({ runId: run.id, step: 600, epoch: 2, kind: 'final', storagePrefix: StorageKeys.checkpointPrefix(run.id, 600), validationLoss: 0.5 });
  await db.evaluations.create({ runId: run.id, checkpointId: best.id, step: 300, split: 'test', method: 'model', l1: 0.3, pck01: 0.4, pck02: 0.6, sampleCount: 3 });
  for (const [method, l1] of [['median', 0.9], ['random', 1.2], ['nearest', 0.8]] as const) {
    await db.evaluations.create({ runId: run.id, split: 'test', method, l1, pck01: 0.1, pck02: 0.2, sampleCount: 3 });
  }
  await db.trainingRuns.markCompleted(run.id);
  return { runId: run.id, bestCheckpointId: best.id, finalCheckpointId: final.id };
}

export interface SeededResult {
  resultId: string;
  renderId: string;
  poses: Buffer;
  video: Buffer;
}

/** A completed prediction with a completed render, files included. */
export async function seedCompletedResult(db: Database, store: ObjectStore, speakerId: string, runId: string): Promise<SeededResult> {
  const result = await db.inferenceResults.create({ speakerId, runId, input: { audio: { sampleId: 'x' } } });
  const poses = Buffer.from(JSON.stringify({ fps: 15, frames: [[0, 0]] }));
  const posesJsonKey = StorageKeys.result(result.id, 'poses.json');
  await store.put(posesJsonKey, poses);
  await store.put(StorageKeys.result(result.id, 'poses.bin'), Buffer.alloc(16));
  await db.inferenceResults.markRunning(result.id);
  await db.inferenceResults.markCompleted(result.id, { frameCount: 64, durationSeconds: 4.27, latencyMs: 120, backend: 'wasm', posesJsonKey, posesBinKey: StorageKeys.result(result.id, 'poses.bin') });
  const render = await db.renders.create({ resultId: result.id, width: 320, height: 240, fps: 15 });
  const video = Buffer.from('fake-mp4-bytes');
  await store.put(StorageKeys.render(render.id, 'video.mp4'), video);
  await store.put(StorageKeys.render(render.id, 'poster.png'), Buffer.from('png'));
  await db.renders.markRunning(render.id);
  await db.renders.markCompleted(render.id, { videoKey: StorageKeys.render(render.id, 'video.mp4'), posterKey: StorageKeys.render(render.id, 'poster.png') });
  return { resultId: result.id, renderId: render.id, poses, video };
}
