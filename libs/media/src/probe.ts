import { stat } from 'node:fs/promises';
import type { FfprobeData, FfprobeStream } from 'fluent-ffmpeg';
import { ErrorCode, S2gError } from '@s2g/contracts';
import { command, mediaError } from './command';

export interface AudioStreamInfo {
  type: 'audio';
  index: number;
  codec: string;
  sampleRate: number;
  channels: number;
  durationSec?: number;
}

export interface VideoStreamInfo {
  type: 'video';
  index: number;
  codec: string;
  width: number;
  height: number;
  fps: number;
  pixelFormat?: string;
  durationSec?: number;
}

export type StreamInfo = AudioStreamInfo | VideoStreamInfo;

export interface MediaInfo {
  file: string;
  /** Container format names as ffprobe reports them, e.g. "mov,mp4,m4a,3gp,3g2,mj2". */
  format: string;
  /** Container duration, or the longest stream's when the container has none; 0 if unknown. */
  durationSec: number;
  streams: StreamInfo[];
  /** First audio / video stream, for the common case. */
  audio?: AudioStreamInfo;
  video?: VideoStreamInfo;
}

function num(v: unknown): number | undefined {
  const n = typeof v === 'number' ? v : typeof v === 'string' ? Number(v) : Number.NaN;
  return Number.isFinite(n) ? n : undefined;
}

/** "30000/1001" -> 29.97; "0/0" -> undefined. */
function rate(v: string | undefined): number | undefined {
  if (!v) return undefined;
  const [a, b] = v.split('/').map(Number);
  const r = b === undefined ? a : a / b;
  return Number.isFinite(r) && r > 0 ? r : undefined;
}

function streamInfo(s: FfprobeStream): StreamInfo | undefined {
  const durationSec = num(s.duration);
  if (s.codec_type === 'audio') {
    return { type: 'audio', index: s.index, codec: s.codec_name ?? 'unknown', sampleRate: num(s.sample_rate) ?? 0, channels: s.channels ?? 0, durationSec };
  }
  // Cover art in audio files is an attached picture, not video.
  if (s.codec_type === 'video' && !s.disposition?.attached_pic) {
    return {
      type: 'video',
      index: s.index,
      codec: s.codec_name ?? 'unknown',
      width: s.width ?? 0,
      height: s.height ?? 0,
      fps: rate(s.avg_frame_rate) ?? rate(s.r_frame_rate) ?? 0,
      pixelFormat: s.pix_fmt,
      durationSec,
    };
  }
  return undefined;
}

/** Streams and duration of a media file. FILE_MISSING, MEDIA_UNREADABLE or MEDIA_UNSUPPORTED otherwise. */
export async function probe(file: string): Promise<MediaInfo> {
  try {
    if (!(await stat(file)).isFile()) throw new S2gError(ErrorCode.MEDIA_UNREADABLE, `${file}: not a file`, { file });
  } catch (e) {
    throw mediaError(file, e instanceof S2gError ? e : new Error(`No such file or directory: ${file}`));
  }
  const data = await new Promise<FfprobeData>((resolve, reject) => {
    command(file).ffprobe((err: unknown, d: FfprobeData) => (err ? reject(mediaError(file, err)) : resolve(d)));
  });
  const streams = data.streams.map(streamInfo).filter((s): s is StreamInfo => s !== undefined);
  if (streams.length === 0) throw new S2gError(ErrorCode.MEDIA_UNSUPPORTED, `${file}: no audio or video stream`, { file });
  const longest = Math.max(0, ...streams.map((s) => s.durationSec ?? 0));
  return {
    file,
    format: data.format.format_name ?? 'unknown',
    durationSec: num(data.format.duration) ?? longest,
    streams,
    audio: streams.find((s): s is AudioStreamInfo => s.type === 'audio'),
    video: streams.find((s): s is VideoStreamInfo => s.type === 'video'),
  };
}
