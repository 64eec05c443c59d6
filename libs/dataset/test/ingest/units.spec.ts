/** The pieces of ingest that need no services: moments, WAV access, archives, folder pairing, keys, errors. */
import { createWriteStream } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { zipSync } from 'fflate';
import { pack } from 'tar-stream';
import { describe, expect, it } from 'vitest';
import { encodeWav, WINDOW_AUDIO_SAMPLES, WINDOW_FRAMES } from '@s2g/audio';
import { ErrorCode, S2gError } from '@s2g/contracts';
import { FRAME_VALUES, NUM_KEYPOINTS } from '@s2g/pose';
import {
  discardJobObjects,
  encodeShard,
  extractArchive,
  isRetryableIngestError,
  JobKeys,
  PoseMoments,
  scanOpenPoseFolder,
  ShardBuilder,
  videoUuid,
  WavFile,
  type WindowSample,
} from '../../src/index';
import { tempFolder } from '../temp';
import { patsFrames, statsOf } from './datasets';

describe('PoseMoments', () => {
  it('gives the statistics computeSpeakerStats gives, whether frames come one by one or in merged parts', async () => {
    const frames = await patsFrames();
    const want = statsOf(frames);
    const whole = new PoseMoments();
    frames.forEach((f) => whole.add(f));
    const a = new PoseMoments();
    const b = new PoseMoments();
    frames.forEach((f, i) => (i < 40 ? a : b).add(f));
    const merged = PoseMoments.fromJSON(JSON.parse(JSON.stringify(a.toJSON())))?.merge(b) as PoseMoments;
    for (const m of [whole, merged]) {
      expect(m.frames).toBe(109);
      const std = m.std();
      for (let v = 0; v < FRAME_VALUES; v++) {
        expect(m.mean[v]).toBeCloseTo(want?.mean[v] as number, 8);
        expect(std[v]).toBeCloseTo(want?.std[v] as number, 8);
      }
      expect(m.mean[0]).toBe(0);
      expect(std[NUM_KEYPOINTS]).toBe(0);
    }
    const norm = whole.normalisation();
    expect(norm.shoulderWidth).toBeCloseTo((want?.mean[4] as number) - (want?.mean[1] as number), 8);
    expect(norm.poseMean).toHaveLength(98);
  });

  it('refuses to normalise without frames, or with the shoulders swapped', () => {
    expect(() => new PoseMoments().normalisation()).toThrow(expect.objectContaining({ code: ErrorCode.NO_TRAINING_DATA }));
    const mirrored = new PoseMoments();
    const frame = new Float64Array(FRAME_VALUES);
    frame[1] = 50;
    frame[4] = -50;
    mirrored.add(frame);
    expect(() => mirrored.normalisation()).toThrow(expect.objectContaining({ code: ErrorCode.KEYPOINTS_INVALID }));
    expect(PoseMoments.fromJSON({ frames: 1, mean: [1], m2: [] })).toBeNull();
  });
});

describe('WavFile', () => {
  it('reads any range of a 16-bit mono WAV, zeros outside it', async () => {
    const dir = await tempFolder('wav');
    const wave = Float32Array.from({ length: 1000 }, (_, i) => Math.round(Math.sin(i / 9) * 30000) / 32767);
    await writeFile(join(dir, 'a.wav'), encodeWav(wave, 16_000));
    const wav = await WavFile.open(join(dir, 'a.wav'));
    try {
      expect(wav.length).toBe(1000);
      expect(wav.durationSec).toBeCloseTo(1000 / 16_000, 9);
      const part = await wav.read(-5, 20);
      expect(Array.from(part.subarray(0, 5))).toEqual([0, 0, 0, 0, 0]);
      for (let i = 0; i < 15; i++) expect(Math.abs(part[5 + i] - wave[i])).toBeLessThanOrEqual(1 / 32767);
      const tail = await wav.read(990, 20);
      expect(Math.abs(tail[9] - wave[999])).toBeLessThanOrEqual(1 / 32767);
      expect(tail[10]).toBe(0);
    } finally {
      await wav.close();
    }
    await writeFile(join(dir, 'stereo.wav'), encodeWav([wave, wave], 16_000));
    await expect(WavFile.open(join(dir, 'stereo.wav'))).rejects.toMatchObject({ code: ErrorCode.MEDIA_UNREADABLE, message: expect.stringContaining('2 channel(s)') });
  });
});

