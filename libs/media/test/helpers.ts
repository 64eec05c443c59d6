import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RealFft } from '@s2g/audio';
import { command, run } from '../src/command';

/** Runs ffmpeg through the adapter with a lavfi source, to make test media with ffmpeg itself. */
export async function synth(out: string, lavfi: string[], outputOptions: string[]): Promise<string> {
  const cmd = command();
  for (const src of lavfi) cmd.input(src).inputFormat('lavfi');
  cmd.outputOptions(['-y', ...outputOptions]).output(out);
  await run(cmd);
  return out;
}

export async function withTemp<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 's2g-media-test-'));
  try {
    return await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Frequency (Hz) of the strongest 512-point FFT bin, summed over the middle of the signal. */
export function dominantFrequency(wave: Float32Array, sampleRate: number): number {
  const fft = new RealFft(512);
  const mag = new Float64Array(257);
  const sum = new Float64Array(257);
  for (let o = Math.floor(wave.length / 4); o + 512 <= (wave.length * 3) / 4; o += 512) {
    fft.magnitude(wave.subarray(o, o + 512), mag);
    for (let k = 0; k < 257; k++) sum[k] += mag[k];
  }
  let best = 1;
  for (let k = 1; k < 257; k++) if (sum[k] > sum[best]) best = k;
  return (best * sampleRate) / 512;
}
