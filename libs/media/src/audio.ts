import { rename, rm } from 'node:fs/promises';
import type { PassThrough } from 'node:stream';
import { ErrorCode, S2gError } from '@s2g/contracts';
import { SAMPLE_RATE } from '@s2g/audio';
import { command, mediaError, run, stderrOf } from './command';
import { type MediaInput, asFile, inputName, scratch } from './input';

export interface DecodeAudioOptions {
  /** Output rate; default 16 kHz (ML-SPEC section 1). */
  sampleRate?: number;
  /** Start offset and length in seconds, to decode part of a long file. */
  startSec?: number;
  durationSec?: number;
  /** Fail with AUDIO_TOO_LONG instead of decoding more than this many seconds. */
  maxDurationSec?: number;
  /** Label for errors when the input is not a path. */
  name?: string;
}

function timing(opts: DecodeAudioOptions): string[] {
  const out: string[] = [];
  if (opts.startSec !== undefined) out.push('-ss', String(opts.startSec));
  if (opts.durationSec !== undefined) out.push('-t', String(opts.durationSec));
  return out;
}

/**
 * Decodes the first audio stream of any container ffmpeg reads (wav, mp3, m4a, webm, mp4, ...) to a
 * mono float32 waveform at `sampleRate`, streamed through a pipe (no intermediate file for paths).
 */
export async function decodeAudio(input: MediaInput, opts: DecodeAudioOptions = {}): Promise<Float32Array> {
  const name = inputName(input, opts.name);
  const sampleRate = opts.sampleRate ?? SAMPLE_RATE;
  const limit = opts.maxDurationSec === undefined ? Infinity : Math.ceil(opts.maxDurationSec * sampleRate) * 4;
  const tmp = await scratch();
  try {
    const file = await asFile(input, tmp.dir, name);
    const cmd = command(file)
      .outputOptions(['-map', '0:a:0', '-vn', '-sn', '-dn', '-ac', '1', '-ar', String(sampleRate), '-c:a', 'pcm_f32le', ...timing(opts)])
      .format('f32le');
    const chunks: Buffer[] = [];
    let bytes = 0;
    let tooLong = false;
    const finished = new Promise<void>((resolve, reject) => {
      cmd.on('end', () => resolve()).on('error', (err: Error, _o: unknown, stderr: string | null) => reject(Object.assign(err, { stderr: stderr ?? '' })));
    });
    const out = cmd.pipe() as PassThrough;
    const drained = new Promise<void>((resolve) => {
      out.on('data', (c: Buffer) => {
        if (tooLong) return;
        bytes += c.length;
        if (bytes > limit) {
          tooLong = true;
          cmd.kill('SIGKILL');
          return;
        }
        chunks.push(c);
      });
      out.on('end', resolve);
      out.on('close', resolve);
    });
    let failure: unknown;
    try {
      await finished;
      await drained;
    } catch (err) {
      failure = err;
    }
    // Checked whether or not the kill came in time: ffmpeg may already have finished a file just over
    // the limit when its output crosses it, and then it ends normally with the samples cut short.
    if (tooLong) {
      throw new S2gError(ErrorCode.AUDIO_TOO_LONG, `${name}: audio is longer than ${opts.maxDurationSec} s`, { file: name, maxDurationSec: opts.maxDurationSec });
    }
    if (failure !== undefined) throw mediaError(name, failure, stderrOf(failure));
    const all = Buffer.concat(chunks);
    // Copy into an aligned buffer: a pooled Buffer's offset need not be a multiple of 4.
    const wave = new Float32Array(Math.floor(all.length / 4));
    new Uint8Array(wave.buffer).set(all.subarray(0, wave.length * 4));
    return wave;
  } finally {
    await tmp.cleanup();
  }
}

export interface ExtractAudioOptions {
  sampleRate?: number;
  channels?: number;
  name?: string;
}

/** Writes the first audio stream as 16-bit PCM WAV (default mono 16 kHz) to `outFile`. */
export async function extractAudioToWav(input: MediaInput, outFile: string, opts: ExtractAudioOptions = {}): Promise<void> {
  const name = inputName(input, opts.name);
  const tmp = await scratch();
  try {
    const file = await asFile(input, tmp.dir, name);
    // Written beside the target and renamed, so a failure never leaves a half-written file.
    const partial = `${outFile}.partial`;
    const cmd = command(file)
      .outputOptions(['-map', '0:a:0', '-vn', '-sn', '-dn', '-ac', String(opts.channels ?? 1), '-ar', String(opts.sampleRate ?? SAMPLE_RATE), '-c:a', 'pcm_s16le'])
      .format('wav')
      .output(partial);
    try {
      await run(cmd);
    } catch (err) {
      await rm(partial, { force: true });
      throw mediaError(name, err, stderrOf(err));
    }
    await rename(partial, outFile);
  } finally {
    await tmp.cleanup();
  }
}
