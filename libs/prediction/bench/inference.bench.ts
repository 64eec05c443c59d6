/**
 * Inference and render benchmark: `npx tsx libs/prediction/bench/inference.bench.ts [options]`
 * (`--help` lists them). Results go in docs/PERFORMANCE.md, section "Inference".
 *
 * 1. Latency of predicting 10 s of speech-like audio, per preset, as the inference service runs it
 *    (log-mel, generator forward pass, windows when the audio is long). Weights are freshly
 *    initialised: a forward pass costs the same whatever the weights are.
 * 2. Peak tensor memory of long audio, windowed (the service's default 512 / 64 frames) against one
 *    pass over everything.
 * 3. End-to-end render speed: a predicted sequence (decoded with the PATS fixture speaker's
 *    statistics) beside the fixture's ground truth, drawn at 1280x720 and encoded to H.264 with the
 *    speech muxed in, as the renderer service does it.
 *
 * It imports only what needs no database, so plain `npx tsx` runs it.
 */
import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { Command } from 'commander';
import { encodeWav, SAMPLE_RATE } from '@s2g/audio';
import { MODEL_PRESETS, type ModelPreset } from '@s2g/contracts';
import { Generator, initBackend, predict } from '@s2g/model';
import { computeSpeakerStats, denormalize, FRAME_VALUES, parsePatsPoseCsv, POSE_FPS } from '@s2g/pose';
import { renderVideo } from '@s2g/render';
import { DEFAULT_INFERENCE_SETTINGS } from '../src/config';
import { predictWindowed } from '../src/windows';

const program = new Command('inference.bench')
  .description('Inference latency per model preset, windowed memory, and end-to-end render speed, on this machine.')
  .option('--presets <list>', 'model presets to time, comma-separated', 'paper,small')
  .option('--seconds <n>', 'seconds of audio per prediction', '10')
  .option('--runs <n>', 'timed predictions per preset (after one warm-up)', '5')
  .option('--long-seconds <n>', 'audio length of the memory comparison at the paper preset (0 skips it)', '120')
  .option('--render-seconds <n>', 'seconds of video to render (0 skips the render)', '20')
  .option('--width <px>', 'render width', '1280')
  .option('--height <px>', 'render height', '720')
  .option('--backend <name>', 'tensor backend: auto, node-gpu, node, wasm, cpu', 'auto')
  .option('--fixtures <dir>', 'folder holding pats/pose_data.csv', process.env.S2G_FIXTURES ?? '../shared/fixtures')
  .helpOption('-h, --help', 'print this help and exit');
program.parse();
const opts = program.opts<{
  presets: string;
  seconds: string;
  runs: string;
  longSeconds: string;
  renderSeconds: string;
  width: string;
  height: string;
  backend: string;
  fixtures: string;
}>();

const presets = opts.presets.split(',').map((p) => p.trim()) as ModelPreset[];
for (const p of presets) if (!(MODEL_PRESETS as readonly string[]).includes(p)) program.error(`unknown preset ${p}; use ${MODEL_PRESETS.join(', ')}`);
const seconds = Number(opts.seconds);
const runs = Math.max(1, Number(opts.runs));
const windows = { windowFrames: DEFAULT_INFERENCE_SETTINGS.windowFrames, overlapFrames: DEFAULT_INFERENCE_SETTINGS.overlapFrames };

/**
 * Speech-like audio without any dataset: phrases of syllables (raised-cosine bursts at ~4.5 per
 * second) of a falling voiced pitch with a few harmonics, separated by pauses, plus a little noise.
 */
