import { createWriteStream } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { zipSync } from 'fflate';
import { pack } from 'tar-stream';
import { beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode } from '@s2g/contracts';
import { encodeVideo } from '@s2g/media';
import { FRAME_VALUES, NUM_KEYPOINTS, POSE_FPS, parsePatsPoseCsv } from '@s2g/pose';
import { PATS, tempFolder } from '../../test/temp';
import { openPoseFrameIndex, readOpenPoseSpeaker, resampleFrames } from './openpose';
import { collectFrames } from './types';

/** BODY_25 index of each of the seven body points of the skeleton (neck, R shoulder/elbow/wrist, L ...). */
const BODY25 = [1, 2, 3, 4, 5, 6, 7];
const SOURCE_FPS = 30;
/** A hand point reported as undetected in one frame, to check it is filled from its neighbours. */
const GAP = { frame: 50, joint: 30 };

function openPoseJson(frame: Float64Array, missingJoint?: number): string {
  const triple = (j: number) => (j === missingJoint ? [0, 0, 0] : [frame[j], frame[NUM_KEYPOINTS + j], 0.9]);
  const body = new Array<number>(75).fill(0);
  BODY25.forEach((b, j) => body.splice(3 * b, 3, ...triple(j)));
  const hand = (root: number) => Array.from({ length: 21 }, (_, h) => triple(root + h)).flat();
  // A second, less confident person (someone in the background) must be ignored.
  const decoy = { pose_keypoints_2d: body.map((v, i) => (i % 3 === 2 ? v * 0.2 : v + 300)) };
  return JSON.stringify({ version: 1.3, people: [decoy, { pose_keypoints_2d: body, hand_left_keypoints_2d: hand(7), hand_right_keypoints_2d: hand(28) }] });
}

