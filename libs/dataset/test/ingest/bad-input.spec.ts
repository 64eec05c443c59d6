/**
 * Bad input over real Postgres, S3 and NATS: each problem is a coded error naming the file; other
 * files of the job go on where they can; a failed job leaves no rows and no objects; and a bad job
 * does not hold up the next one in the queue.
 */
import { randomUUID } from 'node:crypto';
import { cp, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode, type IngestLayout, type IngestSource } from '@s2g/contracts';
import { ingestCommandHandler, type IngestRequestInput, runIngest } from '../../src/index';
import { tempFolder } from '../temp';
import { expectS2g, npzFolder, openPoseFolder, synthetic, zipFolder } from './datasets';
import { EventLog, failingOnShard, speakerObjects, speakerRows, startWorld, total, upload, type World } from './world';

let world: World;
let dir: string;
/** Two videos (synth_00, synth_01) of synthetic speaker, audio only. */
let twoVideos: string;

beforeAll(async () => {
  dir = await tempFolder('ingest-bad');
  world = await startWorld('ingest_bad');
  twoVideos = await synthetic(join(dir, 'two'), { seed: 11, name: 'synth', minutes: 2.5 });
});

afterAll(async () => {
  await world?.stop();
});

function deps(): { db: World['db']; store: World['store'] } {
  return { db: world.db, store: world.store };
}

async function variant(name: string, change: (root: string) => Promise<void>): Promise<string> {
  const root = join(dir, name);
  await cp(twoVideos, root, { recursive: true });
  await change(root);
  return root;
}

function job(speakerId: string, layout: IngestLayout, source: IngestSource, options: IngestRequestInput['options'] = {}): IngestRequestInput {
  return { jobId: randomUUID(), speakerId, layout, source, options };
}

/** Runs a job that must fail; checks the coded error, the failed record and that nothing was left. */
async function expectFailure(request: IngestRequestInput, code: string, names: RegExp): Promise<void> {
  const error = await runIngest(request, deps()).then(
    () => null,
    (e: unknown) => e as { code?: string; message?: string },
  );
  expect(error, 'the job should have failed').not.toBeNull();
  expect(error?.code, error?.message).toBe(code);
  expect(error?.message).toMatch(names);
  const row = await world.db.ingestJobs.getById(request.jobId);
  expect(row).toMatchObject({ status: 'failed', errorCode: code });
  expect(row.errorMessage).toMatch(names);
  const sp = await world.db.speakers.findById(request.speakerId);
  if (sp) {
    expect(await speakerRows(world.db, sp.id)).toEqual({ videos: 0, intervals: 0, samples: { train: 0, dev: 0, test: 0 }, shards: 0, shardSamples: 0 });
    expect(await speakerObjects(world.store, sp.id)).toEqual([]);
  }
}

async function speaker(name: string): Promise<string> {
  return (await world.db.speakers.findOrCreate({ name })).id;
}

describe('per-file problems: reported, and the rest of the job goes on', () => {
  it('imports the other video when one audio file is corrupt, naming the bad file', async () => {
    const root = await variant('one-corrupt', (r) => writeFile(join(r, 'synth', 'audio', 'synth_01.wav'), 'RIFF not really a wave file'));
    const speakerId = await speaker('corrupt-one');
    const summary = await runIngest(job(speakerId, 's2g', { kind: 'path', path: root }, { sourceSpeaker: 'synth' }), deps());
    expect(summary.videos).toBe(1);
    expect(summary.issues).toEqual([{ code: ErrorCode.MEDIA_UNREADABLE, file: join(root, 'synth', 'audio', 'synth_01.wav'), message: expect.stringContaining('synth_01.wav') }]);
    const [video] = await world.db.videos.listBySpeaker(speakerId);
    expect(video.name).toBe('synth_00.mp4');
    expect(total((await speakerRows(world.db, speakerId)).samples)).toBe(total(summary.samples));
  });

  it('skips keypoint files of the wrong shape or with NaN, naming each, and cuts around them', async () => {
    const full = await expectS2g(twoVideos, 'synth');
    let bad: string[] = [];
    const root = await variant('bad-keypoints', async (r) => {
      const folder = join(r, 'synth', 'keypoints_simple', 'synth_00');
      const files = (await readdir(folder)).sort();
      bad = [join(folder, files[40]), join(folder, files[41])];
      await writeFile(bad[0], '1 2 3\n4 5 6\n');
      await writeFile(bad[1], `${Array(49).fill('nan').join(' ')}\n${Array(49).fill('1').join(' ')}\n`);
    });
    const speakerId = await speaker('bad-keypoints');
    const summary = await runIngest(job(speakerId, 's2g', { kind: 'path', path: root }, { sourceSpeaker: 'synth' }), deps());
    expect(summary.issues.map((i) => [i.code, i.file])).toEqual([
      [ErrorCode.KEYPOINTS_INVALID, bad[0]],
      [ErrorCode.KEYPOINTS_INVALID, bad[1]],
    ]);
    for (const [i, issue] of summary.issues.entries()) expect(issue.message.startsWith(bad[i])).toBe(true);
    expect(summary.videos).toBe(2);
    // Two missing frames break their interval in two: the windows across the hole are lost.
    expect(total(summary.samples)).toBeLessThan(total(full.samples));
    expect(total(summary.samples)).toBeGreaterThan(total(full.samples) - 14);
  });
});

