import { endianness } from 'node:os';
import { crc32 } from 'node:zlib';
import { SAMPLE_RATE, WINDOW_AUDIO_SAMPLES, WINDOW_FRAMES } from '@s2g/audio';
import { ErrorCode, S2gError, SPLITS } from '@s2g/contracts';
import { FRAME_VALUES } from '@s2g/pose';
import type { WindowSample } from '../windows';

/**
 * Shard: many training samples in one binary object, so storage holds one object per few hundred
 * samples instead of one per sample. Layout (all integers little-endian):
 *
 *   0  8 bytes  magic "S2GSHARD"
 *   8  u32      format version (1)
 *  12  u32      header length H (bytes of UTF-8 JSON)
 *  16  u32      CRC-32 of the header bytes
 *  20  u32      CRC-32 of the payload
 *  24  u64      payload length P
 *  32  H bytes  header JSON, then zero bytes up to a multiple of 8
 *      P bytes  payload: for each sample in header order, pose float32[64 * 98] then audio
 *               (float32[67267], or int16[67267] scaled by 32767 when audioEncoding is "i16")
 *
 * The header JSON is `{ version, audioEncoding, frames, values, audioSamples, sampleRate, samples }`
 * where `samples` holds each sample's metadata (id, speaker, video, intervalId, split, startTime,
 * endTime). int16 audio halves the size (a sample is 159,622 bytes instead of 294,156) at the
 * precision the 16-bit source audio had anyway; it is the default.
 */

export const SHARD_MAGIC = 'S2GSHARD';
export const SHARD_VERSION = 1;
/** Shards are kept under this size: small enough to upload without multipart, big enough to be few. */
export const DEFAULT_SHARD_MAX_BYTES = 48 * 1024 * 1024;
const PREFIX = 32;
const LITTLE_ENDIAN = endianness() === 'LE';
/** Generous fixed allowance for the header's constant part plus alignment, when sizing a shard. */
const HEADER_ALLOWANCE = 256;

export type AudioEncoding = 'f32' | 'i16';
export type ShardSampleMeta = Omit<WindowSample, 'pose' | 'audio'>;

export interface ShardHeader {
  version: number;
  audioEncoding: AudioEncoding;
  frames: number;
  values: number;
  audioSamples: number;
  sampleRate: number;
  samples: ShardSampleMeta[];
}

function sampleBytes(enc: AudioEncoding, frames = WINDOW_FRAMES, values = FRAME_VALUES, audioSamples = WINDOW_AUDIO_SAMPLES): number {
  return frames * values * 4 + audioSamples * (enc === 'i16' ? 2 : 4);
}

function metaOf(s: WindowSample): ShardSampleMeta {
  return { id: s.id, speaker: s.speaker, video: s.video, intervalId: s.intervalId, split: s.split, startTime: s.startTime, endTime: s.endTime };
}

function checkSample(s: WindowSample): void {
  const poseLen = WINDOW_FRAMES * FRAME_VALUES;
  if (s.pose.length !== poseLen || s.audio.length !== WINDOW_AUDIO_SAMPLES) {
    throw new S2gError(
      ErrorCode.DATASET_INVALID,
      `sample ${s.id}: pose has ${s.pose.length} values (expected ${poseLen}), audio ${s.audio.length} samples (expected ${WINDOW_AUDIO_SAMPLES})`,
    );
  }
}

/** One sample's payload bytes: pose float32 then audio in the shard's encoding. */
function samplePayload(s: WindowSample, audioEncoding: AudioEncoding): Uint8Array {
  const poseBytes = s.pose.length * 4;
  const out = new Uint8Array(sampleBytes(audioEncoding));
  out.set(new Uint8Array(s.pose.buffer, s.pose.byteOffset, s.pose.byteLength), 0);
  if (audioEncoding === 'f32') out.set(new Uint8Array(s.audio.buffer, s.audio.byteOffset, s.audio.byteLength), poseBytes);
  else if (LITTLE_ENDIAN) {
    // A typed array in the platform's (little-endian) order is several times faster than DataView.
    const pcm = new Int16Array(out.buffer, poseBytes, s.audio.length);
    for (let j = 0; j < s.audio.length; j++) {
      const v = s.audio[j];
      pcm[j] = Math.round((v > 1 ? 1 : v < -1 ? -1 : v) * 32767);
    }
  } else {
    const view = new DataView(out.buffer);
    for (let j = 0; j < s.audio.length; j++) {
      const v = Math.max(-1, Math.min(1, s.audio[j]));
      view.setInt16(poseBytes + 2 * j, Math.round(v * 32767), true);
    }
  }
  return out;
}

