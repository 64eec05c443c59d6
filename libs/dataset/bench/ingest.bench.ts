#!/usr/bin/env -S npx tsx
/**
 * Ingest throughput: generates a synthetic speaker (layout 1, with its rendered video), imports it
 * into a temporary filesystem object store and Postgres (DATABASE_URL as an admin URL, else an
 * embedded server), and prints hours of source per minute of wall time with the time per stage.
 *
 *   npx tsx libs/dataset/bench/ingest.bench.ts --help
 */
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { INGEST_STAGES } from '@s2g/contracts';
import { createDataSource, Database, migrate } from '@s2g/db';
import { createObjectStore } from '@s2g/storage';
import { testPostgres } from '@s2g/testing';
import { generateSyntheticSpeaker, runIngest } from '../src/index';

function positive(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('must be a positive number');
  return n;
}

function cpuModel(): string {
  try {
    const line = execFileSync('lscpu', { encoding: 'utf8' })
      .split('\n')
      .find((l) => l.startsWith('Model name:'));
    if (line) return line.slice('Model name:'.length).trim();
  } catch {
    // lscpu is Linux-only; fall back to what Node reports.
  }
  return cpus()[0]?.model ?? 'unknown';
}

/**
 * CPU seconds used so far by this process and its reaped children (ffmpeg), from /proc/self/stat
 * (utime, stime, cutime, cstime at 100 ticks/s); without /proc, this process alone. Steadier than
 * wall time on a shared machine.
 */
function cpuSeconds(): number {
  try {
    const stat = readFileSync('/proc/self/stat', 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return [11, 12, 13, 14].reduce((s, i) => s + Number(fields[i]), 0) / 100;
  } catch {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1e6;
  }
}

const program = new Command('ingest.bench')
  .description('Measure ingest throughput (hours of source per minute of wall time) on a synthetic speaker.')
  .option('--minutes <n>', 'minutes of synthetic speech to generate and import', positive, 10)
  .option('--seed <seed>', 'seed of the synthetic speaker', '1')
  .option('--no-video', 'generate audio only (no rendered mp4 to probe and store)')
  .option('--runs <n>', 'import the same data this many times (fresh speaker each time) and report each', positive, 1)
  .parse();
const opts = program.opts<{ minutes: number; seed: string; video: boolean; runs: number }>();

const dir = await mkdtemp(join(tmpdir(), 's2g-ingest-bench-'));
const pg = await testPostgres();
try {
  console.log(`machine: ${cpuModel()}, ${cpus().length} logical CPUs, node ${process.version}`);
  console.log(`database: ${process.env.DATABASE_URL ? 'DATABASE_URL' : 'embedded Postgres'}; object store: filesystem under ${dir}`);
  let t = performance.now();
  await generateSyntheticSpeaker({ seed: opts.seed, name: 'bench', minutes: opts.minutes, outDir: join(dir, 'data'), video: opts.video });
  console.log(`generated ${opts.minutes} min of synthetic speaker${opts.video ? ' with video' : ''} in ${((performance.now() - t) / 1000).toFixed(1)} s (not counted)`);

  const dataSource = createDataSource(await pg.createDatabase('ingest_bench'), { poolSize: 4 });
  await dataSource.initialize();
  await migrate(dataSource);
  const db = Database.of(dataSource);
  const store = createObjectStore({ driver: 'fs', root: join(dir, 'objects') });
  await store.ensureReady();
  try {
    for (let r = 0; r < opts.runs; r++) {
      const speaker = await db.speakers.findOrCreate({ name: `bench-${r}` });
      t = performance.now();
      const cpu0 = cpuSeconds();
      const summary = await runIngest(
        { jobId: randomUUID(), speakerId: speaker.id, layout: 's2g', source: { kind: 'path', path: join(dir, 'data') }, options: { sourceSpeaker: 'bench' } },
        { db, store },
      );
      const minutes = (performance.now() - t) / 60_000;
      const cpu = cpuSeconds() - cpu0;
      const samples = summary.samples.train + summary.samples.dev + summary.samples.test;
      console.log(`\nrun ${r + 1}: ${(minutes * 60).toFixed(1)} s wall for ${(summary.sourceHours * 60).toFixed(1)} min of source`);
      console.log(`  throughput: ${(summary.sourceHours / minutes).toFixed(2)} hours of source per minute (${(summary.hours / minutes).toFixed(2)} h of interval speech per minute)`);
      // One job is one sequential pipeline (node, then ffmpeg, then node): a core it had to itself bounds it.
      console.log(`  CPU: ${cpu.toFixed(1)} s (node + ffmpeg), ${(cpu / (summary.sourceHours * 60)).toFixed(2)} CPU s per minute of source: ${(summary.sourceHours / (cpu / 60)).toFixed(1)} hours of source per minute of one busy core`);
      console.log(`  ${summary.videos} videos, ${summary.intervals} intervals, ${summary.frames} frames, ${samples} samples in ${summary.shards} shards, ${(summary.bytes / 2 ** 20).toFixed(1)} MiB written`);
      const total = INGEST_STAGES.reduce((s, k) => s + summary.stageMs[k], 0);
      console.log(`  stages: ${INGEST_STAGES.map((k) => `${k} ${(summary.stageMs[k] / 1000).toFixed(2)} s (${((100 * summary.stageMs[k]) / total).toFixed(0)}%)`).join(', ')}`);
    }
  } finally {
    await dataSource.destroy();
  }
} finally {
  await pg.stop();
  await rm(dir, { recursive: true, force: true });
}