describe('jobs that cannot import anything fail with a coded error naming the file, and leave nothing', () => {
  it('corrupt media', async () => {
    const root = await variant('all-corrupt', async (r) => {
      for (const f of ['synth_00.wav', 'synth_01.wav']) await writeFile(join(r, 'synth', 'audio', f), Buffer.alloc(5000, 7));
    });
    await expectFailure(job(await speaker('corrupt-all'), 's2g', { kind: 'path', path: root }, { sourceSpeaker: 'synth' }), ErrorCode.MEDIA_UNREADABLE, /synth_00\.wav/);
  });

  it('audio shorter than its keypoints', async () => {
    const root = await openPoseFolder(join(dir, 'short'), 'pats', 3);
    await expectFailure(job(await speaker('short-audio'), 'openpose', { kind: 'path', path: root }, { keypointFps: 15 }), ErrorCode.AUDIO_TOO_SHORT, /pats\.wav: the audio lasts 3\.00 s but its keypoints run to 7\.20 s/);
  });

  it('keypoint files of the wrong shape or with NaN, when they are all there is', async () => {
    const root = await npzFolder(join(dir, 'npz-bad'), 'pats', [
      { interval: 'a', split: 'train', start: 0, poison: 'shape' },
      { interval: 'a', split: 'train', start: 5, poison: 'nan' },
    ]);
    await expectFailure(job(await speaker('npz-bad'), 'npz', { kind: 'path', path: root }, { sourceSpeaker: 'pats' }), ErrorCode.KEYPOINTS_INVALID, /a-0\.npz: pose has shape \(60, 2, 49\)/);
  });

  it('an unknown speaker', async () => {
    const request = job(randomUUID(), 's2g', { kind: 'path', path: twoVideos });
    await expectFailure(request, ErrorCode.SPEAKER_UNKNOWN, new RegExp(`speaker ${request.speakerId} does not exist`));
    expect((await world.db.ingestJobs.getById(request.jobId)).speakerId).toBeNull();
  });

  it('a speaker the dataset does not have', async () => {
    await expectFailure(job(await speaker('not-in-csv'), 's2g', { kind: 'path', path: twoVideos }), ErrorCode.SPEAKER_UNKNOWN, /frames\.csv.*no rows for speaker 'not-in-csv' \(speakers present: synth\)/);
  });

  it('missing files: the source, an upload, the media of every video', async () => {
    await expectFailure(job(await speaker('missing'), 's2g', { kind: 'path', path: join(dir, 'nowhere') }), ErrorCode.FILE_MISSING, /nowhere: no such file or folder/);
    await expectFailure(job(await speaker('missing'), 's2g', { kind: 'object', prefix: `uploads/${randomUUID()}/` }), ErrorCode.FILE_MISSING, /no objects under this prefix/);
    const root = await variant('no-media', (r) => rm(join(r, 'synth', 'audio'), { recursive: true }));
    await expectFailure(job(await speaker('missing'), 's2g', { kind: 'path', path: root }, { sourceSpeaker: 'synth' }), ErrorCode.FILE_MISSING, /synth\/videos\/synth_00\.mp4: video 'synth_00\.mp4' not found/);
  });

  it('names files of an uploaded archive by its key and member', async () => {
    const root = await variant('upload-corrupt', async (r) => {
      for (const f of ['synth_00.wav', 'synth_01.wav']) await writeFile(join(r, 'synth', 'audio', f), Buffer.alloc(5000, 7));
    });
    const archive = join(dir, 'upload-corrupt.zip');
    await writeFile(archive, await zipFolder(root, 'dataset'));
    const prefix = await upload(world.store, archive);
    await expectFailure(
      job(await speaker('upload-corrupt'), 's2g', { kind: 'object', prefix }, { sourceSpeaker: 'synth' }),
      ErrorCode.MEDIA_UNREADABLE,
      new RegExp(`${prefix}upload-corrupt\\.zip:synth/audio/synth_00\\.wav: cannot read media`),
    );
  });
});