/**
 * Builds one shard sample by sample, keeping each sample only in its encoded form (159,622 bytes
 * with int16 audio instead of the 294,156 of a float32 window), so a writer holding partly filled
 * shards of several splits stays small. `finish` gives the same bytes as `encodeShard`.
 */
export class ShardBuilder {
  private readonly metas: ShardSampleMeta[] = [];
  private readonly payloads: Uint8Array[] = [];
  private metaBytes = 0;

  constructor(readonly audioEncoding: AudioEncoding = 'i16') {}

  get count(): number {
    return this.metas.length;
  }

  get samples(): readonly ShardSampleMeta[] {
    return this.metas;
  }

  /** Size of the shard `finish` would return after adding `sample` (an upper bound: padding included). */
  sizeWith(sample?: WindowSample): number {
    const extra = sample ? Buffer.byteLength(JSON.stringify(metaOf(sample))) + 1 : 0;
    const extraPayload = sample ? sampleBytes(this.audioEncoding) : 0;
    return PREFIX + HEADER_ALLOWANCE + this.metaBytes + extra + (this.payloads.length * sampleBytes(this.audioEncoding) + extraPayload);
  }

  add(sample: WindowSample): void {
    checkSample(sample);
    const meta = metaOf(sample);
    this.metas.push(meta);
    this.metaBytes += Buffer.byteLength(JSON.stringify(meta)) + 1;
    this.payloads.push(samplePayload(sample, this.audioEncoding));
  }

  finish(): Uint8Array {
    const header: ShardHeader = {
      version: SHARD_VERSION,
      audioEncoding: this.audioEncoding,
      frames: WINDOW_FRAMES,
      values: FRAME_VALUES,
      audioSamples: WINDOW_AUDIO_SAMPLES,
      sampleRate: SAMPLE_RATE,
      samples: this.metas,
    };
    const headerBytes = new TextEncoder().encode(JSON.stringify(header));
    const headerSpan = Math.ceil(headerBytes.length / 8) * 8;
    const stride = sampleBytes(this.audioEncoding);
    const payloadLen = stride * this.payloads.length;
    const out = new Uint8Array(PREFIX + headerSpan + payloadLen);
    const view = new DataView(out.buffer);
    out.set(new TextEncoder().encode(SHARD_MAGIC), 0);
    view.setUint32(8, SHARD_VERSION, true);
    view.setUint32(12, headerBytes.length, true);
    out.set(headerBytes, PREFIX);
    const payloadStart = PREFIX + headerSpan;
    this.payloads.forEach((p, i) => out.set(p, payloadStart + i * stride));
    view.setUint32(16, crc32(headerBytes), true);
    view.setUint32(20, crc32(out.subarray(payloadStart)), true);
    view.setBigUint64(24, BigInt(payloadLen), true);
    return out;
  }
}

/** Packs samples into one shard. Every sample must be 64 x 98 pose values and 67,267 audio samples. */
export function encodeShard(samples: readonly WindowSample[], audioEncoding: AudioEncoding = 'i16'): Uint8Array {
  samples.forEach(checkSample);
  const builder = new ShardBuilder(audioEncoding);
  for (const s of samples) builder.add(s);
  return builder.finish();
}

function corrupt(name: string, problem: string): never {
  throw new S2gError(ErrorCode.SHARD_CORRUPT, `${name}: ${problem}`, { file: name });
}

interface Located {
  header: ShardHeader;
  payloadStart: number;
  stride: number;
}

