/**
 * A small world for the service tests: real Postgres, NATS and S3 (s3rver), a synthetic speaker
 * with statistics, a stored source video, a shard of windows, and a tiny model trained for a few
 * steps and saved as a real checkpoint.
 */
import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { cropOrPad, encodeWav, logMel, SAMPLE_RATE, WINDOW_AUDIO_SAMPLES, WINDOW_FRAMES } from '@s2g/audio';
import type { AnyEvent, EventName, Payload } from '@s2g/contracts';
import { encodeShard, generateSyntheticSpeaker, planSyntheticSpeaker, synthesizeVideo, type WindowSample } from '@s2g/dataset';
import { createDataSource, Database, migrate } from '@s2g/db';
import { mediaBinaries } from '@s2g/media';
import { BusNames, connectBus, type EventBus } from '@s2g/messaging';
import { createTrainer, initBackend } from '@s2g/model';
import { computeSpeakerStats, FRAME_VALUES, normalize, POSE_FPS, scaleFactor, shoulderWidth, type SpeakerStats } from '@s2g/pose';
import { createLogger } from '@s2g/service';
import { createObjectStore, type ObjectStore, StorageKeys } from '@s2g/storage';
import { type TempDir, tempDir, testNats, type TestNats, testPostgres, type TestPostgres, testS3, type TestS3 } from '@s2g/testing';
import type { DataSource } from 'typeorm';

export const logger = createLogger({ name: 'prediction-test', level: 'silent' });

export interface World {
  db: Database;
  store: ObjectStore;
  tmp: TempDir;
  natsUrl: string;
  namespace: string;
  /** A bus per simulated process. */
  connectBus(name: string): Promise<EventBus>;
  speaker: { id: string; name: string; displayName: string; stats: SpeakerStats };
  /** A run whose best checkpoint is a tiny model trained for 3 steps; `periodicId` is its step-2 checkpoint. */
  run: { id: string; bestId: string; periodicId: string };
  /** A run that has no checkpoint. */
  emptyRunId: string;
  /** Two stored windows of the speaker's video (the first starts at `sampleStart` seconds). */
  samples: { id: string; pose: Float32Array; audio: Float32Array; startSeconds: number }[];
  /** 15 s of the speaker's speech, 16 kHz. */
  speech: Float32Array;
  close(): Promise<void>;
}

/** Writes `wave` as 16 kHz WAV, then encodes it with the shipped ffmpeg to `file` (the codec follows the extension). */
export async function encodeAudioFile(wave: Float32Array, file: string, dir: string): Promise<Buffer> {
  const wav = join(dir, `${Date.now()}-${Math.random().toString(36).slice(2)}.wav`);
  await writeFile(wav, encodeWav(wave, SAMPLE_RATE));
  const codec = file.endsWith('.mp3') ? ['-c:a', 'libmp3lame', '-b:a', '64k'] : ['-c:a', 'aac', '-b:a', '64k'];
  await promisify(execFile)(mediaBinaries().ffmpeg, ['-hide_banner', '-loglevel', 'error', '-y', '-i', wav, ...codec, file]);
  return readFile(file);
}

/** Windows of `poses`/`audio` starting at the given pose frames, cut as ingest cuts them. */
function windowsAt(starts: number[], poses: Float32Array, audio: Float32Array, video: string, intervalId: string): WindowSample[] {
  return starts.map((s) => {
    const a = Math.round((s / POSE_FPS) * SAMPLE_RATE);
    return {
      id: `${video}/${intervalId}/${s}`,
      speaker: 'synth',
      video,
      intervalId,
      split: 'train' as const,
      startTime: s / POSE_FPS,
      endTime: (s + WINDOW_FRAMES - 1) / POSE_FPS,
      pose: poses.slice(s * FRAME_VALUES, (s + WINDOW_FRAMES) * FRAME_VALUES),
      audio: cropOrPad(audio.subarray(a), WINDOW_AUDIO_SAMPLES),
    };
  });
}

