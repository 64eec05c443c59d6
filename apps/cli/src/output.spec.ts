import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createProgress, duration, fixed, table, writeFileAtomic } from './output';

describe('table', () => {
  it('pads columns to the widest cell and right-aligns columns of numbers', () => {
    expect(table(['method', 'L1'], [['model', '0.4072'], ['median pose', '12.5000'], ['x', null]])).toBe(
      ['method            L1', '-----------  -------', 'model         0.4072', 'median pose  12.5000', 'x                  -', ''].join('\n'),
    );
  });
});

describe('formatting', () => {
  it('shows numbers and durations compactly', () => {
    expect(fixed(0.123456)).toBe('0.123');
    expect(fixed(null)).toBe('-');
    expect(fixed(Number.NaN)).toBe('-');
    expect(duration(59.6)).toBe('1m00s');
    expect(duration(7)).toBe('7s');
  });
});

describe('progress without a terminal', () => {
  it('prints a line at most every few seconds, keeps the last note, and always the final state', () => {
    const lines: string[] = [];
    const bar = createProgress({ out: () => undefined, err: (t) => void lines.push(t), env: {} }, 'training', 100);
    bar.update(10, 'l1 0.9');
    bar.update(20, 'l1 0.8');
    bar.update(30);
    bar.stop('completed');
    expect(lines).toEqual(['training 10% 10/100 l1 0.9\n', 'training 30% 30/100 completed\n']);
  });
});

describe('writeFileAtomic', () => {
  it('replaces a file whole and leaves no partial file behind, also when the write fails', async () => {
    const dir = await mkdtemp(join(tmpdir(), 's2g-cli-atomic-'));
    try {
      const file = join(dir, 'state.json');
      await writeFileAtomic(file, '{"a":1}');
      await writeFileAtomic(file, '{"a":2}');
      expect(await readFile(file, 'utf8')).toBe('{"a":2}');
      await expect(writeFileAtomic(join(dir, 'missing', 'x.json'), 'x')).rejects.toThrow(/ENOENT/);
      expect(await readdir(dir)).toEqual(['state.json']);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