function locate(buf: Uint8Array, name: string, checkPayload: boolean): Located {
  if (buf.length < PREFIX) corrupt(name, `too short for a shard (${buf.length} bytes)`);
  if (new TextDecoder().decode(buf.subarray(0, 8)) !== SHARD_MAGIC) corrupt(name, 'bad magic (not an s2g shard)');
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const version = view.getUint32(8, true);
  if (version !== SHARD_VERSION) corrupt(name, `unsupported shard version ${version} (this build reads ${SHARD_VERSION})`);
  const headerLen = view.getUint32(12, true);
  const payloadLen = Number(view.getBigUint64(24, true));
  const headerSpan = Math.ceil(headerLen / 8) * 8;
  const payloadStart = PREFIX + headerSpan;
  if (payloadStart + payloadLen !== buf.length) {
    corrupt(name, `length mismatch: header says ${payloadStart + payloadLen} bytes, object has ${buf.length}`);
  }
  const headerBytes = buf.subarray(PREFIX, PREFIX + headerLen);
  if (crc32(headerBytes) !== view.getUint32(16, true)) corrupt(name, 'header checksum mismatch');
  // The alignment bytes are covered by neither checksum, so they must be zero.
  if (buf.subarray(PREFIX + headerLen, payloadStart).some((b) => b !== 0)) corrupt(name, 'non-zero header padding');
  let header: ShardHeader;
  try {
    header = JSON.parse(new TextDecoder().decode(headerBytes)) as ShardHeader;
  } catch (e) {
    corrupt(name, `header is not JSON: ${(e as Error).message}`);
  }
  if (
    (header.audioEncoding !== 'f32' && header.audioEncoding !== 'i16') ||
    !Array.isArray(header.samples) ||
    ![header.frames, header.values, header.audioSamples].every((n) => Number.isInteger(n) && n > 0)
  ) {
    corrupt(name, 'header fields missing or invalid');
  }
  for (const s of header.samples) if (!SPLITS.includes(s.split)) corrupt(name, `sample ${s.id}: unknown split '${s.split}'`);
  const stride = sampleBytes(header.audioEncoding, header.frames, header.values, header.audioSamples);
  if (payloadLen !== stride * header.samples.length) {
    corrupt(name, `payload is ${payloadLen} bytes, ${header.samples.length} samples need ${stride * header.samples.length}`);
  }
  if (checkPayload && crc32(buf.subarray(payloadStart)) !== view.getUint32(20, true)) corrupt(name, 'payload checksum mismatch');
  return { header, payloadStart, stride };
}

/** The header alone (sample metadata), checked except for the payload checksum; cheap for listings. */
export function readShardHeader(buf: Uint8Array, name = 'shard'): ShardHeader {
  return locate(buf, name, false).header;
}

/** Unpacks a shard, verifying magic, version, lengths and both checksums; throws SHARD_CORRUPT otherwise. */
export function decodeShard(buf: Uint8Array, name = 'shard'): { header: ShardHeader; samples: WindowSample[] } {
  const { header, payloadStart, stride } = locate(buf, name, true);
  const poseLen = header.frames * header.values;
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const samples = header.samples.map((meta, i) => {
    const at = buf.byteOffset + payloadStart + i * stride;
    // Copy: payload offsets are not 4-byte aligned in i16 shards, and callers may keep samples after the buffer goes.
    const pose = new Float32Array(buf.buffer.slice(at, at + poseLen * 4));
    const audioAt = at + poseLen * 4;
    let audio: Float32Array;
    if (header.audioEncoding === 'f32') audio = new Float32Array(buf.buffer.slice(audioAt, audioAt + header.audioSamples * 4));
    else {
      audio = new Float32Array(header.audioSamples);
      const rel = audioAt - buf.byteOffset;
      for (let j = 0; j < audio.length; j++) audio[j] = view.getInt16(rel + 2 * j, true) / 32767;
    }
    return { ...meta, pose, audio };
  });
  return { header, samples };
}

export interface PackedShard {
  bytes: Uint8Array;
  samples: ShardSampleMeta[];
}

/** Groups a stream of samples into shards of at most `maxBytes` each (at least one sample per shard). */
export async function* packShards(
  samples: AsyncIterable<WindowSample> | Iterable<WindowSample>,
  options: { maxBytes?: number; audioEncoding?: AudioEncoding } = {},
): AsyncGenerator<PackedShard> {
  const maxBytes = options.maxBytes ?? DEFAULT_SHARD_MAX_BYTES;
  const enc = options.audioEncoding ?? 'i16';
  let builder = new ShardBuilder(enc);
  const emit = (): PackedShard => {
    const out = { bytes: builder.finish(), samples: [...builder.samples] };
    builder = new ShardBuilder(enc);
    return out;
  };
  for await (const s of samples) {
    if (builder.count > 0 && builder.sizeWith(s) > maxBytes) yield emit();
    builder.add(s);
  }
  if (builder.count > 0) yield emit();
}
