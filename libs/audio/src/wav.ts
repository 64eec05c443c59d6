import { ErrorCode, S2gError } from '@s2g/contracts';

/** Sample encodings this codec reads; it writes `pcm16` and `float32`. */
export type WavFormat = 'pcm8' | 'pcm16' | 'pcm24' | 'pcm32' | 'float32' | 'float64';

export interface WavAudio {
  sampleRate: number;
  /** One array per channel, samples in [-1, 1] for PCM. */
  channels: Float32Array[];
  format: WavFormat;
}

const FORMAT_PCM = 1;
const FORMAT_FLOAT = 3;
const FORMAT_EXTENSIBLE = 0xfffe;

function fourcc(view: DataView, offset: number): string {
  return String.fromCharCode(view.getUint8(offset), view.getUint8(offset + 1), view.getUint8(offset + 2), view.getUint8(offset + 3));
}

function unreadable(name: string, why: string): S2gError {
  return new S2gError(ErrorCode.MEDIA_UNREADABLE, `${name} is not a readable WAV file: ${why}`, { file: name });
}

/**
 * Decodes a RIFF/WAVE file (PCM 8/16/24/32-bit, IEEE float 32/64, plain or WAVE_FORMAT_EXTENSIBLE).
 * A data chunk whose declared size runs past the end (as ffmpeg writes to a pipe) is read to the end.
 * `name` only labels errors.
 */
export function decodeWav(bytes: Uint8Array, name = 'audio'): WavAudio {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.byteLength < 12 || fourcc(view, 0) !== 'RIFF' || fourcc(view, 8) !== 'WAVE') {
    throw unreadable(name, 'missing RIFF/WAVE header');
  }
  let fmt: { code: number; channels: number; sampleRate: number; bits: number } | undefined;
  let offset = 12;
  while (offset + 8 <= bytes.byteLength) {
    const id = fourcc(view, offset);
    const declared = view.getUint32(offset + 4, true);
    const body = offset + 8;
    const size = Math.min(declared, bytes.byteLength - body);
    if (id === 'fmt ') {
      if (size < 16) throw unreadable(name, 'fmt chunk too short');
      let code = view.getUint16(body, true);
      if (code === FORMAT_EXTENSIBLE) {
        if (size < 26) throw unreadable(name, 'extensible fmt chunk too short');
        // The sub-format GUID starts with the plain format code.
        code = view.getUint16(body + 24, true);
      }
      fmt = { code, channels: view.getUint16(body + 2, true), sampleRate: view.getUint32(body + 4, true), bits: view.getUint16(body + 14, true) };
    } else if (id === 'data') {
      if (!fmt) throw unreadable(name, 'data chunk before fmt chunk');
      return { sampleRate: fmt.sampleRate, format: formatOf(fmt.code, fmt.bits, name), channels: readSamples(view, body, size, fmt, name) };
    }
    // Chunks are padded to an even size.
    offset = body + declared + (declared & 1);
  }
  throw unreadable(name, fmt ? 'no data chunk' : 'no fmt chunk');
}

function formatOf(code: number, bits: number, name: string): WavFormat {
  if (code === FORMAT_PCM && (bits === 8 || bits === 16 || bits === 24 || bits === 32)) return `pcm${bits}`;
  if (code === FORMAT_FLOAT && (bits === 32 || bits === 64)) return `float${bits}`;
  throw new S2gError(ErrorCode.MEDIA_UNSUPPORTED, `${name}: WAV encoding ${code} with ${bits} bits per sample is not supported`, { file: name });
}

