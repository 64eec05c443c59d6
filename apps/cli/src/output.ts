/**
 * What the command line writes: results on stdout, progress and notes on stderr. Progress is a bar
 * on a terminal and a line every few seconds otherwise (logs, CI), so output stays readable in both.
 */
import { rename, rm, writeFile } from 'node:fs/promises';
import cliProgress from 'cli-progress';

export interface Io {
  out(text: string): void;
  err(text: string): void;
  /** The terminal to draw progress bars on; absent when stderr is not a terminal. */
  tty?: NodeJS.WriteStream;
  env: NodeJS.ProcessEnv;
}

export function processIo(): Io {
  return {
    out: (t) => void process.stdout.write(t),
    err: (t) => void process.stderr.write(t),
    ...(process.stderr.isTTY ? { tty: process.stderr } : {}),
    env: process.env,
  };
}

export interface Progress {
  /** `value` of `total` done; `note` is shown beside the bar (losses, stage) until another replaces it. */
  update(value: number, note?: string, total?: number): void;
  stop(finalNote?: string): void;
}

const LINE_INTERVAL_MS = 5_000;

export function createProgress(io: Io, label: string, total: number): Progress {
  if (io.tty) {
    const bar = new cliProgress.SingleBar(
      { format: `${label} [{bar}] {percentage}% {value}/{total} {note}`, stream: io.tty, hideCursor: true, clearOnComplete: false, barsize: 30, etaBuffer: 20 },
      cliProgress.Presets.shades_classic,
    );
    bar.start(Math.max(1, total), 0, { note: '' });
    let stopped = false;
    return {
      update: (value, note, newTotal) => {
        if (stopped) return;
        if (newTotal !== undefined) bar.setTotal(Math.max(1, newTotal));
        bar.update(value, note === undefined ? {} : { note });
      },
      stop: (finalNote) => {
        if (stopped) return;
        stopped = true;
        if (finalNote !== undefined) bar.update({ note: finalNote });
        bar.stop();
      },
    };
  }
  let last = 0;
  let shown = '';
  let current = { value: 0, total, note: '' };
  const line = (): string => {
    const pct = current.total > 0 ? Math.floor((100 * current.value) / current.total) : 0;
    return `${label} ${pct}% ${current.value}/${current.total}${current.note ? ` ${current.note}` : ''}`;
  };
  return {
    update: (value, note, newTotal) => {
      // Without a note (a poll of the state, say) the last one stays.
      current = { value, total: newTotal ?? current.total, note: note ?? current.note };
      const now = Date.now();
      const text = line();
      if (now - last < LINE_INTERVAL_MS || text === shown) return;
      last = now;
      shown = text;
      io.err(`${shown}\n`);
    },
    stop: (finalNote) => {
      if (finalNote !== undefined) current.note = finalNote;
      const text = line();
      if (text !== shown) io.err(`${text}\n`);
    },
  };
}

/** A plain text table: columns padded to their widest cell; numbers right-aligned. */
export function table(headers: readonly string[], rows: readonly (readonly (string | number | null | undefined)[])[]): string {
  const cells = rows.map((r) => r.map((c) => (c === null || c === undefined ? '-' : String(c))));
  const widths = headers.map((h, i) => Math.max(h.length, ...cells.map((r) => (r[i] ?? '').length)));
  // Columns of numbers (or '-') are right-aligned so their digits line up.
  const numeric = headers.map((_, i) => cells.length > 0 && cells.every((r) => /^(-|[-+]?\d[\d.,]*%?)$/.test(r[i] ?? '-')));
  const fmt = (r: readonly string[]): string =>
    r
      .map((c, i) => (numeric[i] ? c.padStart(widths[i]) : c.padEnd(widths[i])))
      .join('  ')
      .trimEnd();
  return [fmt(headers), fmt(widths.map((w) => '-'.repeat(w))), ...cells.map(fmt)].join('\n') + '\n';
}

export function fixed(value: number | null | undefined, digits = 3): string {
  return value === null || value === undefined || !Number.isFinite(value) ? '-' : value.toFixed(digits);
}

export function duration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  const m = Math.floor(s / 60);
  return m > 0 ? `${m}m${String(s % 60).padStart(2, '0')}s` : `${s}s`;
}

/**
 * Writes a file whole or not at all: to a temporary sibling, then renamed over the target, so an
 * interrupted command (Ctrl-C, a closed pipe) never leaves a half-written result or state file.
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  const tmp = `${path}.${process.pid}.partial`;
  try {
    await writeFile(tmp, data);
    await rename(tmp, path);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
}
