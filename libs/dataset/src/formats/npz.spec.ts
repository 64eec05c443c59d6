import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { WINDOW_AUDIO_SAMPLES } from '@s2g/audio';
import { ErrorCode } from '@s2g/contracts';
import { FRAME_VALUES, NUM_KEYPOINTS } from '@s2g/pose';
import { FIXTURES, tempFolder } from '../../test/temp';
import type { WindowSample } from '../windows';
import { assignSplit } from '../windows';
import { encodeNpz } from './npy';
import { npzSample, readNpzSpeaker } from './npz';

/** A window as the reference script saves it: pose (64, 2, points) float64, audio float32. */
function windowNpz(seed: number, opts: { points?: number; frames?: number; audio?: number; poison?: boolean } = {}): Uint8Array {
  const points = opts.points ?? 52;
  const frames = opts.frames ?? 64;
  const pose = Float64Array.from({ length: frames * 2 * points }, (_, i) => 100 + seed + (i % 997) * 0.5);
  if (opts.poison) pose[5] = Number.NaN;
  const audio = Float32Array.from({ length: opts.audio ?? 67_200 }, (_, i) => Math.sin(i / 7 + seed) * 0.5);
  return encodeNpz({ pose: { shape: [frames, 2, points], data: pose }, audio: { shape: [audio.length], data: audio } });
}

async function all(gen: AsyncIterable<WindowSample>): Promise<WindowSample[]> {
  const out: WindowSample[] = [];
  for await (const s of gen) out.push(s);
  return out;
}

describe('layout 3 (per-window .npz)', () => {
  let root: string;

  beforeAll(async () => {
    root = await tempFolder('npz');
    const npz = join(root, 'oliver', 'train', 'npz');
    await mkdir(npz, { recursive: true });
    await writeFile(join(npz, '101-0:00:01.000000-0:00:05.200000.npz'), windowNpz(1));
    await writeFile(join(npz, '101-0:00:01.333333-0:00:05.533333.npz'), windowNpz(2, { points: 49, audio: 70_000 }));
    await writeFile(join(npz, 'bad-shape.npz'), windowNpz(3, { frames: 60 }));
    await writeFile(join(npz, 'nan.npz'), windowNpz(4, { poison: true }));
    const rows = [
      'audio_fn,dataset,end,interval_id,pose_fn,speaker,start,video_fn',
      `/x/a.wav,dev,0:00:05.200000,101,/data/efros/old/oliver/train/npz/101-0:00:01.000000-0:00:05.200000.npz,oliver,0:00:01.000000,v1.mp4`,
      `/x/a.wav,,0:00:05.533333,101,oliver/train/npz/101-0:00:01.333333-0:00:05.533333.npz,oliver,0:00:01.333333,v1.mp4`,
      `/x/a.wav,train,0:00:09,102,oliver/train/npz/bad-shape.npz,oliver,0:00:05,v1.mp4`,
      `/x/a.wav,train,0:00:09,102,oliver/train/npz/nan.npz,oliver,0:00:05,v1.mp4`,
      `/x/a.wav,train,0:00:09,103,oliver/train/npz/gone.npz,oliver,0:00:05,v1.mp4`,
      `/x/b.wav,train,0:00:09,201,jon/train/npz/j.npz,jon,0:00:05,v9.mp4`,
    ];
    await writeFile(join(root, 'train.csv'), rows.join('\n') + '\n');
  });

  it('reads windows listed in train.csv, reporting bad files and carrying on', async () => {
    const source = await readNpzSpeaker(root, { speaker: 'oliver' });
    expect(source.files).toHaveLength(5);
    const samples = await all(source.samples());
    expect(samples).toHaveLength(2);
    const [a, b] = samples;
    expect(a).toMatchObject({ speaker: 'oliver', video: 'v1.mp4', intervalId: '101', split: 'dev', startTime: 1, endTime: 5.2 });
    expect(b.split).toBe(assignSplit('oliver', 'v1.mp4', '101'));
    for (const s of samples) {
      expect(s.pose).toHaveLength(64 * FRAME_VALUES);
      expect(s.audio).toHaveLength(WINDOW_AUDIO_SAMPLES);
    }
    // 52 points: x of joint 7 of the 49 is x of joint 10 of the 52 (nose and eyes dropped).
    expect(a.pose[7]).toBeCloseTo(100 + 1 + 10 * 0.5, 5);
    expect(a.audio[67_199]).not.toBe(0);
    expect(a.audio[67_200]).toBe(0);
    const issues = new Map(source.issues.map((i) => [i.file.split('/').pop(), i]));
    expect(issues.get('bad-shape.npz')).toMatchObject({ code: ErrorCode.KEYPOINTS_INVALID, message: expect.stringMatching(/bad-shape\.npz: pose has shape \(60, 2, 52\)/) });
    expect(issues.get('nan.npz')).toMatchObject({ code: ErrorCode.KEYPOINTS_INVALID, message: expect.stringMatching(/nan\.npz frame 0: value 5 is NaN/) });
    expect(issues.get('gone.npz')).toMatchObject({ code: ErrorCode.FILE_MISSING, message: expect.stringMatching(/gone\.npz: window file missing/) });
    expect(source.issues).toHaveLength(3);
  });

  it('finds windows without an index, naming them from the file and folder names', async () => {
    await expect(readNpzSpeaker(root, { index: join(root, 'none.csv') })).rejects.toMatchObject({
      code: ErrorCode.FILE_MISSING,
      message: expect.stringContaining(join(root, 'none.csv')),
    });
    const bare = await readNpzSpeaker(join(root, 'oliver', 'train'));
    const samples = await all(bare.samples());
    expect(samples.map((s) => [s.speaker, s.intervalId, s.startTime])).toEqual([
      ['oliver', '101', 1],
      ['oliver', '101', expect.closeTo(1.333333, 5)],
    ]);
    expect(bare.issues).toHaveLength(2);
  });

  it('names the index and the speakers present when the speaker is unknown', async () => {
    await expect(readNpzSpeaker(root, { speaker: 'ellen' })).rejects.toMatchObject({
      code: ErrorCode.SPEAKER_UNKNOWN,
      message: `${join(root, 'train.csv')}: no windows for speaker 'ellen' (speakers present: jon, oliver)`,
    });
  });

  it('reads a window numpy wrote, ignoring its imgs array', async () => {
    const bytes = new Uint8Array(await readFile(join(FIXTURES, 'numpy-window.npz')));
    const s = npzSample(bytes, { path: 'numpy-window.npz', speaker: 'x', video: 'v', intervalId: 'i' });
    // Joint 10 of 52 is joint 7 of 49; frame 3: x = 600 + 3*10 + 0.5*3.
    expect(s.pose[3 * FRAME_VALUES + 7]).toBeCloseTo(631.5, 4);
    expect(s.pose[3 * FRAME_VALUES + NUM_KEYPOINTS + 7]).toBeCloseTo(300 + 20 - 0.75, 4);
    expect(s.audio[1]).toBeCloseTo(0.5 * Math.sin((2 * Math.PI * 440) / 16_000), 6);
    expect(s.audio[1000]).toBe(0);
  });
});
