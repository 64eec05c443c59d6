/**
 * How long one training step takes on this machine, measured by running a few steps of the same
 * model on random batches (after one warm-up step, which compiles kernels). The demo turns a time
 * budget into a step count with it, since a run's length is set in steps.
 */
import { NUM_MEL_BANDS, SPEC_FRAMES, WINDOW_FRAMES } from '@s2g/audio';
import type { ModelPreset } from '@s2g/contracts';
import { createTrainer, initBackend, mulberry32 } from '@s2g/model';
import { FRAME_VALUES } from '@s2g/pose';

export async function secondsPerStep(preset: ModelPreset, batchSize: number, steps = 3): Promise<number> {
  // Same backend choice as the trainer (TF_BACKEND, else the best available); a no-op when already set.
  await initBackend(process.env.TF_BACKEND === 'auto' ? undefined : process.env.TF_BACKEND, { logger: { info: () => undefined } });
  const trainer = createTrainer({ preset, seed: 1, learningRate: 1e-4, ganWeight: 1 });
  const rand = mulberry32(7);
  const batch = (): { audio: Float32Array; pose: Float32Array } => ({
    audio: Float32Array.from({ length: batchSize * SPEC_FRAMES * NUM_MEL_BANDS }, () => rand() * 4 - 10),
    pose: Float32Array.from({ length: batchSize * WINDOW_FRAMES * FRAME_VALUES }, () => rand() * 2 - 1),
  });
  try {
    const a = batch();
    const b = batch();
    await trainer.trainStep(a, b);
    const started = performance.now();
    for (let i = 0; i < steps; i++) await trainer.trainStep(a, b);
    return (performance.now() - started) / 1000 / steps;
  } finally {
    trainer.dispose();
  }
}
