import { describe, expect, it } from 'vitest';
import { ErrorCode } from '@s2g/contracts';
import { normalizePrefix, parseCheckpointStep, StorageKeys, validateKey } from '../src/index';

const invalid = expect.objectContaining({ code: ErrorCode.STORAGE_KEY_INVALID });

describe('validateKey', () => {
  it('accepts ordinary keys', () => {
    for (const key of ['a', 'a/b', 'uploads/u1/my video (1).mp4', 'speakers/ß/é.wav', 'x'.repeat(255)]) expect(validateKey(key)).toBe(key);
  });

  it('rejects keys that could escape, alias or break', () => {
    const cases = ['', '/a', 'a/', 'a//b', '.', '..', 'a/../b', 'a/./b', '../a', 'a\\b', 'a\u0000b', 'a\nb', 'a\u007fb', '\ud800x', 'x'.repeat(256), `${'a/'.repeat(512)}a`];
    for (const key of cases) expect(() => validateKey(key), JSON.stringify(key)).toThrow(invalid);
  });

  it('counts the length in UTF-8 bytes', () => {
    const segment = 'é'.repeat(127);
    expect(validateKey(segment)).toBe(segment);
    expect(() => validateKey('é'.repeat(128))).toThrow(invalid);
  });
});

describe('normalizePrefix', () => {
  it('gives folder form', () => {
    expect(normalizePrefix('')).toBe('');
    expect(normalizePrefix('a/b')).toBe('a/b/');
    expect(normalizePrefix('a/b/')).toBe('a/b/');
    expect(() => normalizePrefix('/')).toThrow(invalid);
    expect(() => normalizePrefix('a//')).toThrow(invalid);
  });
});

describe('StorageKeys', () => {
  it('builds the documented layout', () => {
    expect(StorageKeys.upload('u1', 'talk.mp4')).toBe('uploads/u1/talk.mp4');
    expect(StorageKeys.video('s1', 'v1', 'audio.wav')).toBe('speakers/s1/videos/v1/audio.wav');
    expect(StorageKeys.videoPrefix('s1', 'v1')).toBe('speakers/s1/videos/v1/');
    expect(StorageKeys.shard('s1', 'train-00001.bin')).toBe('speakers/s1/samples/train-00001.bin');
    expect(StorageKeys.samplesPrefix('s1')).toBe('speakers/s1/samples/');
    expect(StorageKeys.speakerPrefix('s1')).toBe('speakers/s1/');
    expect(StorageKeys.checkpoint('r1', 1200, 'model.json')).toBe('runs/r1/checkpoints/000000001200/model.json');
    expect(StorageKeys.checkpointPrefix('r1', 0)).toBe('runs/r1/checkpoints/000000000000/');
    expect(StorageKeys.runPrefix('r1')).toBe('runs/r1/');
    expect(StorageKeys.result('p1', 'poses.json')).toBe('results/p1/poses.json');
    expect(StorageKeys.render('v9', 'video.mp4')).toBe('renders/v9/video.mp4');
    expect(StorageKeys.uploadPrefix('u1')).toBe('uploads/u1/');
  });

  it('orders checkpoint keys by step', () => {
    const keys = [100, 9, 1000, 20].map((s) => StorageKeys.checkpoint('r', s, 'm.bin')).sort();
    expect(keys.map(parseCheckpointStep)).toEqual([9, 20, 100, 1000]);
    expect(parseCheckpointStep('results/x/y')).toBeNull();
  });

  it('refuses ids that are not one segment and bad steps', () => {
    expect(() => StorageKeys.upload('a/b', 'f')).toThrow(invalid);
    expect(() => StorageKeys.upload('..', 'f')).toThrow(invalid);
    expect(() => StorageKeys.result('r', '../x')).toThrow(invalid);
    expect(() => StorageKeys.shard('s', 'a/b')).toThrow(invalid);
    expect(() => StorageKeys.checkpoint('r', -1, 'f')).toThrow(invalid);
    expect(() => StorageKeys.checkpoint('r', 1.5, 'f')).toThrow(invalid);
    expect(StorageKeys.result('r', 'frames/0001.png')).toBe('results/r/frames/0001.png');
  });
});