function speechLike(duration: number, seed = 1): Float32Array {
  let s = seed;
  const rand = () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32);
  const n = Math.round(duration * SAMPLE_RATE);
  const out = new Float32Array(n);
  let phase = 0;
  let t = 0.2;
  while (t < duration - 0.5) {
    const phraseEnd = Math.min(duration - 0.2, t + 1.2 + 2.4 * rand());
    const phraseStart = t;
    while (t < phraseEnd) {
      const len = 0.16 + 0.12 * rand();
      const loud = 0.3 + 0.5 * rand();
      const a = Math.round(t * SAMPLE_RATE);
      const b = Math.min(n, Math.round((t + len) * SAMPLE_RATE));
      for (let i = a; i < b; i++) {
        const u = (i - a) / (b - a);
        const f0 = 170 - 40 * ((i / SAMPLE_RATE - phraseStart) / (phraseEnd - phraseStart));
        phase += (2 * Math.PI * f0) / SAMPLE_RATE;
        const voice = Math.sin(phase) + 0.5 * Math.sin(2 * phase) + 0.3 * Math.sin(3 * phase) + 0.2 * Math.sin(5 * phase);
        out[i] = loud * 0.5 * (1 - Math.cos(2 * Math.PI * u)) * 0.25 * voice;
      }
      t += len;
    }
    t += 0.3 + 0.8 * rand();
  }
  for (let i = 0; i < n; i++) out[i] += 0.003 * (rand() - 0.5);
  return out;
}

function cpuModel(): string {
  return cpus()[0]?.model?.trim() ?? 'unknown cpu';
}

/**
 * CPU seconds used so far by this process and its reaped children (ffmpeg), from /proc: on a shared
 * machine wall-clock times depend on the neighbours, CPU time much less.
 */
