import { resolve } from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { describeError } from '@s2g/contracts';
import { generateSyntheticSpeaker } from './generate';
import type { StylePreset } from './style';
import { STYLE_PRESETS } from './style';

function positive(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('must be a positive number');
  return n;
}

function preset(value: string): StylePreset {
  if (!(value in STYLE_PRESETS)) throw new InvalidArgumentError(`one of ${Object.keys(STYLE_PRESETS).join(', ')}`);
  return value as StylePreset;
}

/** `synth`: writes a synthetic speaker as an original-layout dataset. Returns the exit code. */
export async function runSynthCli(argv: readonly string[], out: (line: string) => void = console.log): Promise<number> {
  const program = new Command('synth')
    .description('Generate a synthetic speaker (speech-like audio + gestures that follow it) as a speech2gesture-layout dataset.')
    .requiredOption('--out <dir>', 'dataset folder to write (frames.csv, intervals_df.csv, <name>/...)')
    .option('--seed <seed>', 'random seed; the same seed writes the same files', '1')
    .option('--name <name>', 'speaker name', 'synth')
    .option('--minutes <n>', 'total minutes of video', positive, 2)
    .option('--style <preset>', `style preset (${Object.keys(STYLE_PRESETS).join(', ')}); default: drawn from the seed`, preset)
    .option('--no-video', 'skip the mp4 files (audio, keypoints and CSVs only)')
    .exitOverride()
    .configureOutput({ writeOut: (s) => out(s.trimEnd()), writeErr: (s) => out(s.trimEnd()) });
  try {
    program.parse(argv, { from: 'user' });
  } catch (e) {
    const code = (e as { exitCode?: number }).exitCode;
    return typeof code === 'number' ? code : 2;
  }
  const opts = program.opts<{ out: string; seed: string; name: string; minutes: number; style?: StylePreset; video: boolean }>();
  try {
    const result = await generateSyntheticSpeaker({
      seed: opts.seed,
      name: opts.name,
      minutes: opts.minutes,
      outDir: resolve(opts.out),
      ...(opts.style ? { style: opts.style } : {}),
      video: opts.video,
      onProgress: (done, total, video) => out(`[${done}/${total}] ${video}`),
    });
    const frames = result.videos.reduce((n, v) => n + v.frames, 0);
    const intervals = result.videos.reduce((n, v) => n + v.intervals.length, 0);
    out(`speaker ${result.speaker}: ${result.videos.length} video(s), ${intervals} intervals, ${frames} frames in ${result.root}`);
    out(`style ${JSON.stringify(result.style)}`);
    return 0;
  } catch (e) {
    const { code, message } = describeError(e);
    out(`error ${code}: ${message}`);
    return 1;
  }
}
