import { describe, expect, it } from 'vitest';
import { Canvas, fill, hex } from './canvas';
import { drawText, measureText } from './font';

function blank(w: number, h: number): Canvas {
  const c = new Canvas(w, h);
  fill(c, hex('#ffffff'));
  return c;
}

function inked(c: Canvas): Set<string> {
  const set = new Set<string>();
  for (let y = 0; y < c.height; y++) for (let x = 0; x < c.width; x++) if (c.pixel(x, y)[0] === 0) set.add(`${x},${y}`);
  return set;
}

describe('bitmap font', () => {
  it('draws "I" as its 5x7 bitmap, magnified by the integer scale', () => {
    const c = blank(20, 20);
    drawText(c, 'I', 2, 1, { scale: 2, colour: hex('#000000') });
    // 'I' is 0x00 0x41 0x7f 0x41 0x00: serifs on rows 0 and 6 in columns 1..3, a stem in column 2.
    const expected = new Set<string>();
    const on = (col: number, row: number): void => {
      for (let dy = 0; dy < 2; dy++) for (let dx = 0; dx < 2; dx++) expected.add(`${2 + col * 2 + dx},${1 + row * 2 + dy}`);
    };
    for (let row = 0; row < 7; row++) on(2, row);
    for (const col of [1, 3]) for (const row of [0, 6]) on(col, row);
    expect(inked(c)).toEqual(expected);
  });

  it('measures text by advance and scale', () => {
    expect(measureText('abc', 1)).toEqual({ width: 17, height: 8 });
    expect(measureText('abc', 3)).toEqual({ width: 51, height: 24 });
    expect(measureText('', 2).width).toBe(0);
  });

  it('draws a descender below the baseline row for g but not for a', () => {
    const c = blank(12, 10);
    drawText(c, 'ga', 0, 0, { colour: hex('#000000') });
    const ink = inked(c);
    expect([...ink].some((p) => p.endsWith(',7') && Number(p.split(',')[0]) < 5)).toBe(true);
    expect([...ink].some((p) => p.endsWith(',7') && Number(p.split(',')[0]) >= 6)).toBe(false);
  });

  it('stays inside its clip and replaces unprintable characters with ?', () => {
    const c = blank(40, 10);
    drawText(c, 'W\u00e9', 0, 0, { colour: hex('#000000'), clip: { x0: 0, y0: 0, x1: 3, y1: 10 } });
    for (const p of inked(c)) expect(Number(p.split(',')[0])).toBeLessThan(3);
    const a = blank(12, 10);
    const b = blank(12, 10);
    drawText(a, '\u00e9', 0, 0, { colour: hex('#000000') });
    drawText(b, '?', 0, 0, { colour: hex('#000000') });
    expect(a.data).toEqual(b.data);
    expect(inked(a).size).toBeGreaterThan(0);
  });
});