export async function createWorld(): Promise<World> {
  const cleanups: (() => Promise<unknown>)[] = [];
  const close = async () => {
    for (const fn of cleanups.reverse()) await fn().catch(() => undefined);
  };
  try {
    await initBackend('wasm', { logger: { info: () => undefined } });
    const tmp = await tempDir('prediction');
    cleanups.push(() => tmp.cleanup());
    const pg: TestPostgres = await testPostgres();
    cleanups.push(() => pg.stop());
    const dataSource: DataSource = createDataSource(await pg.createDatabase('prediction'));
    await dataSource.initialize();
    cleanups.push(() => dataSource.destroy());
    await migrate(dataSource);
    const db = Database.of(dataSource);
    const s3: TestS3 = await testS3();
    cleanups.push(() => s3.stop());
    const store = createObjectStore({ driver: 's3', url: s3.url });
    await store.ensureReady();
    const nats: TestNats = await testNats();
    cleanups.push(() => nats.stop());
    const namespace = `pred${process.pid}x${Date.now().toString(36)}`;
    cleanups.push(async () => {
      const nc = await connect({ servers: nats.url });
      const jsm = await jetstreamManager(nc);
      const names = new BusNames(namespace);
      for (const kind of ['COMMANDS', 'EVENTS', 'DLQ'] as const) await jsm.streams.delete(names.stream(kind)).catch(() => false);
      await nc.close();
    });
    const buses: EventBus[] = [];
    cleanups.push(async () => {
      for (const bus of buses) await bus.close({ timeoutMs: 2000 });
    });

    // The speaker: synthetic speech and gestures, its source video, statistics from its poses.
    const generated = await generateSyntheticSpeaker({ seed: 11, name: 'synth', minutes: 0.25, outDir: join(tmp.path, 'synth') });
    const plan = planSyntheticSpeaker({ seed: 11, name: 'synth', minutes: 0.25 });
    const video = synthesizeVideo(plan, 0);
    const stats = computeSpeakerStats(video.poses);
    const speakerRow = await db.speakers.create({ name: 'synth', displayName: 'Synthetic Speaker' });
    await db.speakers.setNormalisation(speakerRow.id, {
      poseMean: Array.from(stats.mean),
      poseStd: Array.from(stats.std),
      scaleFactor: scaleFactor(stats),
      shoulderWidth: shoulderWidth(stats),
    });

    const videoRow = await db.videos.upsert({ speakerId: speakerRow.id, name: video.name, durationSeconds: video.duration, fps: POSE_FPS, width: 160, height: 90, frameCount: video.frameCount });
    const sourceKey = StorageKeys.video(speakerRow.id, videoRow.id, 'source.mp4');
    const mp4 = await readFile(generated.videos[0].videoPath ?? '');
    await store.put(sourceKey, mp4, mp4.length, { contentType: 'video/mp4' });
    await db.videos.update(videoRow.id, { sourceKey });
    const [interval] = await db.intervals.upsertMany([{ videoId: videoRow.id, externalId: 'all', startSeconds: 0, endSeconds: video.duration, split: 'train' }]);

    const windows = windowsAt([30, 100], video.poses, video.audio, video.name, 'all');
    const shardKey = StorageKeys.shard(speakerRow.id, 'train-000000');
    const shard = encodeShard(windows);
    await store.put(shardKey, shard, shard.length);
    await db.shards.create({ speakerId: speakerRow.id, split: 'train', key: shardKey, sampleCount: windows.length, byteSize: shard.length });
    await db.samples.insertMany(
      windows.map((w, i) => ({ speakerId: speakerRow.id, intervalId: interval.id, split: 'train' as const, startSeconds: w.startTime, endSeconds: w.endTime, startFrame: 30 + 70 * i, shardKey, shardIndex: i })),
    );
    const sampleRows = (await db.samples.list(speakerRow.id)).edges.map((e) => e.node).sort((a, b) => a.shardIndex - b.shardIndex);

    // The model: a tiny generator trained for a few steps on these windows, saved at steps 2 and 3.
    const runRow = await db.trainingRuns.create({ speakerId: speakerRow.id, preset: 'tiny', config: { preset: 'tiny' } });
    const emptyRun = await db.trainingRuns.create({ speakerId: speakerRow.id, preset: 'tiny', config: { preset: 'tiny' } });
    const batch = {
      audio: Float32Array.from(windows.flatMap((w) => Array.from(logMel(w.audio).data))),
      pose: Float32Array.from(windows.flatMap((w) => Array.from(normalize(w.pose, stats)))),
    };
    const trainer = createTrainer({ preset: 'tiny', seed: 5, learningRate: 1e-3 });
    let periodicId = '';
    let bestId = '';
    try {
      for (let step = 1; step <= 3; step++) {
        await trainer.trainStep(batch, batch);
        if (step < 2) continue;
        const prefix = StorageKeys.checkpointPrefix(runRow.id, step);
        await trainer.save(store, prefix);
        const row = await db.checkpoints.create({ runId: runRow.id, step, kind: step === 3 ? 'best' : 'periodic', storagePrefix: prefix, validationLoss: step === 3 ? 0.5 : null });
        if (step === 3) bestId = row.id;
        else periodicId = row.id;
      }
    } finally {
      trainer.dispose();
    }

    return {
      db,
      store,
      tmp,
      natsUrl: nats.url,
      namespace,
      async connectBus(name: string) {
        const bus = await connectBus({ nats: { servers: [nats.url], namespace }, name });
        buses.push(bus);
        return bus;
      },
      speaker: { id: speakerRow.id, name: 'synth', displayName: 'Synthetic Speaker', stats },
      run: { id: runRow.id, bestId, periodicId },
      emptyRunId: emptyRun.id,
      samples: sampleRows.map((row, i) => ({ id: row.id, pose: windows[i].pose, audio: windows[i].audio, startSeconds: row.startSeconds })),
      speech: video.audio,
      close,
    };
  } catch (e) {
    await close();
    throw e;
  }
}

/** Collects events from the bus and waits for the one a test expects. */
export class EventLog {
  readonly events: AnyEvent[] = [];

  static async listen(bus: EventBus): Promise<EventLog> {
    const log = new EventLog();
    await bus.subscribeEvents('s2g.inference.*', (event) => void log.events.push(event));
    await bus.subscribeEvents('s2g.render.*', (event) => void log.events.push(event));
    return log;
  }

  async waitFor<N extends EventName>(name: N, match: (payload: Payload<N>) => boolean, timeoutMs = 60_000): Promise<Payload<N>> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.events.find((e) => e.name === name && match(e.payload as Payload<N>));
      if (found) return found.payload as Payload<N>;
      if (Date.now() > deadline) throw new Error(`no ${name} event within ${timeoutMs} ms; got ${JSON.stringify(this.events.map((e) => e.name))}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}
