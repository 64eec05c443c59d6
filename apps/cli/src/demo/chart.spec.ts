import { describe, expect, it } from 'vitest';
import { lineChartPng, niceTicks } from './chart';

describe('niceTicks', () => {
  it('steps by 1, 2 or 5 times a power of ten', () => {
    expect(niceTicks(0, 1)).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1]);
    expect(niceTicks(0, 609)).toEqual([0, 200, 400, 600]);
    expect(niceTicks(0.3, 0.95)).toEqual([0.4, 0.6, 0.8]);
    expect(niceTicks(2, 2)).toEqual([2]);
  });
});

describe('lineChartPng', () => {
  it('draws a PNG of the requested size with the series in their colours', () => {
    const png = lineChartPng(
      [
        { label: 'a', colour: '#ff0000', points: [{ x: 0, y: 1 }, { x: 10, y: 0.5 }] },
        { label: 'b', colour: '#0000ff', points: [] },
      ],
      { title: 't', xLabel: 'step', yLabel: 'L1', width: 300, height: 200 },
    );
    expect(png.subarray(1, 4).toString()).toBe('PNG');
    expect(png.readUInt32BE(16)).toBe(300);
    expect(png.readUInt32BE(20)).toBe(200);
  });
});
