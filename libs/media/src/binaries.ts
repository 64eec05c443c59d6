import { accessSync, constants, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { delimiter, join } from 'node:path';
import ffmpeg from 'fluent-ffmpeg';
import { ErrorCode, S2gError } from '@s2g/contracts';

/** Where a binary came from, in order of precedence. */
export type BinarySource = 'option' | 'env' | 'path' | 'npm';

export interface MediaBinaries {
  ffmpeg: string;
  ffprobe: string;
  sources: { ffmpeg: BinarySource; ffprobe: BinarySource };
}

export interface MediaBinaryOptions {
  ffmpegPath?: string;
  ffprobePath?: string;
  /** Environment to read FFMPEG_PATH, FFPROBE_PATH and PATH from; default `process.env`. */
  env?: Record<string, string | undefined>;
}

function isExecutable(file: string): boolean {
  try {
    if (!statSync(file).isFile()) return false;
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function onPath(name: string, pathVar: string | undefined): string | undefined {
  for (const dir of (pathVar ?? '').split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, name);
    if (isExecutable(candidate)) return candidate;
  }
  return undefined;
}

/** The binaries shipped in npm (@ffmpeg-installer, @ffprobe-installer); they throw on import when absent. */
function fromNpm(name: 'ffmpeg' | 'ffprobe'): string | undefined {
  const require = createRequire(import.meta.url);
  try {
    const mod = require(name === 'ffmpeg' ? '@ffmpeg-installer/ffmpeg' : '@ffprobe-installer/ffprobe') as { path?: unknown };
    return typeof mod.path === 'string' && isExecutable(mod.path) ? mod.path : undefined;
  } catch {
    return undefined;
  }
}

function resolveOne(name: 'ffmpeg' | 'ffprobe', option: string | undefined, env: Record<string, string | undefined>): { path: string; source: BinarySource } {
  const envVar = name === 'ffmpeg' ? 'FFMPEG_PATH' : 'FFPROBE_PATH';
  // An explicit setting that does not work is a configuration error, never a silent fallback.
  if (option) {
    if (!isExecutable(option)) throw new S2gError(ErrorCode.CONFIG_INVALID, `${name} path ${option} is not an executable file`, { [envVar]: option });
    return { path: option, source: 'option' };
  }
  const fromEnv = env[envVar];
  if (fromEnv) {
    if (!isExecutable(fromEnv)) throw new S2gError(ErrorCode.CONFIG_INVALID, `${envVar}=${fromEnv} is not an executable file`, { [envVar]: fromEnv });
    return { path: fromEnv, source: 'env' };
  }
  const system = onPath(name, env.PATH);
  if (system) return { path: system, source: 'path' };
  const npm = fromNpm(name);
  if (npm) return { path: npm, source: 'npm' };
  throw new S2gError(ErrorCode.UNAVAILABLE, `no ${name} found: set ${envVar}, put ${name} on PATH, or install the npm-shipped binaries`);
}

/**
 * Finds ffmpeg and ffprobe: explicit options, then FFMPEG_PATH / FFPROBE_PATH, then the system
 * binaries on PATH, then the ones shipped in npm.
 */
export function resolveBinaries(opts: MediaBinaryOptions = {}): MediaBinaries {
  const env = opts.env ?? process.env;
  const a = resolveOne('ffmpeg', opts.ffmpegPath, env);
  const b = resolveOne('ffprobe', opts.ffprobePath, env);
  return { ffmpeg: a.path, ffprobe: b.path, sources: { ffmpeg: a.source, ffprobe: b.source } };
}

let current: MediaBinaries | undefined;

/**
 * Sets the binaries every media call in this process uses. fluent-ffmpeg keeps its paths in
 * module-global state, so they are a per-process setting, made here and nowhere else.
 */
export function configureMedia(opts: MediaBinaryOptions = {}): MediaBinaries {
  const resolved = resolveBinaries(opts);
  ffmpeg.setFfmpegPath(resolved.ffmpeg);
  ffmpeg.setFfprobePath(resolved.ffprobe);
  current = resolved;
  return resolved;
}

/** The binaries in use, resolving them from the environment on first use. */
export function mediaBinaries(): MediaBinaries {
  return current ?? configureMedia();
}
