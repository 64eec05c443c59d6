import { createHash } from 'node:crypto';
import { cp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { decodeWav } from '@s2g/audio';
import { ErrorCode } from '@s2g/contracts';
import { FRAME_VALUES, POSE_FPS } from '@s2g/pose';
import { tempFolder } from '../../test/temp';
import { generateSyntheticSpeaker, planSyntheticSpeaker, synthesizeVideo } from '../synthetic/generate';
import type { GeneratedSpeaker } from '../synthetic/generate';
import { videoSamples, windowCount } from '../windows';
import { readS2gSpeaker } from './s2g';
import { collectFrames } from './types';

async function fingerprint(root: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const walk = async (dir: string): Promise<void> => {
    for (const e of await readdir(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) await walk(p);
      else out.set(relative(root, p), createHash('sha256').update(await readFile(p)).digest('hex'));
    }
  };
  await walk(root);
  return out;
}

const OPTIONS = { seed: 11, name: 'alice', minutes: 0.4 } as const;

describe('layout 1 (original speech2gesture) with a synthetic speaker', () => {
  let root: string;
  let gen: GeneratedSpeaker;

  beforeAll(async () => {
    root = join(await tempFolder('s2g'), 'a');
    gen = await generateSyntheticSpeaker({ ...OPTIONS, outDir: root });
  });

  it('writes several intervals with some splits given and some left to assign', () => {
    const intervals = gen.videos.flatMap((v) => v.intervals);
    expect(intervals.length).toBeGreaterThanOrEqual(2);
    expect(intervals.some((i) => i.split)).toBe(true);
    expect(intervals.some((i) => !i.split)).toBe(true);
  });

  it('reads back every frame at its time with the generated coordinates', async () => {
    const source = await readS2gSpeaker(root, { speaker: 'alice' });
    expect(source.issues).toEqual([]);
    expect(source.videos.map((v) => v.name)).toEqual(gen.videos.map((v) => v.videoFn));
    const plan = planSyntheticSpeaker(OPTIONS);
    for (const [i, video] of source.videos.entries()) {
      const expected = gen.videos[i];
      const synth = synthesizeVideo(plan, i);
      expect(video.mediaPath).toBe(expected.videoPath);
      expect(video.audioPath).toBe(expected.audioPath);
      expect(video.intervals).toEqual(expected.intervals.map((x) => ({ ...x, start: expect.closeTo(x.start, 5), end: expect.closeTo(x.end, 5) })));
      const frames = await collectFrames(video);
      expect(frames).toHaveLength(expected.frames);
      expect(video.frameCount).toBe(expected.frames);
      for (const f of frames) {
        const k = Math.round(f.time * POSE_FPS);
        expect(f.time).toBeCloseTo(k / POSE_FPS, 5);
        expect(f.keypoints).toHaveLength(FRAME_VALUES);
        const want = synth.poses.subarray(k * FRAME_VALUES, (k + 1) * FRAME_VALUES);
        for (let j = 0; j < FRAME_VALUES; j++) expect(Math.abs(f.keypoints[j] - want[j])).toBeLessThan(1e-3);
      }
    }
  });

  it('is deterministic: the same seed writes identical files, another seed different ones', async () => {
    const again = join(root, '..', 'b');
    await generateSyntheticSpeaker({ ...OPTIONS, outDir: again });
    const [a, b] = [await fingerprint(root), await fingerprint(again)];
    expect(a.size).toBeGreaterThan(gen.videos[0].frames);
    expect(b).toEqual(a);
    const other = join(root, '..', 'c');
    await generateSyntheticSpeaker({ ...OPTIONS, seed: 12, outDir: other, video: false });
    const c = await fingerprint(other);
    expect(c.get('alice/audio/alice_00.wav')).not.toBe(a.get('alice/audio/alice_00.wav'));
    await rm(again, { recursive: true });
    await rm(other, { recursive: true });
  });

  it('cuts floor((N - 64) / 5) + 1 windows per interval with 67,267 audio samples each', async () => {
    const source = await readS2gSpeaker(root, { speaker: 'alice' });
    const video = source.videos[0];
    const wav = decodeWav(await readFile(video.audioPath as string), video.audioPath);
    const samples = [];
    for await (const s of videoSamples('alice', video, wav.channels[0])) samples.push(s);
    const expected = video.intervals.reduce((n, i) => n + windowCount(Math.round((i.end - i.start) * POSE_FPS) + 1), 0);
    expect(expected).toBeGreaterThan(0);
    expect(samples).toHaveLength(expected);
    expect(samples.every((s) => s.audio.length === 67_267 && s.pose.length === 64 * FRAME_VALUES)).toBe(true);
    const given = new Map(video.intervals.map((i) => [i.id, i.split]));
    for (const s of samples) if (given.get(s.intervalId)) expect(s.split).toBe(given.get(s.intervalId));
  });

  it('reports each bad file with its code and name, and still loads the others', async () => {
    const bad = join(root, '..', 'bad');
    await cp(root, bad, { recursive: true });
    const dir = join(bad, 'alice', 'keypoints_simple', 'alice_00');
    const names = (await readdir(dir)).sort();
    const [shape, nan, missing] = [names[3], names[10], names[20]].map((n) => join(dir, n));
    const text = await readFile(shape, 'utf8');
    await writeFile(shape, text.split('\n').map((l) => l.split(' ').slice(0, 48).join(' ')).join('\n'));
    await writeFile(nan, (await readFile(nan, 'utf8')).replace(/^(\S+)/, 'nan'));
    await rm(missing);
    await rm(join(bad, 'alice', 'videos'), { recursive: true });
    await rm(join(bad, 'alice', 'audio'), { recursive: true });

    const seen: string[] = [];
    const source = await readS2gSpeaker(bad, { speaker: 'alice', onIssue: (i) => seen.push(i.file) });
    expect(source.videos[0].mediaPath).toBeUndefined();
    const frames = await collectFrames(source.videos[0]);
    expect(frames).toHaveLength(gen.videos[0].frames - 3);
    const byFile = new Map(source.issues.map((i) => [i.file, i]));
    expect(byFile.get(shape)).toMatchObject({ code: ErrorCode.KEYPOINTS_INVALID, message: expect.stringContaining(shape) });
    expect(byFile.get(shape)?.message).toMatch(/49 or 52/);
    expect(byFile.get(nan)).toMatchObject({ code: ErrorCode.KEYPOINTS_INVALID, message: expect.stringMatching(/NaN/) });
    expect(byFile.get(nan)?.message).toContain(nan);
    expect(byFile.get(missing)).toMatchObject({ code: ErrorCode.FILE_MISSING, message: `${missing}: keypoint file missing` });
    expect(source.issues.find((i) => i.code === ErrorCode.FILE_MISSING && i.message.includes("video 'alice_00.mp4' not found"))).toBeDefined();
    expect(seen.sort()).toEqual(source.issues.map((i) => i.file).sort());
    await rm(bad, { recursive: true });
  });

  it('names the CSV and the speakers present when the speaker is unknown', async () => {
    await expect(readS2gSpeaker(root, { speaker: 'oliver' })).rejects.toMatchObject({
      code: ErrorCode.SPEAKER_UNKNOWN,
      message: expect.stringMatching(new RegExp(`${join(root, 'frames.csv')}.*no rows for speaker 'oliver' \\(speakers present: alice\\)`)),
    });
    await expect(readS2gSpeaker(root, { speaker: '../alice' })).rejects.toMatchObject({ code: ErrorCode.BAD_USER_INPUT });
  });

  it('finds frames from keypoint file names when only intervals_df.csv is there', async () => {
    const only = join(root, '..', 'intervals-only');
    await cp(root, only, { recursive: true });
    await rm(join(only, 'frames.csv'));
    const source = await readS2gSpeaker(only, { speaker: 'alice' });
    expect(source.issues).toEqual([]);
    const frames = await collectFrames(source.videos[0]);
    expect(frames).toHaveLength(gen.videos[0].frames);
    expect(source.videos[0].intervals.map((i) => i.split)).toEqual(gen.videos[0].intervals.map((i) => i.split));
    await rm(only, { recursive: true });
  });

  it('keeps other speakers when a second synthetic speaker joins the same folder', async () => {
    const shared = join(root, '..', 'shared');
    await cp(root, shared, { recursive: true });
    await generateSyntheticSpeaker({ seed: 5, name: 'bob', minutes: 0.2, outDir: shared, video: false });
    const alice = await readS2gSpeaker(shared, { speaker: 'alice' });
    const bob = await readS2gSpeaker(shared, { speaker: 'bob' });
    expect(await collectFrames(alice.videos[0])).toHaveLength(gen.videos[0].frames);
    expect(bob.videos.map((v) => v.name)).toEqual(['bob_00.mp4']);
    // bob has no mp4: his speech is found as the audio file.
    expect(bob.videos[0].mediaPath).toMatch(/bob\/audio\/bob_00\.wav$/);
    await rm(shared, { recursive: true });
  });
});