function cpuSeconds(): number {
  try {
    const fields = readFileSync('/proc/self/stat', 'utf8').split(') ')[1].split(' ');
    // utime, stime, cutime, cstime are fields 14..17 of stat(5); index 0 here is field 3.
    return fields.slice(11, 15).reduce((a, v) => a + Number(v), 0) / 100;
  } catch {
    return Number.NaN;
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const mb = (bytes: number) => `${(bytes / 1e6).toFixed(0)} MB`;

/** Peak bytes of tensors alive during `fn` (tf.profile's record is shared, so it is read at once). */
async function peakBytes(fn: () => Promise<unknown>): Promise<number> {
  const info = await tf.profile(async () => void (await fn()));
  return info.peakBytes;
}

const backend = await initBackend(opts.backend, { logger: { info: () => undefined } });
console.log(`${cpuModel()}, ${cpus().length} cores, load ${loadavg()[0].toFixed(1)}, node ${process.version}; backend ${backend.backend} (${backend.device})`);
console.log('Weights are freshly initialised (seed 0): a forward pass costs the same whatever the weights.\n');

const speech = speechLike(Math.max(seconds, Number(opts.longSeconds), Number(opts.renderSeconds), 1));
const clip = speech.subarray(0, Math.round(seconds * SAMPLE_RATE));
const generators = new Map<ModelPreset, Generator>();

console.log(`Inference latency, ${seconds} s of audio (${Math.ceil(seconds * POSE_FPS)} pose frames), ${runs} runs after a warm-up:`);
for (const preset of presets) {
  const generator = new Generator(preset, 0);
  generators.set(preset, generator);
  const warm = performance.now();
  await predictWindowed(generator, clip, windows);
  const warmMs = performance.now() - warm;
  const times: number[] = [];
  const cpuStart = cpuSeconds();
  for (let r = 0; r < runs; r++) {
    const started = performance.now();
    await predictWindowed(generator, clip, windows);
    times.push(performance.now() - started);
  }
  const cpuMs = ((cpuSeconds() - cpuStart) / runs) * 1000;
  const peak = await peakBytes(() => predictWindowed(generator, clip, windows));
  const ms = median(times);
  console.log(
    `  ${preset.padEnd(6)} ${generator.countTrainable().toLocaleString('en-US').padStart(10)} params  median ${ms.toFixed(0).padStart(6)} ms  min ${Math.min(...times).toFixed(0).padStart(6)} ms  first ${warmMs.toFixed(0).padStart(6)} ms  cpu ${cpuMs.toFixed(0).padStart(6)} ms  ${(seconds / (ms / 1000)).toFixed(1).padStart(5)}x real time  peak tensors ${mb(peak)}`,
  );
}

const longSeconds = Number(opts.longSeconds);
if (longSeconds > 0) {
  const generator = generators.get('paper') ?? new Generator('paper', 0);
  generators.set('paper', generator);
  const long = speech.subarray(0, Math.round(longSeconds * SAMPLE_RATE));
  console.log(`\nLong audio at the paper preset, ${longSeconds} s (${Math.ceil(longSeconds * POSE_FPS)} frames):`);
  let started = performance.now();
  const windowedPeak = await peakBytes(() => predictWindowed(generator, long, windows));
  const windowedMs = performance.now() - started;
  started = performance.now();
  const oncePeak = await peakBytes(() => predict(generator, long, { maxChunkFrames: 1 << 16 }));
  const onceMs = performance.now() - started;
  console.log(`  windows of ${windows.windowFrames} / overlap ${windows.overlapFrames}: peak tensors ${mb(windowedPeak)}, ${windowedMs.toFixed(0)} ms (profiled)`);
  console.log(`  one pass over everything:  peak tensors ${mb(oncePeak)}, ${onceMs.toFixed(0)} ms (profiled)`);
}

const renderSeconds = Number(opts.renderSeconds);
if (renderSeconds > 0) {
  const width = Number(opts.width);
  const height = Number(opts.height);
  const pats = parsePatsPoseCsv(await readFile(join(opts.fixtures, 'pats', 'pose_data.csv'), 'utf8')).poses;
  const stats = computeSpeakerStats(pats);
  const generator = generators.get('small') ?? new Generator('small', 0);
  const audio = speech.subarray(0, Math.round(renderSeconds * SAMPLE_RATE));
  const predicted = await predictWindowed(generator, audio, windows);
  const frames = predicted.frames;
  const neck = [pats[0], pats[FRAME_VALUES / 2]];
  const prediction = Float32Array.from(denormalize(predicted.poses, stats, { origin: neck }));
  // The fixture's 109 frames played forwards and backwards to the prediction's length.
  const truth = new Float32Array(frames * FRAME_VALUES);
  const t = pats.length / FRAME_VALUES;
  for (let i = 0; i < frames; i++) {
    const k = i % (2 * t - 2);
    const f = k < t ? k : 2 * t - 2 - k;
    truth.set(pats.subarray(f * FRAME_VALUES, (f + 1) * FRAME_VALUES), i * FRAME_VALUES);
  }
  const dir = await mkdtemp(join(tmpdir(), 's2g-inference-bench-'));
  try {
    const audioFile = join(dir, 'speech.wav');
    await writeFile(audioFile, encodeWav(audio, SAMPLE_RATE));
    const started = performance.now();
    const cpuStart = cpuSeconds();
    const result = await renderVideo({
      sequences: [
        { label: 'prediction', frames: prediction },
        { label: 'ground truth', frames: truth },
      ],
      width,
      height,
      fps: POSE_FPS,
      title: 'bench',
      audio: audioFile,
      out: join(dir, 'video.mp4'),
      posterOut: join(dir, 'poster.png'),
    });
    const ms = performance.now() - started;
    const cpuMs = ((cpuSeconds() - cpuStart) / result.frames) * 1000;
    const fps = (result.frames / ms) * 1000;
    const size = (await stat(join(dir, 'video.mp4'))).size;
    console.log(`\nRender end to end, ${width}x${height}, 2 panels, ${result.frames} frames with sound and poster:`);
    console.log(`  ${fps.toFixed(0)} frames/s, ${(fps / POSE_FPS).toFixed(1)}x real time, ${(ms / 1000).toFixed(2)} s, ${cpuMs.toFixed(1)} CPU ms/frame (node + ffmpeg), ${(size / 1e6).toFixed(2)} MB`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

for (const g of generators.values()) g.dispose();