describe('through the bus', () => {
  it('records bad jobs as failed without redelivering them, and goes on with the next job', async () => {
    const bus = await world.bus();
    const events = await EventLog.on(bus);
    const handler = ingestCommandHandler({ db: world.db, store: world.store, bus }, { backoffMs: [100] });
    await bus.consumeCommands('s2g.ingest.requested', 'ingest', handler.handle, handler.options);
    const corrupt = await variant('queue-corrupt', async (r) => {
      for (const f of ['synth_00.wav', 'synth_01.wav']) await writeFile(join(r, 'synth', 'audio', f), Buffer.alloc(5000, 7));
    });
    const good = await synthetic(join(dir, 'queue-good'), { seed: 2, name: 'synth', minutes: 0.5 });
    const sid = await speaker('queue');
    const jobs = [
      job(randomUUID(), 's2g', { kind: 'path', path: good }),
      job(sid, 's2g', { kind: 'path', path: corrupt }, { sourceSpeaker: 'synth' }),
      job(sid, 's2g', { kind: 'path', path: good }, { sourceSpeaker: 'synth' }),
    ];
    for (const j of jobs) await bus.publishCommand('s2g.ingest.requested', j);
    const ends = [];
    for (const j of jobs) ends.push(await events.end(j.jobId));
    expect(ends.map((e) => [e.name, e.payload.error?.code])).toEqual([
      ['s2g.ingest.failed', ErrorCode.SPEAKER_UNKNOWN],
      ['s2g.ingest.failed', ErrorCode.MEDIA_UNREADABLE],
      ['s2g.ingest.completed', undefined],
    ]);
    for (const j of jobs.slice(0, 2)) expect(await world.db.ingestJobs.getById(j.jobId)).toMatchObject({ status: 'failed', attempts: expect.any(Number) });
    expect((await world.db.ingestJobs.getById(jobs[1].jobId)).attempts).toBe(1);
    const want = await expectS2g(good, 'synth');
    expect((await speakerRows(world.db, sid)).samples).toEqual(want.samples);
  });

  it('marks a job failed and removes its objects once the bus gives up on it', async () => {
    const bus = await world.bus();
    const events = await EventLog.on(bus);
    const broken = failingOnShard(world.store, 1);
    const alwaysBroken = { ...broken, put: async (...args: Parameters<typeof broken.put>) => (args[0].endsWith('.s2gshard') ? Promise.reject(new Error('disk on fire')) : world.store.put(...args)) };
    const handler = ingestCommandHandler({ db: world.db, store: alwaysBroken, bus }, { backoffMs: [50], maxDeliver: 2 });
    await bus.consumeCommands('s2g.ingest.requested', 'ingest', handler.handle, handler.options);
    const sid = await speaker('doomed');
    const request = job(sid, 's2g', { kind: 'path', path: twoVideos }, { sourceSpeaker: 'synth' });
    await bus.publishCommand('s2g.ingest.requested', request);
    const end = await events.end(request.jobId);
    expect(end.name).toBe('s2g.ingest.failed');
    expect(end.payload.error).toEqual({ code: ErrorCode.INTERNAL, message: expect.stringMatching(/gave up after 2 deliveries: disk on fire/) });
    expect(await world.db.ingestJobs.getById(request.jobId)).toMatchObject({ status: 'failed', attempts: 2, errorCode: ErrorCode.INTERNAL });
    expect(await speakerObjects(world.store, sid)).toEqual([]);
    expect(total((await speakerRows(world.db, sid)).samples)).toBe(0);
  });
});
