import { describe, expect, it } from 'vitest';
import { ErrorCode, S2gError } from '@s2g/contracts';
import { decodeWav, encodeWav, sineWave } from '../src';

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    return e instanceof S2gError ? e.code : 'not-s2g';
  }
  return undefined;
}

describe('WAV codec', () => {
  it('round-trips float32 exactly', () => {
    const x = sineWave(440, 1234, { amplitude: 0.9 });
    const bytes = encodeWav(x, 16_000, { format: 'float32' });
    const back = decodeWav(bytes);
    expect(back.sampleRate).toBe(16_000);
    expect(back.format).toBe('float32');
    expect(back.channels.length).toBe(1);
    expect(Array.from(back.channels[0])).toEqual(Array.from(x));
  });

  it('round-trips 16-bit PCM within one quantisation step, clipping out-of-range samples', () => {
    const x = Float32Array.from([0, 0.25, -0.25, 1, -1, 1.5, -2]);
    const bytes = encodeWav(x, 22_050);
    expect(bytes.length).toBe(44 + 2 * x.length);
    const back = decodeWav(bytes);
    expect(back.format).toBe('pcm16');
    const want = [0, 0.25, -0.25, 1, -1, 1, -1];
    back.channels[0].forEach((v, i) => expect(Math.abs(v - want[i])).toBeLessThanOrEqual(1 / 32768));
  });

  it('keeps channels apart', () => {
    const l = Float32Array.from([0.5, 0.5]);
    const r = Float32Array.from([-0.5, 0]);
    const back = decodeWav(encodeWav([l, r], 8000));
    expect(back.channels.map((c) => Array.from(c))).toEqual([
      [0.5, 0.5],
      [-0.5, 0],
    ]);
  });

  it('reads a data chunk whose size runs past the end (streamed WAV) and skips unknown chunks', () => {
    const pcm = encodeWav(Float32Array.from([0.5, -0.5, 0.25]), 16_000);
    // Insert a LIST chunk (odd size, padded) before "data" and make the data size bogus.
    const list = new Uint8Array([0x4c, 0x49, 0x53, 0x54, 3, 0, 0, 0, 1, 2, 3, 0]);
    const out = new Uint8Array(pcm.length + list.length);
    out.set(pcm.subarray(0, 36));
    out.set(list, 36);
    out.set(pcm.subarray(36), 36 + list.length);
    new DataView(out.buffer).setUint32(36 + list.length + 4, 0xffffffff, true);
    const back = decodeWav(out);
    expect(back.channels[0].length).toBe(3);
    expect(back.channels[0][1]).toBeCloseTo(-0.5, 4);
  });

  it('names the file in errors', () => {
    expect(codeOf(() => decodeWav(new Uint8Array(10), 'x.wav'))).toBe(ErrorCode.MEDIA_UNREADABLE);
    try {
      decodeWav(new TextEncoder().encode('hello, this is not audio'), 'notes.wav');
    } catch (e) {
      expect((e as Error).message).toContain('notes.wav');
    }
    const bytes = encodeWav(Float32Array.from([0]), 16_000);
    new DataView(bytes.buffer).setUint16(20, 2, true); // ADPCM
    expect(codeOf(() => decodeWav(bytes, 'adpcm.wav'))).toBe(ErrorCode.MEDIA_UNSUPPORTED);
  });
});
