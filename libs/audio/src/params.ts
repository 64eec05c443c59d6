/**
 * Audio and sample-window parameters of speech2gesture (ML-SPEC sections 1 and 3).
 * This file is the only place these numbers are written.
 */
export const SAMPLE_RATE = 16_000;
export const FRAME_LENGTH = 400;
export const HOP_LENGTH = 160;
export const FFT_SIZE = 512;
export const NUM_BINS = FFT_SIZE / 2 + 1;
export const NUM_MEL_BANDS = 64;
export const MEL_LOW_HZ = 125;
export const MEL_HIGH_HZ = 7_500;
export const LOG_OFFSET = 1e-6;

/** Pose frames per training window, and the stride between windows inside an interval. */
export const WINDOW_FRAMES = 64;
export const WINDOW_STRIDE = 5;
/** Audio samples per training window (4.2042 s); gives SPEC_FRAMES spectrogram frames. */
export const WINDOW_AUDIO_SAMPLES = 67_267;
export const SPEC_FRAMES = 418;

/** Number of STFT frames for n samples (no end padding). */
export function numSpecFrames(n: number): number {
  return n < FRAME_LENGTH ? 0 : 1 + Math.floor((n - FRAME_LENGTH) / HOP_LENGTH);
}