describe('extractArchive', () => {
  it('unpacks zip and tar.gz, skipping packaging debris', async () => {
    const dir = await tempFolder('archive');
    const text = new TextEncoder().encode('hello');
    await writeFile(join(dir, 'a.zip'), zipSync({ 'top/x/one.txt': text, '__MACOSX/top/._one.txt': text, 'top/two.txt': text }));
    expect(await extractArchive(join(dir, 'a.zip'), join(dir, 'zip'))).toBe(2);
    expect(await readFile(join(dir, 'zip', 'top', 'x', 'one.txt'), 'utf8')).toBe('hello');
    const tar = pack();
    const done = pipeline(tar, createGzip(), createWriteStream(join(dir, 'b.tar.gz')));
    tar.entry({ name: 'top/three.txt' }, 'three');
    tar.entry({ name: 'top/sub', type: 'directory' });
    tar.entry({ name: 'top/sub/four.txt' }, 'four');
    tar.finalize();
    await done;
    expect(await extractArchive(join(dir, 'b.tar.gz'), join(dir, 'tar'))).toBe(2);
    expect(await readFile(join(dir, 'tar', 'top', 'sub', 'four.txt'), 'utf8')).toBe('four');
  });

  it('refuses members that would land outside the folder, and unreadable archives', async () => {
    const dir = await tempFolder('archive-bad');
    await writeFile(join(dir, 'evil.zip'), zipSync({ '../escape.txt': new Uint8Array([1]) }));
    await expect(extractArchive(join(dir, 'evil.zip'), join(dir, 'out'))).rejects.toMatchObject({ code: ErrorCode.DATASET_INVALID, message: expect.stringContaining('points outside') });
    await writeFile(join(dir, 'junk.tar'), Buffer.alloc(1000, 65));
    await expect(extractArchive(join(dir, 'junk.tar'), join(dir, 'out2'))).rejects.toMatchObject({ code: ErrorCode.DATASET_INVALID });
  });
});

describe('scanOpenPoseFolder', () => {
  it('pairs media with keypoints by name, and reports what has no partner', async () => {
    const dir = await tempFolder('scan');
    await mkdir(join(dir, 'talk1'));
    await writeFile(join(dir, 'talk1', 'talk1_000000000000_keypoints.json'), '{}');
    for (const f of ['talk1.mp4', 'talk2.mov', 'talk2_keypoints.zip', 'talk2.intervals.csv', 'lonely.wav', 'orphan.csv', 'notes.txt']) await writeFile(join(dir, f), '');
    const scan = await scanOpenPoseFolder(dir);
    expect(scan.videos).toEqual([
      { name: 'talk1', mediaPath: join(dir, 'talk1.mp4'), keypoints: join(dir, 'talk1') },
      { name: 'talk2', mediaPath: join(dir, 'talk2.mov'), keypoints: join(dir, 'talk2_keypoints.zip'), intervals: join(dir, 'talk2.intervals.csv') },
    ]);
    expect(scan.issues.map((i) => [i.code, i.file])).toEqual([
      [ErrorCode.FILE_MISSING, join(dir, 'lonely.wav')],
      [ErrorCode.FILE_MISSING, join(dir, 'orphan.csv')],
    ]);
  });

  it('pairs a lone media file with a lone keypoint source whatever their names', async () => {
    const dir = await tempFolder('scan-one');
    await writeFile(join(dir, 'speech.m4a'), '');
    await writeFile(join(dir, 'frames.csv'), '');
    expect((await scanOpenPoseFolder(dir)).videos).toEqual([{ name: 'speech', mediaPath: join(dir, 'speech.m4a'), keypoints: join(dir, 'frames.csv') }]);
    await expect(scanOpenPoseFolder(await tempFolder('scan-empty'))).rejects.toMatchObject({ code: ErrorCode.DATASET_INVALID });
  });
});

