import { describe, expect, it } from 'vitest';
import { createProgress, duration, fixed, table } from './output';

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
