import { FRAME_VALUES, NUM_KEYPOINTS } from '@s2g/pose';
import { ErrorCode, S2gError } from '@s2g/contracts';
import { FrameOptions, FrameRenderer } from './frame';
import { frameCount } from './layout';
import { encodePng } from './png';

/** Half-width (in frames) of the window over which motion is averaged when choosing the poster. */
const MOTION_WINDOW = 3;

/**
 * The most representative frame for a still: the one in the middle of the most vigorous gesture
 * (joint speed summed over all sequences, averaged over +-3 frames so one keypoint glitch does not
 * win). Falls back to the middle frame when nothing moves.
 */
export function choosePosterFrame(sequences: readonly ArrayLike<number>[]): number {
  if (sequences.length === 0) throw new S2gError(ErrorCode.BAD_USER_INPUT, 'no sequences to choose a poster frame from');
  const total = Math.max(...sequences.map((s) => frameCount(s)));
  const speed = new Float64Array(total);
  for (const s of sequences) {
    const t = frameCount(s);
    for (let f = 1; f < t; f++) {
      const a = (f - 1) * FRAME_VALUES;
      const b = f * FRAME_VALUES;
      let sum = 0;
      for (let j = 0; j < NUM_KEYPOINTS; j++) {
        const d = Math.hypot(s[b + j] - s[a + j], s[b + NUM_KEYPOINTS + j] - s[a + NUM_KEYPOINTS + j]);
        if (Number.isFinite(d)) sum += d;
      }
      speed[f] += sum;
    }
  }
  const middle = Math.floor((total - 1) / 2);
  let best = middle;
  let bestScore = 0;
  for (let f = 0; f < total; f++) {
    let score = 0;
    for (let k = Math.max(1, f - MOTION_WINDOW); k <= Math.min(total - 1, f + MOTION_WINDOW); k++) score += speed[k];
    // Ties go to the frame nearest the middle.
    if (score > bestScore || (score === bestScore && score > 0 && Math.abs(f - middle) < Math.abs(best - middle))) {
      bestScore = score;
      best = f;
    }
  }
  return best;
}

export interface PosterOptions extends FrameOptions {
  /** Frame to draw; defaults to `choosePosterFrame`. */
  frame?: number;
  /** Background video frame (rgb24 at the renderer's `backgroundSize`) when `background` is set. */
  backgroundFrame?: Uint8Array;
}

/** A PNG still of one frame of the panels (see FrameRenderer), and which frame it shows. */
export function renderPoster(options: PosterOptions): { png: Buffer; frame: number } {
  const renderer = new FrameRenderer(options);
  const frame = options.frame ?? choosePosterFrame(options.sequences.map((s) => s.frames));
  const canvas = renderer.render(frame, options.backgroundFrame);
  return { png: encodePng(canvas.data, canvas.width, canvas.height), frame };
}
