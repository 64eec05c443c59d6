/**
 * Render benchmark: `npx tsx libs/render/bench/render.bench.ts [frames] [presets] [formats]`
 * e.g. `npx tsx libs/render/bench/render.bench.ts 900 ultrafast,superfast,veryfast rgb24,yuv420p`.
 *
 * Draws the PATS fixture as prediction | ground truth at 1280x720 (labels, title, time), looped to
 * `frames` frames (default 900: one minute at 15 fps). Measures rasterising alone (and with the
 * yuv420p conversion), then end to end through renderVideo (ffmpeg libx264 + AAC of a matching
 * soundtrack) for each x264 preset and each raw format piped into ffmpeg (default both: rgb24,
 * converted by ffmpeg, and yuv420p, converted here), one after the other in the same run.
 */
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { FRAME_VALUES, POSE_FPS } from '@s2g/pose';
import { FrameRenderer, Yuv420Converter, renderVideo, yuv420Bytes } from '../src/index';
import { loadPatsPose } from '../test/pats';

const WIDTH = 1280;
const HEIGHT = 720;
const frames = Number(process.argv[2] ?? 900);
const presets = (process.argv[3] ?? 'ultrafast,superfast,veryfast').split(',');
const formats = (process.argv[4] ?? 'rgb24,yuv420p').split(',').map((f) => {
  if (f !== 'rgb24' && f !== 'yuv420p') throw new Error(`unknown raw format ${f}: rgb24 or yuv420p`);
  return f;
});

/** The fixture played forwards then backwards until `n` frames, so the motion stays continuous. */
function looped(src: Float32Array, n: number): Float32Array {
  const t = src.length / FRAME_VALUES;
  const out = new Float32Array(n * FRAME_VALUES);
  for (let i = 0; i < n; i++) {
    const k = i % (2 * t - 2);
    const f = k < t ? k : 2 * t - 2 - k;
    out.set(src.subarray(f * FRAME_VALUES, (f + 1) * FRAME_VALUES), i * FRAME_VALUES);
  }
  return out;
}

const gt = looped(loadPatsPose(), frames + 20);
const sequences = [
  { label: 'prediction', frames: gt.subarray(20 * FRAME_VALUES) },
  { label: 'ground truth', frames: gt.subarray(0, frames * FRAME_VALUES) },
];
const common = { sequences, width: WIDTH, height: HEIGHT, fps: POSE_FPS, title: 'cmu0000033570' };

/**
 * CPU seconds used so far by this process and its reaped children (ffmpeg), from /proc: on a shared
 * machine wall-clock rates depend on the neighbours, CPU time per frame much less.
 */
function cpuSeconds(): number | undefined {
  try {
    const fields = readFileSync('/proc/self/stat', 'utf8').split(') ')[1].split(' ');
    // utime, stime, cutime, cstime are fields 14..17 of stat(5); index 0 here is field 3.
    return fields.slice(11, 15).reduce((a, v) => a + Number(v), 0) / 100;
  } catch {
    return undefined;
  }
}

function report(name: string, n: number, ms: number, extra = ''): void {
  const fps = (n / ms) * 1000;
  console.log(`${name.padEnd(32)} ${fps.toFixed(0).padStart(6)} frames/s  ${(ms / n).toFixed(3)} ms/frame  ${(fps / POSE_FPS).toFixed(1)}x real time${extra}`);
}

console.log(`${cpus()[0]?.model ?? 'unknown cpu'}, ${cpus().length} cores, load ${loadavg()[0].toFixed(1)}, node ${process.version}; ${WIDTH}x${HEIGHT}, 2 panels, ${frames} frames`);

{
  const r = new FrameRenderer(common);
  for (let i = 0; i < 60; i++) r.render(i);
  let t0 = performance.now();
  for (let i = 0; i < frames; i++) r.render(i);
  report('rasterise', frames, performance.now() - t0);
  // For comparison: a fresh buffer per frame instead of renderVideo's ring (page faults dominate).
  t0 = performance.now();
  for (let i = 0; i < frames; i++) r.render(i, undefined, Buffer.allocUnsafe(WIDTH * HEIGHT * 3));
  report('rasterise, fresh buffers', frames, performance.now() - t0);
  // What renderVideo does for yuv420p: draw into the reused canvas, convert what changed into a ring of four.
  const converter = new Yuv420Converter(r.base);
  const ring = Array.from({ length: 4 }, () => new Uint8Array(yuv420Bytes(WIDTH, HEIGHT)));
  for (let i = 0; i < 60; i++) converter.convert(r.render(i), r.damage, ring[i % 4]);
  t0 = performance.now();
  for (let i = 0; i < frames; i++) converter.convert(r.render(i), r.damage, ring[i % 4]);
  report('rasterise + yuv420p', frames, performance.now() - t0);
}

const dir = await mkdtemp(join(tmpdir(), 's2g-render-bench-'));
try {
  const audio = new Float32Array(Math.round((frames / POSE_FPS) * 16000));
  for (let i = 0; i < audio.length; i++) audio[i] = 0.3 * Math.sin((2 * Math.PI * 220 * i) / 16000) * (0.5 + 0.5 * Math.sin(i / 4000));
  for (const preset of presets) {
    for (const pixelFormat of formats) {
      const out = join(dir, `${preset}-${pixelFormat}.mp4`);
      const cpu0 = cpuSeconds();
      const own0 = process.cpuUsage();
      const t0 = performance.now();
      await renderVideo({ ...common, audio, out, posterOut: join(dir, `${preset}-${pixelFormat}.png`), preset, pixelFormat });
      const ms = performance.now() - t0;
      const cpu1 = cpuSeconds();
      const own = process.cpuUsage(own0);
      const nodeMs = (own.user + own.system) / 1000 / frames;
      const size = (await stat(out)).size;
      const cpu = cpu0 !== undefined && cpu1 !== undefined ? `  ${(((cpu1 - cpu0) * 1000) / frames).toFixed(2)} CPU ms/frame (node ${nodeMs.toFixed(2)} + ffmpeg ${(((cpu1 - cpu0) * 1000) / frames - nodeMs).toFixed(2)})` : '';
      report(`end to end (${preset}, ${pixelFormat})`, frames, ms, `  ${(size / 1e6).toFixed(2)} MB${cpu}`);
    }
  }
  console.log(`load ${loadavg().map((l) => l.toFixed(1)).join(' ')} at the end`);
} finally {
  await rm(dir, { recursive: true, force: true });
}
