/**
 * Timestamps as the original dataset writes them. frames.csv `pose_dt` is `HH:MM:SS.ffffff`;
 * intervals_df.csv was written by pandas and may hold `0 days 00:01:23.456000` (timedelta) or
 * `1900-01-01 00:01:23.456` (datetime); keypoint files end in `_H_MM_SS.ffffff.txt`.
 */
const CLOCK = /(?:(\d+)\s+days?\s+)?(?:\d{4}-\d{2}-\d{2}[ T])?(\d+):(\d{1,2}):(\d{1,2}(?:\.\d*)?)$/;

/** Seconds from a clock string or a plain number of seconds; undefined when it is neither. */
export function parseTimestamp(text: string): number | undefined {
  const s = text.trim();
  if (s === '') return undefined;
  if (/^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(s)) return Number(s);
  const m = CLOCK.exec(s);
  if (!m) return undefined;
  const days = m[1] ? Number(m[1]) : 0;
  return days * 86_400 + Number(m[2]) * 3600 + Number(m[3]) * 60 + Number(m[4]);
}

/** `HH:MM:SS.ffffff`, the frames.csv `pose_dt` form. */
export function formatTimestamp(seconds: number): string {
  const micros = Math.round(seconds * 1e6);
  const h = Math.floor(micros / 3_600_000_000);
  const m = Math.floor((micros % 3_600_000_000) / 60_000_000);
  const us = micros % 60_000_000;
  const sec = Math.floor(us / 1e6);
  const frac = us % 1e6;
  return `${pad(h, 2)}:${pad(m, 2)}:${pad(sec, 2)}.${pad(frac, 6)}`;
}

/** `H_MM_SS.ffffff`, as the time suffix of keypoint file names in the original dataset. */
export function formatFileTime(seconds: number): string {
  return formatTimestamp(seconds).replace(/^0(\d)/, '$1').replace(/:/g, '_');
}

/** Seconds from a keypoint file name ending in `_H_MM_SS[.ffffff].<ext>`, else undefined. */
export function parseFileTime(fileName: string): number | undefined {
  const m = /_(\d+)_(\d{1,2})_(\d{1,2}(?:\.\d+)?)\.[A-Za-z0-9]+$/.exec(fileName);
  if (!m) return undefined;
  return Number(m[1]) * 3600 + Number(m[2]) * 60 + Number(m[3]);
}

function pad(n: number, width: number): string {
  return String(n).padStart(width, '0');
}
