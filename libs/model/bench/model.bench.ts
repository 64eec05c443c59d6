/**
 * Model benchmark: training speed, inference real-time factor and peak memory per preset on the
 * active tensor backend. Each preset runs in its own child process so its peak RSS is its own.
 *
 *   npx tsx libs/model/bench/model.bench.ts [--presets tiny,small,paper] [--batch 8,32] [--steps 3]
 *       [--audio-seconds 10] [--backend auto|node-gpu|node|wasm|cpu] [--kernels native,wasm] [--wasm-threads 1,2]
 *       [--write-doc] [--help]
 */
import { execFileSync, spawn } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { MODEL_PRESETS } from '@s2g/contracts';
import type { ModelPreset } from '@s2g/contracts';
import { SAMPLE_RATE, SPEC_FRAMES, WINDOW_FRAMES } from '@s2g/audio';
import { FRAME_VALUES } from '@s2g/pose';
import { createTrainer, initBackend, mulberry32, predict, randomNormal } from '../src/index';

const HELP = `Model benchmark: training and inference speed and memory of each preset.

Usage: npx tsx libs/model/bench/model.bench.ts [options]   (npm run bench:model -- [options])

Options:
  --presets <list>        presets to run, comma-separated (default: tiny,small,paper)
  --batch <list>          training batch sizes (default: 8,32)
  --steps <n>             timed training iterations per batch size, after one warm-up (default: 3)
  --audio-seconds <s>     length of the audio for the inference measurement (default: 10)
  --backend <name>        auto | node-gpu | node | wasm | cpu (default: TF_BACKEND, else auto)
  --kernels <list>        kernel sets to compare on the wasm backend, each preset once per set, in
                          the same run (default: native,wasm): native = the native kernels of
                          @s2g/native where built (S2G_NATIVE_THREADS, S2G_NATIVE_ISA apply);
                          wasm = without them (S2G_NATIVE=off: XNNPACK forward, JS GEMM gradients).
                          The table's last column is the speed-up against the wasm set.
  --wasm-threads <list>   wasm thread counts to compare, each preset once per count, in the same
                          run (default: TF_WASM_THREADS, else 1)
  --write-doc             also write the table into docs/PERFORMANCE.md, section "Model"
  --help                  this text

A training iteration is one discriminator step on one batch and one generator step on another
(ML-SPEC section 6), so it consumes 2 x batch windows; samples/s counts both. The inference
real-time factor is seconds of audio per second of compute, log-mel features included.`;

interface Options {
  presets: ModelPreset[];
  batches: number[];
  steps: number;
  audioSeconds: number;
  backend: string | undefined;
  wasmThreads: number[] | undefined;
  kernels: KernelSet[];
  writeDoc: boolean;
}

const KERNEL_SETS = ['native', 'wasm'] as const;
type KernelSet = (typeof KERNEL_SETS)[number];

interface TrainResult {
  batch: number;
  secondsPerIteration?: number;
  samplesPerSecond?: number;
  peakTensorMB?: number;
  error?: string;
}

interface PresetResult {
  preset: ModelPreset;
  kernels?: KernelSet;
  backend: string;
  device: string;
  parameters: number;
  training: TrainResult[];
  inference?: { realTimeFactor: number; seconds: number };
  inferenceError?: string;
  peakRssMB: number;
}

function usage(message: string): never {
  console.error(`${message}\n\n${HELP}`);
  process.exit(2);
}

function parseList<T>(value: string | undefined, flag: string, parse: (s: string) => T): T[] {
  if (!value) usage(`${flag} needs a value`);
  return value.split(',').map((s) => parse(s.trim()));
}

function positiveInt(flag: string): (s: string) => number {
  return (s) => {
    const n = Number(s);
    if (!Number.isInteger(n) || n <= 0) usage(`${flag}: '${s}' is not a positive integer`);
    return n;
  };
}

function parseArgs(argv: string[]): Options & { help: boolean; child: boolean } {
  const o: Options & { help: boolean; child: boolean } = {
    presets: ['tiny', 'small', 'paper'],
    batches: [8, 32],
    steps: 3,
    audioSeconds: 10,
    backend: undefined,
    wasmThreads: undefined,
    kernels: [...KERNEL_SETS],
    writeDoc: false,
    help: false,
    child: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const next = (): string | undefined => argv[++i];
    switch (flag) {
      case '--help':
      case '-h':
        o.help = true;
        break;
      case '--presets':
        o.presets = parseList(next(), flag, (s) => {
          if (!(MODEL_PRESETS as readonly string[]).includes(s)) usage(`--presets: unknown preset '${s}' (${MODEL_PRESETS.join(', ')})`);
          return s as ModelPreset;
        });
        break;
      case '--batch':
        o.batches = parseList(next(), flag, positiveInt(flag));
        break;
      case '--steps':
        o.steps = positiveInt(flag)(next() ?? '');
        break;
      case '--audio-seconds': {
        const s = Number(next());
        if (!(s >= 1)) usage('--audio-seconds must be at least 1');
        o.audioSeconds = s;
        break;
      }
      case '--backend':
        o.backend = next() ?? usage('--backend needs a value');
        break;
      case '--wasm-threads':
        o.wasmThreads = parseList(next(), flag, positiveInt(flag));
        break;
      case '--kernels':
        o.kernels = parseList(next(), flag, (v) => {
          if (!(KERNEL_SETS as readonly string[]).includes(v)) usage(`--kernels: unknown kernel set '${v}' (${KERNEL_SETS.join(', ')})`);
          return v as KernelSet;
        });
        break;
      case '--write-doc':
        o.writeDoc = true;
        break;
      case '--child':
        o.child = true;
        break;
      default:
        usage(`unknown option '${flag}'`);
    }
  }
  return o;
}

