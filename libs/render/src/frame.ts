import { FRAME_VALUES } from '@s2g/pose';
import { ErrorCode, S2gError } from '@s2g/contracts';
import { Canvas, Rect, blit, fill, fillRect } from './canvas';
import { FigureStyle, drawPose, figureStyleFor, projectFrame } from './figure';
import { GLYPH_ADVANCE, drawText, measureText } from './font';
import { Bounds, PanelLayout, Transform, fitBounds, fitImage, frameCount, layoutPanels, sequenceBounds } from './layout';
import { LIGHT_THEME, Theme, VIDEO_THEME } from './theme';

/** One labelled pose sequence: T frames of 98 values (x0..x48, y0..y48) in source pixel coordinates. */
export interface RenderSequence {
  label: string;
  frames: ArrayLike<number>;
}

export interface FrameOptions {
  /** One panel per sequence, left to right (e.g. prediction | ground truth). */
  sequences: readonly RenderSequence[];
  width: number;
  height: number;
  /** Pose frame rate, for the time shown in the footer. */
  fps: number;
  /** Shown at the bottom left, e.g. the speaker's name. */
  title?: string;
  /** Show "elapsed / total" at the bottom right; default true. */
  showTime?: boolean;
  /** Defaults to LIGHT_THEME, or VIDEO_THEME when drawing over a background. */
  theme?: Theme;
  /**
   * Draw over frames of a source video of this size: pose coordinates are that video's pixels, and
   * each panel shows the video scaled (keeping aspect) with the figure at the same scale.
   */
  background?: { width: number; height: number };
  /**
   * `shared` (default) fits one box over all sequences, so prediction and ground truth are drawn
   * at the same scale and can be compared; `each` fits every panel on its own. Ignored with a background.
   */
  fit?: 'shared' | 'each';
}

/** Fraction of the panel's smaller side kept free around the figure. */
const MARGIN = 0.06;

function formatTime(seconds: number): string {
  const cs = Math.round(seconds * 100);
  const m = Math.floor(cs / 6000);
  const s = Math.floor((cs % 6000) / 100);
  const c = cs % 100;
  return `${m}:${String(s).padStart(2, '0')}.${String(c).padStart(2, '0')}`;
}

function fitLabel(text: string, maxWidth: number, scale: number): string {
  if (measureText(text, scale).width <= maxWidth) return text;
  const chars = Math.max(0, Math.floor((maxWidth + scale) / (GLYPH_ADVANCE * scale)) - 3);
  return `${text.slice(0, chars)}...`;
}

/**
 * Draws frames of side-by-side labelled panels into one reused canvas. Everything that does not
 * change per frame (background, labels, dividers, title) is drawn once into a base image that each
 * frame starts from, so a frame costs one memcpy plus the figures.
 */
export class FrameRenderer {
  readonly canvas: Canvas;
  readonly frameCount: number;
  readonly layout: PanelLayout;
  /** Size in which background frames must be passed to `render` (rgb24), or null without a background. */
  readonly backgroundSize: { width: number; height: number } | null;
  private readonly baseImage: Uint8Array;
  private readonly counts: number[];
  private readonly transforms: Transform[];
  private readonly backgroundRects: Rect[];
  private readonly styles: FigureStyle[];
  private readonly theme: Theme;
  private readonly fontScale: number;
  private readonly points = new Float64Array(FRAME_VALUES);
  private lastDamage: Rect[] = [];

  constructor(private readonly options: FrameOptions) {
    const { sequences, width, height, fps } = options;
    if (sequences.length === 0) throw new S2gError(ErrorCode.BAD_USER_INPUT, 'nothing to render: no pose sequences');
    if (!(fps > 0)) throw new S2gError(ErrorCode.BAD_USER_INPUT, `fps must be positive, got ${fps}`);
    this.canvas = new Canvas(width, height);
    this.counts = sequences.map((s, i) => frameCount(s.frames, `sequence ${i} (${s.label})`));
    // Sequences of unequal length (e.g. a prediction one frame shorter than its ground truth) are
    // drawn to the longest; a shorter one holds its last frame.
    this.frameCount = Math.max(...this.counts);
    this.theme = options.theme ?? (options.background ? VIDEO_THEME : LIGHT_THEME);

    const s = Math.max(1, Math.round(height / 240));
    this.fontScale = s;
    const bar = 14 * s;
    const hasFooter = Boolean(options.title) || options.showTime !== false;
    this.layout = layoutPanels(width, height, sequences.length, { headerHeight: bar, footerHeight: hasFooter ? bar : 0, gap: Math.max(1, s) });
    const panels = this.layout.panels;

    if (options.background) {
      const { width: bw, height: bh } = options.background;
      if (!(bw > 0 && bh > 0)) throw new S2gError(ErrorCode.BAD_USER_INPUT, `background size must be positive, got ${bw}x${bh}`);
      // One size for every panel (panel widths can differ by a rounding pixel), centred in each.
      const first = fitImage(bw, bh, panels[0].figure);
      const w = first.x1 - first.x0;
      const h = first.y1 - first.y0;
      this.backgroundSize = { width: w, height: h };
      this.backgroundRects = panels.map((p) => {
        const x0 = p.figure.x0 + Math.floor((p.figure.x1 - p.figure.x0 - w) / 2);
        const y0 = p.figure.y0 + Math.floor((p.figure.y1 - p.figure.y0 - h) / 2);
        return { x0, y0, x1: x0 + w, y1: y0 + h };
      });
      this.transforms = this.backgroundRects.map((r) => ({ scale: w / bw, offsetX: r.x0, offsetY: r.y0 }));
    } else {
      this.backgroundSize = null;
      this.backgroundRects = [];
      const fallback: Bounds = { minX: 0, minY: 0, maxX: 1, maxY: 1 };
      const shared = options.fit === 'each' ? null : (sequenceBounds(sequences.map((q) => q.frames)) ?? fallback);
      this.transforms = panels.map((p, i) => fitBounds(shared ?? sequenceBounds([sequences[i].frames]) ?? fallback, p.figure, MARGIN));
    }
    this.styles = panels.map((p, i) => figureStyleFor(this.backgroundRects[i] ?? p.figure));
    this.baseImage = this.drawBase();
  }