describe('layout 2 (OpenPose JSON) from the real PATS interval', () => {
  let dir: string;
  let pats: Float64Array;
  let count: number;
  let source30: Float64Array[];
  let media: string;
  const member = (i: number) => `pats_${String(i).padStart(12, '0')}_keypoints.json`;

  beforeAll(async () => {
    dir = await tempFolder('openpose');
    const parsed = parsePatsPoseCsv(await readFile(join(PATS, 'pose_data.csv'), 'utf8'));
    pats = parsed.poses;
    count = parsed.frames;
    // The fixture is 15 fps; a camera at 30 fps would also see the frames in between.
    source30 = [];
    for (let k = 0; k < count; k++) {
      const a = pats.subarray(k * FRAME_VALUES, (k + 1) * FRAME_VALUES);
      source30.push(Float64Array.from(a));
      if (k + 1 < count) source30.push(a.map((v, j) => (v + pats[(k + 1) * FRAME_VALUES + j]) / 2));
    }
    const files: Record<string, Uint8Array> = {};
    await mkdir(join(dir, 'json'));
    for (const [i, f] of source30.entries()) {
      const text = openPoseJson(f, i === GAP.frame ? GAP.joint : undefined);
      files[member(i)] = new TextEncoder().encode(text);
      await writeFile(join(dir, 'json', member(i)), text);
    }
    await writeFile(join(dir, 'frames.zip'), zipSync(files, { level: 6 }));
    const tar = pack();
    const written = pipeline(tar, createWriteStream(join(dir, 'frames.tar')));
    for (const [name, bytes] of Object.entries(files)) tar.entry({ name: `out/${name}` }, Buffer.from(bytes));
    tar.entry({ name: 'out/pats_000000000999_keypoints.json' }, JSON.stringify({ people: [{ pose_keypoints_2d: [1, 2, 3] }] }));
    tar.finalize();
    await written;
    media = join(dir, 'pats.mp4');
    const gray = new Uint8Array(32 * 32 * 3).fill(128);
    await encodeVideo({
      width: 32,
      height: 32,
      fps: SOURCE_FPS,
      frames: Array.from({ length: source30.length }, () => gray),
      audio: Float32Array.from({ length: 16_000 * 7 }, (_, i) => 0.3 * Math.sin(i / 10)),
      out: media,
    });
  });

  function expectPats(frames: { time: number; keypoints: Float32Array }[]): void {
    expect(frames).toHaveLength(count);
    frames.forEach((f, k) => {
      expect(f.time).toBeCloseTo(k / POSE_FPS, 9);
      for (let j = 0; j < FRAME_VALUES; j++) {
        const gap = k * 2 === GAP.frame && (j === GAP.joint || j === NUM_KEYPOINTS + GAP.joint);
        // The undetected point is interpolated between its neighbours at 30 fps.
        const want = gap ? (source30[GAP.frame - 1][j] + source30[GAP.frame + 1][j]) / 2 : pats[k * FRAME_VALUES + j];
        expect(Math.abs(f.keypoints[j] - want)).toBeLessThan(1e-3);
      }
    });
  }

  it('reads a folder, a zip and a tar of per-frame JSON at 30 fps back to the 109 frames at 15 fps', async () => {
    const source = await readOpenPoseSpeaker({
      speaker: 'pats',
      videos: [
        { name: 'folder', mediaPath: media, keypoints: join(dir, 'json') },
        { name: 'zip', mediaPath: media, keypoints: join(dir, 'frames.zip'), fps: SOURCE_FPS },
        { name: 'tar', mediaPath: media, keypoints: join(dir, 'frames.tar'), fps: SOURCE_FPS },
      ],
    });
    expect(source.videos.map((v) => v.name)).toEqual(['folder', 'zip', 'tar']);
    for (const video of source.videos) {
      expect(video.mediaPath).toBe(media);
      expect(video.intervals).toEqual([{ id: `${video.name}-0`, start: 0, end: expect.closeTo((count - 1) / POSE_FPS, 9) }]);
      expectPats(await collectFrames(video));
    }
    // Only the tar's bad member is reported, by archive and member name.
    expect(source.issues).toEqual([
      {
        code: ErrorCode.KEYPOINTS_INVALID,
        file: `${join(dir, 'frames.tar')}:out/pats_000000000999_keypoints.json`,
        message: expect.stringContaining('frames.tar:out/pats_000000000999_keypoints.json person 0 pose_keypoints_2d'),
      },
    ]);
  });

  it('reads a CSV of frames and an intervals CSV with splits', async () => {
    const header = ['time', ...Array.from({ length: NUM_KEYPOINTS }, (_, j) => `x${j}`), ...Array.from({ length: NUM_KEYPOINTS }, (_, j) => `y${j}`)];
    const rows = source30.map((f, i) => [(i / SOURCE_FPS).toFixed(6), ...Array.from(f, (v) => v.toFixed(4))].join(','));
    rows[7] = rows[7].replace(/,[^,]+$/, ',inf');
    await writeFile(join(dir, 'frames.csv'), [header.join(','), ...rows].join('\n'));
    await writeFile(join(dir, 'intervals.csv'), 'interval_id,start_time,end_time,dataset\nfirst,0,3,train\nsecond,00:00:04.000000,00:00:07.200000,\n');
    const source = await readOpenPoseSpeaker({
      speaker: 'pats',
      videos: [{ name: 'csv', audioPath: media, keypoints: join(dir, 'frames.csv'), intervals: join(dir, 'intervals.csv') }],
    });
    const [video] = source.videos;
    expect(video.intervals).toEqual([
      { id: 'first', start: 0, end: 3, split: 'train' },
      { id: 'second', start: 4, end: 7.2 },
    ]);
    expect(video.mediaPath).toBe(media);
    const frames = await collectFrames(video);
    // The bad row was at 30 fps frame 7, between grid points: every 15 fps frame is still there.
    expect(frames).toHaveLength(count);
    expect(Math.abs(frames[10].keypoints[5] - pats[10 * FRAME_VALUES + 5])).toBeLessThan(1e-3);
    expect(source.issues).toEqual([
      { code: ErrorCode.KEYPOINTS_INVALID, file: join(dir, 'frames.csv'), message: expect.stringContaining(`${join(dir, 'frames.csv')} row 9: value 97 is Infinity`) },
    ]);
  });

  it('reports a keypoint source it cannot use without stopping the other videos', async () => {
    const source = await readOpenPoseSpeaker({
      speaker: 'pats',
      videos: [
        { name: 'nofps', keypoints: join(dir, 'json') },
        { name: 'missing', keypoints: join(dir, 'nope.zip'), fps: 30 },
        { name: 'ok', keypoints: join(dir, 'frames.zip'), fps: 30 },
      ],
    });
    expect(source.videos.map((v) => v.name)).toEqual(['ok']);
    expect(source.issues.map((i) => [i.code, i.file])).toEqual([
      [ErrorCode.DATASET_INVALID, join(dir, 'json')],
      [ErrorCode.DATASET_INVALID, join(dir, 'nope.zip')],
    ]);
    expect(source.issues[0].message).toMatch(/frame rate is unknown/);
    expect(source.issues[1].message).toMatch(/nope\.zip: cannot read keypoint archive/);
  });
});

describe('resampling to 15 fps', () => {
  const at = (time: number, v: number) => ({ time, values: new Float64Array(FRAME_VALUES).fill(v) });

  it('interpolates linearly, or takes the nearest frame, and leaves holes where detections are missing', () => {
    const frames = [at(0, 0), at(0.04, 4), at(0.08, 8), at(0.12, 12), at(0.6, 60), at(0.64, 64)];
    // From 2/15 s to 8/15 s the nearest detections (0.12 and 0.6) are too far apart: no frames made up.
    const linear = resampleFrames(frames);
    expect(linear.map((f) => f.time)).toEqual([0, 1 / 15, 0.6]);
    expect(linear[1].keypoints[0]).toBeCloseTo(100 / 15, 4);
    const nearest = resampleFrames(frames, { method: 'nearest' });
    expect(nearest[1].keypoints[0]).toBe(8);
    const bridged = resampleFrames(frames, { maxGap: 1 });
    expect(bridged).toHaveLength(10);
    expect(bridged[3].keypoints[0]).toBeCloseTo(20, 4);
  });

  it('finds the frame number in OpenPose file names', () => {
    expect(openPoseFrameIndex('dir/video_000000000123_keypoints.json')).toBe(123);
    expect(openPoseFrameIndex('frame-42.json')).toBe(42);
    expect(openPoseFrameIndex('keypoints.json')).toBeUndefined();
  });
});
