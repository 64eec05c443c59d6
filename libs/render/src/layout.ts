import { FRAME_VALUES, NUM_KEYPOINTS } from '@s2g/pose';
import { ErrorCode, S2gError } from '@s2g/contracts';
import { Rect } from './canvas';

/** A box in pose (source pixel) coordinates. */
export interface Bounds {
  minX: number;
  minY: number;
  maxX: number;
  maxY: number;
}

/** Maps pose coordinates to canvas pixels: `canvas = pose * scale + offset` (same scale on both axes). */
export interface Transform {
  scale: number;
  offsetX: number;
  offsetY: number;
}

/** Number of frames in a flattened (T x 98) pose sequence; throws if the length is not a whole number of frames. */
export function frameCount(frames: ArrayLike<number>, what = 'pose sequence'): number {
  if (frames.length === 0 || frames.length % FRAME_VALUES !== 0) {
    throw new S2gError(ErrorCode.KEYPOINTS_INVALID, `${what} has ${frames.length} values, expected a positive multiple of ${FRAME_VALUES} (x0..x48, y0..y48 per frame)`);
  }
  return frames.length / FRAME_VALUES;
}

function quantile(sorted: Float64Array, q: number): number {
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.min(sorted.length - 1, lo + 1);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

/**
 * One box for the whole of one or more sequences, so the figure keeps its place and size instead
 * of jittering frame to frame. The extreme `trim` fraction of coordinates on each side is ignored:
 * a single keypoint glitch (common in OpenPose hands) must not shrink a whole video.
 * Returns null when no coordinate is finite.
 */
export function sequenceBounds(sequences: readonly ArrayLike<number>[], trim = 0.001): Bounds | null {
  let n = 0;
  for (const s of sequences) n += frameCount(s) * NUM_KEYPOINTS;
  const xs = new Float64Array(n);
  const ys = new Float64Array(n);
  let k = 0;
  for (const s of sequences) {
    const t = frameCount(s);
    for (let f = 0; f < t; f++) {
      const base = f * FRAME_VALUES;
      for (let j = 0; j < NUM_KEYPOINTS; j++) {
        const x = s[base + j];
        const y = s[base + NUM_KEYPOINTS + j];
        if (Number.isFinite(x) && Number.isFinite(y)) {
          xs[k] = x;
          ys[k] = y;
          k++;
        }
      }
    }
  }
  if (k === 0) return null;
  const sx = xs.subarray(0, k).sort();
  const sy = ys.subarray(0, k).sort();
  return { minX: quantile(sx, trim), maxX: quantile(sx, 1 - trim), minY: quantile(sy, trim), maxY: quantile(sy, 1 - trim) };
}

/**
 * The largest uniform scale that fits `bounds` into `rect` leaving `margin` (a fraction of the
 * rect's smaller side) on every side, centred. A degenerate box (one point) is centred at scale 1.
 */
export function fitBounds(bounds: Bounds, rect: Rect, margin = 0): Transform {
  const rw = rect.x1 - rect.x0;
  const rh = rect.y1 - rect.y0;
  const pad = Math.min(rw, rh) * margin;
  const bw = bounds.maxX - bounds.minX;
  const bh = bounds.maxY - bounds.minY;
  const sx = bw > 0 ? (rw - 2 * pad) / bw : Infinity;
  const sy = bh > 0 ? (rh - 2 * pad) / bh : Infinity;
  let scale = Math.min(sx, sy);
  if (!Number.isFinite(scale) || scale <= 0) scale = 1;
  const cx = (bounds.minX + bounds.maxX) / 2;
  const cy = (bounds.minY + bounds.maxY) / 2;
  return { scale, offsetX: (rect.x0 + rect.x1) / 2 - cx * scale, offsetY: (rect.y0 + rect.y1) / 2 - cy * scale };
}

/** The integer rectangle of size w x h (keeping aspect) that fits centred into `rect`: where a background video frame goes. */
export function fitImage(imageWidth: number, imageHeight: number, rect: Rect): Rect {
  const rw = rect.x1 - rect.x0;
  const rh = rect.y1 - rect.y0;
  const scale = Math.min(rw / imageWidth, rh / imageHeight);
  // Even sizes: the frames come from a yuv420p decoder scaled by ffmpeg, which prefers them.
  const w = Math.max(2, Math.floor((imageWidth * scale) / 2) * 2);
  const h = Math.max(2, Math.floor((imageHeight * scale) / 2) * 2);
  const x0 = rect.x0 + Math.floor((rw - w) / 2);
  const y0 = rect.y0 + Math.floor((rh - h) / 2);
  return { x0, y0, x1: x0 + w, y1: y0 + h };
}

export interface Panel {
  /** The whole panel. */
  rect: Rect;
  /** Where the label is drawn (top strip of the panel). */
  header: Rect;
  /** Where the figure (and background video) goes. */
  figure: Rect;
}

export interface PanelLayout {
  panels: Panel[];
  /** Strip across the bottom for the title and time, or null when there is none. */
  footer: Rect | null;
  /** Vertical divider lines between panels. */
  dividers: Rect[];
}

export interface LayoutOptions {
  headerHeight: number;
  footerHeight: number;
  /** Width of the divider between panels. */
  gap: number;
}

/** Splits the canvas into `count` equal panels side by side, each with a label strip on top, plus an optional footer. */
export function layoutPanels(width: number, height: number, count: number, options: LayoutOptions): PanelLayout {
  if (!Number.isInteger(count) || count < 1) throw new S2gError(ErrorCode.BAD_USER_INPUT, `need at least one panel, got ${count}`);
  const footer = options.footerHeight > 0 ? { x0: 0, y0: height - options.footerHeight, x1: width, y1: height } : null;
  const bottom = footer ? footer.y0 : height;
  const gap = options.gap;
  const panelWidth = (width - gap * (count - 1)) / count;
  if (panelWidth < 8 || bottom - options.headerHeight < 8) {
    throw new S2gError(ErrorCode.BAD_USER_INPUT, `${width}x${height} is too small for ${count} panels`);
  }
  const panels: Panel[] = [];
  const dividers: Rect[] = [];
  for (let i = 0; i < count; i++) {
    const x0 = Math.round(i * (panelWidth + gap));
    const x1 = Math.round(i * (panelWidth + gap) + panelWidth);
    panels.push({
      rect: { x0, y0: 0, x1, y1: bottom },
      header: { x0, y0: 0, x1, y1: options.headerHeight },
      figure: { x0, y0: options.headerHeight, x1, y1: bottom },
    });
    if (i > 0) dividers.push({ x0: x0 - gap, y0: 0, x1: x0, y1: bottom });
  }
  return { panels, footer, dividers };
}