  private drawBase(): Uint8Array {
    const { canvas, theme, layout, fontScale: s } = this;
    fill(canvas, theme.background);
    for (const p of layout.panels) fillRect(canvas, p.header, theme.bars);
    if (layout.footer) fillRect(canvas, layout.footer, theme.bars);
    for (const d of layout.dividers) fillRect(canvas, d, theme.divider);
    layout.panels.forEach((p, i) => {
      const pad = 4 * s;
      const label = fitLabel(this.options.sequences[i].label, p.header.x1 - p.header.x0 - 2 * pad, s);
      const m = measureText(label, s);
      const x = Math.round((p.header.x0 + p.header.x1 - m.width) / 2);
      drawText(canvas, label, x, p.header.y0 + 3 * s, { scale: s, colour: theme.text, clip: p.header });
    });
    const footer = layout.footer;
    if (footer && this.options.title) {
      const maxWidth = (footer.x1 - footer.x0) / 2 - 8 * s;
      drawText(canvas, fitLabel(this.options.title, maxWidth, s), footer.x0 + 4 * s, footer.y0 + 3 * s, { scale: s, colour: theme.text, clip: footer });
    }
    return canvas.data.slice();
  }

  /** The static part every frame starts from (panels, labels, title), over the renderer's buffer: not to be drawn on. */
  get base(): Canvas {
    return new Canvas(this.canvas.width, this.canvas.height, this.baseImage);
  }

  /** The pose frame sequence `seq` shows at output frame `index`. */
  private poseFrame(seq: number, index: number): number {
    return Math.min(index, this.counts[seq] - 1);
  }

  /**
   * Draws output frame `index` and returns the canvas: the renderer's own (reused) one, or one over
   * `target` (width * height * 3 bytes) so a caller that hands frames on can draw straight into a
   * fresh buffer instead of copying. With a background, `background` is that frame of the source
   * video as rgb24 at `backgroundSize`.
   */
  render(index: number, background?: Uint8Array, target?: Uint8Array): Canvas {
    if (!Number.isInteger(index) || index < 0 || index >= this.frameCount) {
      throw new S2gError(ErrorCode.BAD_USER_INPUT, `frame ${index} is outside 0..${this.frameCount - 1}`);
    }
    const { theme, layout, fontScale: s } = this;
    const canvas = target ? new Canvas(this.canvas.width, this.canvas.height, target) : this.canvas;
    canvas.data.set(this.baseImage);
    // What is drawn from here on is what this frame changes.
    canvas.takeDamage();
    if (background) {
      if (!this.backgroundSize) throw new S2gError(ErrorCode.BAD_USER_INPUT, 'a background frame was given but the renderer has no background size');
      for (const r of this.backgroundRects) blit(canvas, background, this.backgroundSize.width, this.backgroundSize.height, r.x0, r.y0);
    }
    layout.panels.forEach((p, i) => {
      const points = projectFrame(this.options.sequences[i].frames, this.poseFrame(i, index), this.transforms[i], this.points);
      drawPose(canvas, points, theme, this.styles[i], p.figure);
    });
    const footer = layout.footer;
    if (footer && this.options.showTime !== false) {
      const fps = this.options.fps;
      const text = `${formatTime(index / fps)} / ${formatTime(this.frameCount / fps)}`;
      const m = measureText(text, s);
      drawText(canvas, text, footer.x1 - 4 * s - m.width, footer.y0 + 3 * s, { scale: s, colour: theme.mutedText, clip: footer });
    }
    this.lastDamage = canvas.takeDamage();
    return canvas;
  }

  /**
   * Where the last rendered frame may differ from the static part every frame starts from (panels,
   * labels, title): the tiles its background pictures, figures and running time were drawn on
   * (Canvas.takeDamage). Outside them every frame is the same picture, which lets Yuv420Converter
   * convert only these parts.
   */
  get damage(): readonly Rect[] {
    return this.lastDamage;
  }

  /** Where joint `joint` of sequence `seq` lands on the canvas at output frame `index` (for pickers and tests). */
  project(seq: number, index: number, joint: number): { x: number; y: number } {
    const points = projectFrame(this.options.sequences[seq].frames, this.poseFrame(seq, index), this.transforms[seq]);
    return { x: points[joint], y: points[FRAME_VALUES / 2 + joint] };
  }
}
