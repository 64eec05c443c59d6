import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ErrorCode } from '@s2g/contracts';
import { FIXTURES } from '../../test/temp';
import { encodeNpy, encodeNpz, parseNpy, parseNpz } from './npy';

const fixture = (name: string) => new Uint8Array(readFileSync(join(FIXTURES, name)));

describe('npy / npz', () => {
  it('round-trips every numeric dtype through encodeNpy / parseNpy', () => {
    const cases = [
      { data: Float32Array.from([1.5, -2, 3e-7]), dtype: '<f4' },
      { data: Float64Array.from([Math.PI, -1e300]), dtype: '<f8' },
      { data: Int16Array.from([-32768, 7]), dtype: '<i2' },
      { data: BigInt64Array.from([-(2n ** 62n), 5n]), dtype: '<i8' },
      { data: Uint8Array.from([0, 255]), dtype: '|u1' },
    ];
    for (const c of cases) {
      const bytes = encodeNpy({ shape: [c.data.length], data: c.data });
      // Data must start on a 64-byte boundary, as numpy writes it.
      const headerLen = new DataView(bytes.buffer).getUint16(8, true);
      expect((10 + headerLen) % 64).toBe(0);
      const back = parseNpy(bytes);
      expect(back.dtype).toBe(c.dtype);
      expect(back.shape).toEqual([c.data.length]);
      expect(Array.from(back.data as ArrayLike<number | bigint>)).toEqual(Array.from(c.data as ArrayLike<number | bigint>));
    }
  });

  it('reads files numpy wrote: Fortran order, big-endian, half floats', () => {
    const f = parseNpy(fixture('fortran-i8.npy'));
    expect(f.shape).toEqual([2, 3, 4]);
    expect(Array.from(f.data as BigInt64Array, Number)).toEqual(Array.from({ length: 24 }, (_, i) => i));
    const be = parseNpy(fixture('big-endian-f4.npy'));
    expect(be.dtype).toBe('<f4');
    expect(Array.from(be.data as Float32Array)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(Array.from(parseNpy(fixture('half.npy')).data as Float32Array)).toEqual([0.5, -2, 65504]);
  });

  it('reads numpy .npz files, stored and deflated, skipping the non-numeric imgs array', () => {
    for (const name of ['numpy-window.npz', 'numpy-window-compressed.npz']) {
      const arrays = parseNpz(fixture(name), name);
      expect(Object.keys(arrays).sort()).toEqual(['audio', 'pose']);
      expect(arrays.pose.shape).toEqual([64, 2, 52]);
      const pose = arrays.pose.data as Float32Array | Float64Array;
      // pose[t=2][y][k=5] = 300 + 2*5 - 0.25*2
      expect(pose[2 * 104 + 52 + 5]).toBeCloseTo(309.5, 5);
      expect(arrays.audio.shape).toEqual([1000]);
    }
  });

  it('round-trips an npz and reports a missing array or a damaged file by name', () => {
    const bytes = encodeNpz({ pose: { shape: [2, 2], data: Float32Array.from([1, 2, 3, 4]) } }, true);
    expect(Array.from(parseNpz(bytes).pose.data as Float32Array)).toEqual([1, 2, 3, 4]);
    expect(() => parseNpz(bytes, 'w.npz', ['pose', 'audio'])).toThrow(expect.objectContaining({ code: ErrorCode.DATASET_INVALID, message: "w.npz: missing array 'audio'" }));
    expect(() => parseNpz(bytes.subarray(0, 40), 'cut.npz')).toThrow(/cut\.npz: not a readable \.npz/);
    const npy = encodeNpy({ shape: [4], data: Float32Array.from([1, 2, 3, 4]) });
    expect(() => parseNpy(npy.subarray(0, npy.length - 4), 'short.npy')).toThrow(/short\.npy: truncated data/);
    expect(() => parseNpy(new Uint8Array(20), 'zero.npy')).toThrow(/zero\.npy: not a \.npy file/);
  });
});