describe('ShardBuilder', () => {
  it('builds the bytes encodeShard builds, within the size it announced', () => {
    const sample = (i: number): WindowSample => ({
      id: `v/i/${i}`,
      speaker: 's',
      video: 'v',
      intervalId: 'i',
      split: 'train',
      startTime: i,
      endTime: i + 4.2,
      pose: Float32Array.from({ length: WINDOW_FRAMES * FRAME_VALUES }, (_, j) => j + i),
      audio: Float32Array.from({ length: WINDOW_AUDIO_SAMPLES }, (_, j) => Math.sin(j + i) * 0.5),
    });
    const samples = [sample(0), sample(1)];
    const builder = new ShardBuilder();
    const announced = builder.sizeWith(samples[0]);
    builder.add(samples[0]);
    expect(builder.sizeWith(samples[1])).toBeGreaterThan(announced);
    builder.add(samples[1]);
    const bytes = builder.finish();
    expect(Buffer.from(bytes).equals(Buffer.from(encodeShard(samples)))).toBe(true);
    expect(bytes.length).toBeLessThanOrEqual(builder.sizeWith());
  });
});

describe('job objects and errors', () => {
  it('derives stable video ids and recognises only its own job keys', async () => {
    const id = videoUuid('sp', 'talk.mp4');
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(videoUuid('sp', 'talk.mp4')).toBe(id);
    expect(videoUuid('sp', 'other.mp4')).not.toBe(id);
    const job = '11111111-1111-4111-8111-111111111111';
    expect(JobKeys.owns('sp', job, JobKeys.shard('sp', job, 3))).toBe(true);
    expect(JobKeys.owns('sp', job, JobKeys.audio('sp', id, job))).toBe(true);
    expect(JobKeys.owns('sp', job, JobKeys.shard('sp', '22222222-1111-4111-8111-111111111111', 3))).toBe(false);
    expect(JobKeys.owns('sp', job, `speakers/sp/videos/${id}/audio.wav`)).toBe(false);
    const deleted: string[] = [];
    const keys = [JobKeys.shard('sp', job, 0), `speakers/sp/samples/other-00000.s2gshard`, JobKeys.source('sp', id, job, '/x/a.MP4')];
    const store = { list: async function* () { for (const key of keys) yield { key, size: 1, lastModified: new Date() }; }, delete: async (k: string) => void deleted.push(k) };
    expect(await discardJobObjects(store as never, 'sp', job)).toBe(2);
    expect(deleted).toEqual([keys[0], `speakers/sp/videos/${id}/${job}/source.mp4`]);
  });

  it('retries what a later attempt may fix, never bad input', () => {
    expect(isRetryableIngestError(new Error('connection reset'))).toBe(true);
    expect(isRetryableIngestError(new S2gError(ErrorCode.UNAVAILABLE, 'down'))).toBe(true);
    expect(isRetryableIngestError(new S2gError(ErrorCode.CONFLICT, 'raced'))).toBe(true);
    for (const code of [ErrorCode.MEDIA_UNREADABLE, ErrorCode.KEYPOINTS_INVALID, ErrorCode.SPEAKER_UNKNOWN, ErrorCode.FILE_MISSING, ErrorCode.AUDIO_TOO_SHORT]) {
      expect(isRetryableIngestError(new S2gError(code, 'bad'))).toBe(false);
    }
    expect(isRetryableIngestError(new S2gError(ErrorCode.CONFLICT, 'job is failed', { status: 'failed' }))).toBe(false);
  });
});