function readSamples(view: DataView, start: number, size: number, fmt: { code: number; channels: number; bits: number }, name: string): Float32Array[] {
  const format = formatOf(fmt.code, fmt.bits, name);
  if (fmt.channels < 1) throw unreadable(name, 'zero channels');
  const bytesPer = fmt.bits / 8;
  const frameBytes = bytesPer * fmt.channels;
  const frames = Math.floor(size / frameBytes);
  const channels = Array.from({ length: fmt.channels }, () => new Float32Array(frames));
  for (let i = 0; i < frames; i++) {
    for (let c = 0; c < fmt.channels; c++) {
      const p = start + i * frameBytes + c * bytesPer;
      let v: number;
      switch (format) {
        case 'pcm8':
          v = (view.getUint8(p) - 128) / 128;
          break;
        case 'pcm16':
          v = view.getInt16(p, true) / 32768;
          break;
        case 'pcm24': {
          const u = view.getUint8(p) | (view.getUint8(p + 1) << 8) | (view.getInt8(p + 2) << 16);
          v = u / 8388608;
          break;
        }
        case 'pcm32':
          v = view.getInt32(p, true) / 2147483648;
          break;
        case 'float32':
          v = view.getFloat32(p, true);
          break;
        case 'float64':
          v = view.getFloat64(p, true);
          break;
      }
      channels[c][i] = v;
    }
  }
  return channels;
}

export interface EncodeWavOptions {
  /** `pcm16` (default; clips to [-1, 1]) or `float32` (lossless for Float32Array input). */
  format?: 'pcm16' | 'float32';
}

/** Encodes one or more equally long channels as a WAV file. */
export function encodeWav(audio: Float32Array | readonly Float32Array[], sampleRate: number, opts: EncodeWavOptions = {}): Uint8Array {
  const channels = audio instanceof Float32Array ? [audio] : audio;
  if (channels.length === 0) throw new RangeError('encodeWav needs at least one channel');
  const frames = channels[0].length;
  for (const ch of channels) if (ch.length !== frames) throw new RangeError('channels differ in length');
  if (!Number.isInteger(sampleRate) || sampleRate <= 0) throw new RangeError(`invalid sample rate ${sampleRate}`);
  const float = opts.format === 'float32';
  const bytesPer = float ? 4 : 2;
  const nch = channels.length;
  const dataBytes = frames * nch * bytesPer;
  // Non-PCM formats carry cbSize in fmt and a fact chunk with the frame count.
  const fmtBytes = float ? 18 : 16;
  const factBytes = float ? 12 : 0;
  const total = 12 + 8 + fmtBytes + factBytes + 8 + dataBytes;
  const out = new Uint8Array(total);
  const view = new DataView(out.buffer);
  const put = (o: number, s: string): void => {
    for (let i = 0; i < 4; i++) view.setUint8(o + i, s.charCodeAt(i));
  };
  put(0, 'RIFF');
  view.setUint32(4, total - 8, true);
  put(8, 'WAVE');
  put(12, 'fmt ');
  view.setUint32(16, fmtBytes, true);
  view.setUint16(20, float ? FORMAT_FLOAT : FORMAT_PCM, true);
  view.setUint16(22, nch, true);
  view.setUint32(24, sampleRate, true);
  view.setUint32(28, sampleRate * nch * bytesPer, true);
  view.setUint16(32, nch * bytesPer, true);
  view.setUint16(34, bytesPer * 8, true);
  let o = 36;
  if (float) {
    view.setUint16(o, 0, true);
    o += 2;
    put(o, 'fact');
    view.setUint32(o + 4, 4, true);
    view.setUint32(o + 8, frames, true);
    o += 12;
  }
  put(o, 'data');
  view.setUint32(o + 4, dataBytes, true);
  o += 8;
  for (let i = 0; i < frames; i++) {
    for (let c = 0; c < nch; c++) {
      const s = channels[c][i];
      if (float) {
        view.setFloat32(o, s, true);
        o += 4;
      } else {
        const clipped = s > 1 ? 1 : s < -1 ? -1 : s;
        view.setInt16(o, Math.round(clipped < 0 ? clipped * 32768 : clipped * 32767), true);
        o += 2;
      }
    }
  }
  return out;
}