function randomBatch(b: number, seed: number): { audio: Float32Array; pose: Float32Array } {
  const rng = mulberry32(seed);
  return {
    audio: Float32Array.from({ length: b * SPEC_FRAMES * 64 }, () => randomNormal(rng) - 6),
    pose: Float32Array.from({ length: b * WINDOW_FRAMES * FRAME_VALUES }, () => randomNormal(rng)),
  };
}

function message(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).split('\n')[0].slice(0, 120);
}

/** Runs one preset in this process and prints its result as the last line of stdout. */
async function runChild(preset: ModelPreset, o: Options): Promise<void> {
  const info = await initBackend(o.backend, { logger: { info: () => undefined } });
  const training: TrainResult[] = [];
  let parameters = 0;
  for (const batch of o.batches) {
    const trainer = createTrainer({ preset, seed: 1 });
    parameters = trainer.generator.countTrainable();
    try {
      const batches = [randomBatch(batch, 1), randomBatch(batch, 2)];
      await trainer.trainStep(batches[0], batches[1]);
      const t0 = performance.now();
      for (let s = 0; s < o.steps; s++) await trainer.trainStep(batches[s % 2], batches[(s + 1) % 2]);
      const seconds = (performance.now() - t0) / 1000 / o.steps;
      const profile = await tf.profile(async () => {
        await trainer.trainStep(batches[0], batches[1]);
      });
      training.push({ batch, secondsPerIteration: seconds, samplesPerSecond: (2 * batch) / seconds, peakTensorMB: profile.peakBytes / 2 ** 20 });
    } catch (e) {
      training.push({ batch, error: message(e) });
    } finally {
      trainer.dispose();
    }
  }
  const result: PresetResult = { preset, backend: info.backend, device: info.device, parameters, training, peakRssMB: 0 };
  const trainer = createTrainer({ preset, seed: 1 });
  try {
    const rng = mulberry32(3);
    const n = Math.round(o.audioSeconds * SAMPLE_RATE);
    const wave = Float32Array.from({ length: n }, (_, i) => 0.2 * Math.sin((2 * Math.PI * 220 * i) / SAMPLE_RATE) + 0.01 * randomNormal(rng));
    await predict(trainer.generator, wave);
    const runs = 2;
    const t0 = performance.now();
    for (let r = 0; r < runs; r++) await predict(trainer.generator, wave);
    const seconds = (performance.now() - t0) / 1000 / runs;
    result.inference = { seconds, realTimeFactor: o.audioSeconds / seconds };
  } catch (e) {
    result.inferenceError = message(e);
  } finally {
    trainer.dispose();
  }
  result.peakRssMB = process.resourceUsage().maxRSS / 1024;
  console.log(JSON.stringify(result));
}

function childArgs(preset: ModelPreset, o: Options): string[] {
  const args = ['--child', '--presets', preset, '--batch', o.batches.join(','), '--steps', String(o.steps), '--audio-seconds', String(o.audioSeconds)];
  if (o.backend) args.push('--backend', o.backend);
  return args;
}

async function runPreset(preset: ModelPreset, o: Options, wasmThreads: number | undefined, kernels: KernelSet): Promise<PresetResult> {
  const script = fileURLToPath(import.meta.url);
  const env: NodeJS.ProcessEnv = { ...process.env };
  if (wasmThreads !== undefined) env.TF_WASM_THREADS = String(wasmThreads);
  if (kernels === 'wasm') env.S2G_NATIVE = 'off';
  // process.execArgv carries tsx's loader, so the child runs this TypeScript file the same way.
  const child = spawn(process.execPath, [...process.execArgv, script, ...childArgs(preset, o)], { stdio: ['ignore', 'pipe', 'inherit'], env });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString('utf8')));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  const last = out.trim().split('\n').at(-1) ?? '';
  try {
    return { ...(JSON.parse(last) as PresetResult), kernels };
  } catch {
    throw new Error(`benchmark of ${preset} exited with ${code}: ${last.slice(0, 200)}`);
  }
}

