import { crc32 as zlibCrc32 } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { decodePng } from '../test/png-decode';
import { crc32, encodePng } from './png';

function pattern(w: number, h: number, channels: number): Uint8Array {
  const px = new Uint8Array(w * h * channels);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const i = (y * w + x) * channels;
      // Flat areas, gradients and noise, so several filter types win somewhere.
      px[i] = x < w / 2 ? 250 : (x * 7) & 0xff;
      px[i + 1] = (y * 13) & 0xff;
      px[i + 2] = (x * y * 31 + 17) & 0xff;
      if (channels === 4) px[i + 3] = x === 0 ? 0 : 200;
    }
  }
  return px;
}

describe('crc32', () => {
  it('matches zlib', () => {
    const bytes = new TextEncoder().encode('IEND and some more bytes');
    expect(crc32(bytes)).toBe(zlibCrc32(bytes));
    expect(crc32(new Uint8Array(0))).toBe(0);
    expect(crc32(bytes.subarray(5), crc32(bytes.subarray(0, 5)))).toBe(zlibCrc32(bytes));
  });
});

describe('encodePng', () => {
  it.each([3, 4])('round-trips %i-channel pixels through an independent decoder', (channels) => {
    const w = 37;
    const h = 23;
    const px = pattern(w, h, channels);
    const png = encodePng(px, w, h);
    const decoded = decodePng(png);
    expect(decoded.chunkTypes).toEqual(['IHDR', 'IDAT', 'IEND']);
    expect(decoded).toMatchObject({ width: w, height: h, channels });
    expect(Buffer.from(decoded.pixels).equals(Buffer.from(px))).toBe(true);
  });

  it('writes a valid CRC on every chunk', () => {
    const png = encodePng(pattern(8, 8, 4), 8, 8);
    let pos = 8;
    while (pos < png.length) {
      const len = png.readUInt32BE(pos);
      expect(png.readUInt32BE(pos + 8 + len)).toBe(zlibCrc32(png.subarray(pos + 4, pos + 8 + len)));
      pos += 12 + len;
    }
    expect(pos).toBe(png.length);
  });

  it('rejects a buffer that is neither rgb nor rgba of the given size', () => {
    expect(() => encodePng(new Uint8Array(10), 2, 2)).toThrow(/needs 16 \(rgba\) or 12 \(rgb\)/);
  });
});
