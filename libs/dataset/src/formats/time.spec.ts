import { describe, expect, it } from 'vitest';
import { formatFileTime, formatTimestamp, parseFileTime, parseTimestamp } from './time';

describe('timestamps', () => {
  it.each([
    ['00:01:23.456789', 83.456789],
    ['1:02:03', 3723],
    ['0 days 00:00:05.500000', 5.5],
    ['1900-01-01 00:00:02.25', 2.25],
    ['12.5', 12.5],
  ])('parses %s', (text, seconds) => {
    expect(parseTimestamp(text)).toBeCloseTo(seconds, 9);
  });

  it('rejects what is not a time', () => {
    expect(parseTimestamp('')).toBeUndefined();
    expect(parseTimestamp('soon')).toBeUndefined();
  });

  it('formats pose_dt with microseconds and file-name times like the original dataset', () => {
    expect(formatTimestamp(3723.0666667)).toBe('01:02:03.066667');
    expect(formatFileTime(83.4)).toBe('0_01_23.400000');
    expect(parseFileTime('Oliver_abc_0_01_23.400000.txt')).toBeCloseTo(83.4, 9);
    expect(parseFileTime('frame_12.txt')).toBeUndefined();
  });
});
