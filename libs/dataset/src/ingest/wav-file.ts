import { open, type FileHandle } from 'node:fs/promises';
import { endianness } from 'node:os';
import { ErrorCode, S2gError } from '@s2g/contracts';

const HEADER_PROBE_BYTES = 1 << 16;
/** WAV samples are little-endian: read them through an Int16Array when the platform is too. */
const LITTLE_ENDIAN = endianness() === 'LE';

function unreadable(file: string, why: string): S2gError {
  return new S2gError(ErrorCode.MEDIA_UNREADABLE, `${file}: not a 16-bit mono PCM WAV file: ${why}`, { file });
}

/**
 * Random access to a 16-bit mono PCM WAV on disk (what `extractAudioToWav` writes), so a video of
 * an hour is cut into windows without its waveform ever being held in memory: each window reads
 * its own 134 kB, mostly from the page cache.
 */
export class WavFile {
  private constructor(
    private readonly handle: FileHandle,
    readonly file: string,
    readonly sampleRate: number,
    private readonly dataOffset: number,
    /** Number of samples. */
    readonly length: number,
  ) {}

  get durationSec(): number {
    return this.length / this.sampleRate;
  }

  static async open(file: string): Promise<WavFile> {
    const handle = await open(file, 'r');
    try {
      const size = (await handle.stat()).size;
      const head = Buffer.alloc(Math.min(size, HEADER_PROBE_BYTES));
      await handle.read(head, 0, head.length, 0);
      if (head.length < 12 || head.toString('latin1', 0, 4) !== 'RIFF' || head.toString('latin1', 8, 12) !== 'WAVE') throw unreadable(file, 'no RIFF/WAVE header');
      let offset = 12;
      let rate = 0;
      while (offset + 8 <= head.length) {
        const id = head.toString('latin1', offset, offset + 4);
        const declared = head.readUInt32LE(offset + 4);
        const body = offset + 8;
        if (id === 'fmt ') {
          const code = head.readUInt16LE(body);
          const channels = head.readUInt16LE(body + 2);
          const bits = head.readUInt16LE(body + 14);
          // 0xfffe is WAVE_FORMAT_EXTENSIBLE, whose sub-format (checked no further) ffmpeg sets to PCM here.
          if ((code !== 1 && code !== 0xfffe) || channels !== 1 || bits !== 16) throw unreadable(file, `format ${code}, ${channels} channel(s), ${bits} bits`);
          rate = head.readUInt32LE(body + 4);
        } else if (id === 'data') {
          if (!rate) throw unreadable(file, 'data chunk before fmt chunk');
          // A size past the end (a header never finalised) means "to the end of the file".
          const bytes = Math.min(declared, size - body);
          return new WavFile(handle, file, rate, body, Math.floor(bytes / 2));
        }
        offset = body + declared + (declared & 1);
      }
      throw unreadable(file, 'no data chunk in the first 64 kB');
    } catch (e) {
      await handle.close();
      throw e;
    }
  }

  /** `length` samples from `start` as floats in [-1, 1]; zeros where the range lies outside the file. */
  async read(start: number, length: number): Promise<Float32Array> {
    const out = new Float32Array(Math.max(0, length));
    const from = Math.max(0, start);
    const to = Math.min(this.length, start + length);
    if (to <= from) return out;
    const bytes = new Uint8Array((to - from) * 2);
    await this.handle.read(bytes, 0, bytes.length, this.dataOffset + from * 2);
    const at = from - start;
    // The shard's int16 audio is `round(v * 32767)`: dividing by the same makes the round trip lossless.
    if (LITTLE_ENDIAN) {
      const pcm = new Int16Array(bytes.buffer, 0, to - from);
      for (let i = 0; i < pcm.length; i++) out[at + i] = pcm[i] / 32767;
    } else {
      const view = new DataView(bytes.buffer);
      for (let i = 0; i < to - from; i++) out[at + i] = view.getInt16(2 * i, true) / 32767;
    }
    return out;
  }

  async close(): Promise<void> {
    await this.handle.close();
  }
}
