/**
 * A line chart drawn with the render lib's rasteriser and written as a PNG: axes with ticks and
 * numbers, one line per series, a legend and a title. Enough for loss curves without a plotting
 * dependency.
 */
import { Canvas, type Colour, drawLine, drawText, encodePng, fill, fillCircle, fillRect, hex, measureText } from '@s2g/render';

export interface Series {
  label: string;
  colour: string;
  points: readonly { x: number; y: number }[];
}

export interface ChartOptions {
  title: string;
  xLabel: string;
  yLabel: string;
  width?: number;
  height?: number;
}

/** About `count` round tick values covering [min, max] (1, 2 or 5 times a power of ten apart). */
export function niceTicks(min: number, max: number, count = 5): number[] {
  if (!(max > min)) return [min];
  const raw = (max - min) / count;
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw) ?? 10 * power;
  const ticks: number[] = [];
  for (let v = Math.ceil(min / step) * step; v <= max + step * 1e-9; v += step) ticks.push(Number(v.toPrecision(12)));
  return ticks;
}

function tickLabel(v: number): string {
  if (v === 0) return '0';
  const abs = Math.abs(v);
  if (abs >= 10_000 || abs < 0.001) return v.toExponential(1);
  return String(Number(v.toPrecision(4)));
}

const INK: Colour = hex('#222222');
const GRID: Colour = hex('#e4e4e4');

/** Draws the chart; returns the PNG bytes. Series with no points are listed in the legend only. */
export function lineChartPng(series: readonly Series[], options: ChartOptions): Buffer {
  const width = options.width ?? 900;
  const height = options.height ?? 500;
  const canvas = new Canvas(width, height);
  fill(canvas, hex('#ffffff'));
  const plot = { x0: 80, y0: 50, x1: width - 30, y1: height - 70 };

  const all = series.flatMap((s) => s.points).filter((p) => Number.isFinite(p.x) && Number.isFinite(p.y));
  const xs = all.map((p) => p.x);
  const ys = all.map((p) => p.y);
  let [xMin, xMax] = all.length > 0 ? [Math.min(...xs), Math.max(...xs)] : [0, 1];
  let [yMin, yMax] = all.length > 0 ? [Math.min(0, ...ys), Math.max(...ys)] : [0, 1];
  if (xMax === xMin) [xMin, xMax] = [xMin - 1, xMax + 1];
  if (yMax === yMin) [yMin, yMax] = [yMin - 1, yMax + 1];
  yMax += (yMax - yMin) * 0.05;
  const px = (x: number): number => plot.x0 + ((x - xMin) / (xMax - xMin)) * (plot.x1 - plot.x0);
  const py = (y: number): number => plot.y1 - ((y - yMin) / (yMax - yMin)) * (plot.y1 - plot.y0);

  // Grid, ticks and their numbers.
  for (const t of niceTicks(yMin, yMax)) {
    const y = py(t);
    drawLine(canvas, plot.x0, y, plot.x1, y, 1, GRID);
    const label = tickLabel(t);
    drawText(canvas, label, plot.x0 - 8 - measureText(label, 2).width, y - 8, { scale: 2, colour: INK });
  }
  for (const t of niceTicks(xMin, xMax)) {
    const x = px(t);
    drawLine(canvas, x, plot.y0, x, plot.y1, 1, GRID);
    drawLine(canvas, x, plot.y1, x, plot.y1 + 6, 2, INK);
    const label = tickLabel(t);
    drawText(canvas, label, x - measureText(label, 2).width / 2, plot.y1 + 12, { scale: 2, colour: INK });
  }
  // Axes.
  drawLine(canvas, plot.x0, plot.y1, plot.x1, plot.y1, 2, INK);
  drawLine(canvas, plot.x0, plot.y0, plot.x0, plot.y1, 2, INK);

  // Lines, with a dot on each point when a series is sparse (validation every few hundred steps).
  for (const s of series) {
    const colour = hex(s.colour);
    const pts = s.points.filter((p) => Number.isFinite(p.x) && Number.isFinite(p.y));
    for (let i = 1; i < pts.length; i++) drawLine(canvas, px(pts[i - 1].x), py(pts[i - 1].y), px(pts[i].x), py(pts[i].y), 3, colour);
    if (pts.length <= 40) for (const p of pts) fillCircle(canvas, px(p.x), py(p.y), 4, colour);
  }

  // Title, axis labels, legend.
  drawText(canvas, options.title, (width - measureText(options.title, 3).width) / 2, 12, { scale: 3, colour: INK });
  drawText(canvas, options.xLabel, (plot.x0 + plot.x1 - measureText(options.xLabel, 2).width) / 2, height - 30, { scale: 2, colour: INK });
  drawText(canvas, options.yLabel, 8, plot.y0 - 30, { scale: 2, colour: INK });
  let ly = plot.y0 + 10;
  const legendX = plot.x1 - 10 - Math.max(...series.map((s) => measureText(s.label, 2).width)) - 30;
  for (const s of series) {
    fillRect(canvas, { x0: legendX, y0: ly + 5, x1: legendX + 22, y1: ly + 9 }, hex(s.colour));
    drawText(canvas, s.label, legendX + 30, ly, { scale: 2, colour: INK });
    ly += 24;
  }
  return encodePng(canvas.data, width, height);
}
