import { unzipSync } from 'fflate';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { detectLayout } from './ingest';
import { contentTypeOf, uploadName, zipFolder } from './upload';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 's2g-upload-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('upload names and types', () => {
  it('makes names the gateway accepts and knows each file type', () => {
    expect(uploadName('/x/My Talk (2).mp4')).toBe('My_Talk_2_.mp4');
    expect(uploadName('.hidden..wav')).toBe('hidden.wav');
    expect(contentTypeOf('a.tar.gz')).toBe('application/gzip');
    expect(contentTypeOf('talk.MOV')).toBe('video/quicktime');
    expect(() => contentTypeOf('notes.txt')).toThrow(/cannot be uploaded/);
  });
});

describe('zipFolder', () => {
  it('zips a folder\'s files with paths relative to it', async () => {
    const folder = join(dir, 'dataset');
    await mkdir(join(folder, 'spk', 'keypoints'), { recursive: true });
    await writeFile(join(folder, 'frames.csv'), 'a,b\n1,2\n');
    await writeFile(join(folder, 'spk', 'keypoints', 'f1.txt'), '1 2 3\n4 5 6\n');
    await writeFile(join(folder, 'spk', 'talk.wav'), Buffer.alloc(5000, 7));
    const zipped = await zipFolder(folder, 'dataset.zip');
    try {
      expect(zipped.files).toBe(3);
      const entries = unzipSync(new Uint8Array(await readFile(zipped.path)));
      expect(Object.keys(entries).sort()).toEqual(['frames.csv', 'spk/keypoints/f1.txt', 'spk/talk.wav']);
      expect(Buffer.from(entries['frames.csv']).toString()).toBe('a,b\n1,2\n');
      expect(entries['spk/talk.wav']).toEqual(new Uint8Array(5000).fill(7));
    } finally {
      await zipped.cleanup();
    }
    await expect(zipFolder(join(dir, 'dataset', 'spk', 'keypoints', 'missing'), 'x.zip')).rejects.toThrow();
  });
});

describe('detectLayout', () => {
  it('tells the layouts apart by what a folder holds', async () => {
    expect(await detectLayout(join(dir, 'dataset'))).toBe('s2g');
    const npz = join(dir, 'npz');
    await mkdir(npz);
    await writeFile(join(npz, 'a-0-1.npz'), '');
    expect(await detectLayout(npz)).toBe('npz');
    const wrapped = join(dir, 'wrapped', 'inner');
    await mkdir(wrapped, { recursive: true });
    await writeFile(join(wrapped, 'talk.mp4'), '');
    expect(await detectLayout(join(dir, 'wrapped'))).toBe('openpose');
    expect(await detectLayout(join(wrapped, 'talk.mp4'))).toBe('openpose');
    const other = join(dir, 'other');
    await mkdir(other);
    await writeFile(join(other, 'readme.md'), '');
    expect(await detectLayout(other)).toBeNull();
    await expect(detectLayout(join(dir, 'nope'))).rejects.toThrow(/no such file or folder/);
  });
});
