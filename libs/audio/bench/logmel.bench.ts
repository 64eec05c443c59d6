/**
 * Log-mel throughput: `npx tsx libs/audio/bench/logmel.bench.ts [seconds]`.
 * Prints seconds of compute per hour of 16 kHz audio (target: under 20 s on one core).
 */
import { SAMPLE_RATE, logMel } from '../src';

const seconds = Number(process.argv[2] ?? 600);
const wave = new Float32Array(seconds * SAMPLE_RATE);
let s = 1;
for (let i = 0; i < wave.length; i++) {
  s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
  wave[i] = 0.3 * Math.sin(i * 0.07) + 0.1 * (s / 4294967296 - 0.5);
}

// Warm up the JIT and the cached tables on a short clip.
logMel(wave.subarray(0, SAMPLE_RATE * 10));

const runs = 3;
let best = Infinity;
let frames = 0;
for (let r = 0; r < runs; r++) {
  const t0 = process.hrtime.bigint();
  frames = logMel(wave).frames;
  const dt = Number(process.hrtime.bigint() - t0) / 1e9;
  best = Math.min(best, dt);
}
const perHour = (best * 3600) / seconds;
console.log(`log-mel: ${seconds} s of audio (${frames} frames) in ${best.toFixed(3)} s (best of ${runs})`);
console.log(`log-mel: ${perHour.toFixed(2)} s per hour of audio`);
