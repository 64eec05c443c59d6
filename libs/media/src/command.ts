import type { ChildProcess } from 'node:child_process';
import type { Readable } from 'node:stream';
import ffmpeg from 'fluent-ffmpeg';
import { ErrorCode, S2gError } from '@s2g/contracts';
import { mediaBinaries } from './binaries';

/** A fluent-ffmpeg command with the configured binaries. The only place commands are created. */
export function command(input?: string | Readable): ffmpeg.FfmpegCommand {
  mediaBinaries();
  return input === undefined ? ffmpeg() : ffmpeg(input);
}

/** The last meaningful lines of ffmpeg's output (banner and progress dropped), for error messages. */
function reason(text: string): string {
  const lines = text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter(
      (l) =>
        l &&
        !/^(ffmpeg|ffprobe) (version|exited with code)|^built with|^configuration:|^lib[a-z]+\s+\d|^Input #|^Output #|^Stream mapping|^Press \[q\]|^size=|^video:|^frame=|^(Duration|Metadata|Stream #|encoder|major_brand|minor_version|compatible_brands|handler_name|vendor_id|creation_time)\b/.test(
          l,
        ),
    );
  return lines.slice(-2).join(' | ');
}

/**
 * Turns an ffmpeg/ffprobe failure into an S2gError naming the file: FILE_MISSING, MEDIA_UNSUPPORTED
 * (readable, but no usable stream or codec) or MEDIA_UNREADABLE (anything else about the input).
 */
export function mediaError(file: string, err: unknown, stderr?: string): S2gError {
  if (err instanceof S2gError) return err;
  const message = err instanceof Error ? err.message : String(err);
  const text = `${message}\n${stderr ?? ''}`;
  const why = reason(stderr || message) || message.split('\n')[0];
  if (/No such file or directory/i.test(text)) {
    return new S2gError(ErrorCode.FILE_MISSING, `${file}: file not found`, { file }, { cause: err });
  }
  if (/matches no streams|does not contain any stream|Decoder \(codec .*\) not found|Unknown decoder|no (audio|video) stream/i.test(text)) {
    return new S2gError(ErrorCode.MEDIA_UNSUPPORTED, `${file}: unsupported media (${why})`, { file }, { cause: err });
  }
  return new S2gError(ErrorCode.MEDIA_UNREADABLE, `${file}: cannot read media (${why})`, { file }, { cause: err });
}

/** The child process fluent-ffmpeg spawned for `cmd` (set just before its 'start' event; untyped upstream). */
function processOf(cmd: ffmpeg.FfmpegCommand): ChildProcess | undefined {
  return (cmd as unknown as { ffmpegProc?: ChildProcess }).ffmpegProc;
}

/**
 * Runs a command to completion; rejects with the raw error and stderr for the caller to classify.
 * On failure it waits for ffmpeg to exit, so callers can delete partial output without ffmpeg
 * writing it again while it shuts down.
 */
export function run(cmd: ffmpeg.FfmpegCommand): Promise<void> {
  let proc: ChildProcess | undefined;
  return new Promise((resolve, reject) => {
    cmd
      .on('start', () => {
        proc = processOf(cmd);
      })
      .on('end', () => resolve())
      .on('error', (err: Error, _stdout: string | null, stderr: string | null) => {
        const fail = (): void => reject(Object.assign(err, { stderr: stderr ?? '' }));
        if (proc && proc.exitCode === null && proc.signalCode === null) {
          proc.once('exit', fail);
          // fluent-ffmpeg sends SIGTERM on an input stream error, but ffmpeg only acts on it between
          // reads: one blocked reading its stdin pipe would wait forever. End of input wakes it.
          proc.stdin?.destroy();
        } else fail();
      })
      .run();
  });
}

/** stderr attached by `run`, if any. */
export function stderrOf(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null && 'stderr' in err && typeof err.stderr === 'string' ? err.stderr : undefined;
}