function fmt(n: number | undefined, digits: number): string {
  return n === undefined ? '' : n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

/** "4.3x / 4.8x": training and inference speed against the same preset's `wasm` kernel set. */
function speedUp(r: PresetResult, t: TrainResult, i: number, all: PresetResult[]): string {
  const base = all.find((b) => b.preset === r.preset && b.kernels === 'wasm');
  if (!base || base === r) return '';
  const bt = base.training.find((x) => x.batch === t.batch);
  const train = bt?.samplesPerSecond && t.samplesPerSecond ? `${fmt(t.samplesPerSecond / bt.samplesPerSecond, 1)}x` : '?';
  const infer = i === 0 && base.inference && r.inference ? ` / ${fmt(r.inference.realTimeFactor / base.inference.realTimeFactor, 1)}x` : '';
  return `${train}${infer}`;
}

function table(results: PresetResult[], all: PresetResult[] = results): string {
  const rows = [
    '| preset | device | trainable params (G) | batch | s / iteration | samples/s | peak tensor memory | inference x real time | peak RSS | speed-up vs wasm kernels (train / inference) |',
    '|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const r of results) {
    r.training.forEach((t, i) => {
      const inference = i === 0 ? (r.inference ? `${fmt(r.inference.realTimeFactor, 1)}x` : `failed: ${r.inferenceError}`) : '';
      const cells = t.error
        ? [`failed: ${t.error}`, '', '']
        : [fmt(t.secondsPerIteration, 2), fmt(t.samplesPerSecond, 1), `${fmt(t.peakTensorMB, 0)} MB`];
      rows.push(`| ${i === 0 ? r.preset : ''} | ${i === 0 ? r.device : ''} | ${i === 0 ? r.parameters.toLocaleString('en-US') : ''} | ${t.batch} | ${cells.join(' | ')} | ${inference} | ${i === 0 ? `${fmt(r.peakRssMB, 0)} MB` : ''} | ${speedUp(r, t, i, all)} |`);
    });
  }
  return rows.join('\n');
}

function cpuModel(): string {
  try {
    const line = execFileSync('lscpu', { encoding: 'utf8' })
      .split('\n')
      .find((l) => l.startsWith('Model name:'));
    if (line) return line.replace('Model name:', '').trim();
  } catch {
    // lscpu is Linux-only; fall back to what Node reports.
  }
  return os.cpus()[0]?.model ?? 'unknown';
}

const DOC_START = '<!-- model-bench:start -->';
const DOC_END = '<!-- model-bench:end -->';

async function writeDoc(block: string): Promise<string> {
  const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
  const path = join(root, 'docs', 'PERFORMANCE.md');
  let doc = await readFile(path, 'utf8').catch(() => '# Performance\n');
  const marked = `${DOC_START}\n${block}\n${DOC_END}`;
  if (doc.includes(DOC_START) && doc.includes(DOC_END)) {
    doc = doc.slice(0, doc.indexOf(DOC_START)) + marked + doc.slice(doc.indexOf(DOC_END) + DOC_END.length);
  } else if (doc.includes('\n## Model\n')) {
    const start = doc.indexOf('\n## Model\n') + '\n## Model\n'.length;
    doc = `${doc.slice(0, start)}\n${marked}\n${doc.slice(start)}`;
  } else {
    doc = `${doc.trimEnd()}\n\n## Model\n\n${marked}\n`;
  }
  await writeFile(path, doc);
  return path;
}

async function main(): Promise<void> {
  const o = parseArgs(process.argv.slice(2));
  if (o.help) {
    console.log(HELP);
    return;
  }
  if (o.child) {
    await runChild(o.presets[0], o);
    return;
  }
  const results: PresetResult[] = [];
  for (const preset of o.presets) {
    for (const kernels of o.kernels) {
      for (const threads of o.wasmThreads ?? [undefined]) {
        const on = threads === undefined ? '' : `, ${threads} wasm thread${threads === 1 ? '' : 's'}`;
        console.error(`benchmarking ${preset} with ${kernels} kernels (batches ${o.batches.join(', ')}, ${o.steps} steps each${on})...`);
        const r = await runPreset(preset, o, threads, kernels);
        results.push(r);
        console.error(table([r], results).split('\n').slice(2).join('\n'));
      }
    }
  }
  const backend = results[0] ? `${results[0].backend} (${[...new Set(results.map((r) => r.device))].join('; ')})` : 'none';
  const machine = `${cpuModel()}, ${os.cpus().length} cores, ${fmt(os.totalmem() / 2 ** 30, 0)} GiB RAM, Node ${process.version}, load average at the end ${os
    .loadavg()
    .map((l) => l.toFixed(1))
    .join(' / ')}`;
  const block = [
    `Measured ${new Date().toISOString().slice(0, 10)} with \`npm run bench:model -- ${process.argv.slice(2).join(' ')}\`.`,
    '',
    `- Backend: ${backend}`,
    `- Machine: ${machine}`,
    `- ${o.steps} timed iterations per batch size after one warm-up; inference on ${o.audioSeconds} s of audio.`,
    '',
    table(results),
  ].join('\n');
  console.log(block);
  if (o.writeDoc) console.error(`wrote ${await writeDoc(block)}`);
}

await main();
