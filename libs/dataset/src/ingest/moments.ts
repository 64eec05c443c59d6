import { ErrorCode, S2gError } from '@s2g/contracts';
import { FRAME_VALUES, NECK, NUM_KEYPOINTS, scaleFactor, shoulderWidth, type SpeakerStats } from '@s2g/pose';

/** The moments as stored in an ingest job's summary (plain JSON numbers: float64, exact round trip). */
export interface PoseMomentsJson {
  frames: number;
  mean: number[];
  m2: number[];
}

/** What a speaker row stores (ML-SPEC 2): mean and std of the 98 neck-relative values, width and scale. */
export interface SpeakerNormalisationValues {
  poseMean: number[];
  poseStd: number[];
  shoulderWidth: number;
  scaleFactor: number;
}

/**
 * Sufficient statistics of neck-relative pose values: frame count, per-value mean and sum of squared
 * deviations (Welford, merged with Chan's formula). They make a speaker's normalisation recomputable
 * when data is added without reading the earlier frames again: merge the moments of every import.
 * Neck values are exactly 0 in every frame, so their mean and deviation stay exactly 0.
 */
export class PoseMoments {
  frames = 0;
  readonly mean = new Float64Array(FRAME_VALUES);
  readonly m2 = new Float64Array(FRAME_VALUES);
  private readonly rel = new Float64Array(FRAME_VALUES);

  /** Adds one frame of 98 pixel values (x0..x48, y0..y48). */
  add(keypoints: ArrayLike<number>): void {
    const nx = keypoints[NECK];
    const ny = keypoints[NUM_KEYPOINTS + NECK];
    for (let k = 0; k < NUM_KEYPOINTS; k++) {
      this.rel[k] = keypoints[k] - nx;
      this.rel[NUM_KEYPOINTS + k] = keypoints[NUM_KEYPOINTS + k] - ny;
    }
    this.frames += 1;
    const n = this.frames;
    for (let v = 0; v < FRAME_VALUES; v++) {
      const d = this.rel[v] - this.mean[v];
      this.mean[v] += d / n;
      this.m2[v] += d * (this.rel[v] - this.mean[v]);
    }
  }

  /** Adds another set of moments, as if its frames had been added here. */
  merge(other: PoseMoments): this {
    if (other.frames === 0) return this;
    const n = this.frames + other.frames;
    for (let v = 0; v < FRAME_VALUES; v++) {
      const d = other.mean[v] - this.mean[v];
      this.m2[v] += other.m2[v] + (d * d * this.frames * other.frames) / n;
      this.mean[v] += (d * other.frames) / n;
    }
    this.frames = n;
    return this;
  }

  /** Population standard deviation of each value (as `computeSpeakerStats` in @s2g/pose). */
  std(): Float64Array {
    return this.m2.map((m) => (this.frames > 0 ? Math.sqrt(Math.max(0, m) / this.frames) : 0));
  }

  /** Mean, std, shoulder width and scale factor. NO_TRAINING_DATA without frames, KEYPOINTS_INVALID with swapped shoulders. */
  normalisation(): SpeakerNormalisationValues {
    if (this.frames === 0) throw new S2gError(ErrorCode.NO_TRAINING_DATA, 'no training frames to compute normalisation statistics from');
    const stats: SpeakerStats = { mean: this.mean, std: this.std(), median: new Float64Array(FRAME_VALUES), frames: this.frames };
    return { poseMean: Array.from(stats.mean), poseStd: Array.from(stats.std), shoulderWidth: shoulderWidth(stats), scaleFactor: scaleFactor(stats) };
  }

  toJSON(): PoseMomentsJson {
    return { frames: this.frames, mean: Array.from(this.mean), m2: Array.from(this.m2) };
  }

  static fromJSON(json: unknown): PoseMoments | null {
    const j = json as Partial<PoseMomentsJson> | null | undefined;
    const ok = (a: unknown): a is number[] => Array.isArray(a) && a.length === FRAME_VALUES && a.every((x) => typeof x === 'number' && Number.isFinite(x));
    if (!j || typeof j.frames !== 'number' || !(j.frames >= 0) || !ok(j.mean) || !ok(j.m2)) return null;
    const out = new PoseMoments();
    out.frames = j.frames;
    out.mean.set(j.mean);
    out.m2.set(j.m2);
    return out;
  }
}
