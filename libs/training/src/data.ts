import { NUM_MEL_BANDS, SPEC_FRAMES, WINDOW_AUDIO_SAMPLES, WINDOW_FRAMES, logMel } from '@s2g/audio';
import { ErrorCode, S2gError, type Split, isS2gError } from '@s2g/contracts';
import { decodeShard } from '@s2g/dataset';
import { FRAME_VALUES, type SpeakerStats, normalize } from '@s2g/pose';
import type { ObjectStore } from '@s2g/storage';

/**
 * Training windows as the network takes them: log-mel computed once per window, pose normalised with
 * the speaker's statistics, both float32.
 */

/** Values of one window's log-mel: (418, 64), time-major. */
export const MEL_VALUES = SPEC_FRAMES * NUM_MEL_BANDS;
/** Values of one window's pose: (64, 98). */
export const POSE_VALUES = WINDOW_FRAMES * FRAME_VALUES;
/** Bytes one cached training window takes (log-mel + normalised pose): about 129 KiB. */
export const SAMPLE_BYTES = (MEL_VALUES + POSE_VALUES) * 4;
/** Bytes one evaluation window takes (log-mel + normalised and pixel pose): about 154 KiB. */
export const EVAL_SAMPLE_BYTES = SAMPLE_BYTES + POSE_VALUES * 4;

export interface PreparedSample {
  /** The shard's sample id (`<video>/<interval>/<first frame>`). */
  id: string;
  /** Log-mel, (418, 64) time-major. */
  mel: Float32Array;
  /** Normalised pose, (64, 98). */
  pose: Float32Array;
}

/** An evaluation window: PCK is scored on pixels, so the original pose is kept too. */
export interface EvalSample extends PreparedSample {
  /** Pose in image pixels, (64, 98). */
  pixels: Float32Array;
}

/** A shard as the trainer needs to know it: its key, its split and how many windows it holds. */
export interface ShardRef {
  key: string;
  split: Split;
  sampleCount: number;
}

function corrupt(key: string, problem: string): S2gError {
  return new S2gError(ErrorCode.SHARD_CORRUPT, `${key}: ${problem}`, { file: key });
}

const yieldToLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

function allFinite(values: Float32Array): boolean {
  for (let i = 0; i < values.length; i++) if (!Number.isFinite(values[i])) return false;
  return true;
}

/**
 * Fetches, verifies and prepares the windows of one shard. `pick` selects windows by index (all by
 * default). A missing object, a damaged shard, a window of the wrong shape, split or with non-finite
 * values, or a sample count other than the database's is SHARD_CORRUPT; statistics that make a
 * normalised window non-finite are DATASET_INVALID.
 */
export async function loadShard<K extends boolean>(
  store: ObjectStore,
  shard: ShardRef,
  stats: SpeakerStats,
  options: { keepPixels: K; pick?: (index: number) => boolean },
): Promise<(K extends true ? EvalSample : PreparedSample)[]> {
  let bytes: Buffer;
  try {
    bytes = await store.getBuffer(shard.key);
  } catch (e) {
    if (isS2gError(e) && e.code === ErrorCode.STORAGE_NOT_FOUND) throw corrupt(shard.key, 'the shard object is missing from storage');
    throw e;
  }
  const { header, samples } = decodeShard(bytes, shard.key);
  if (header.frames !== WINDOW_FRAMES || header.values !== FRAME_VALUES || header.audioSamples !== WINDOW_AUDIO_SAMPLES) {
    throw corrupt(shard.key, `windows are ${header.frames} x ${header.values} with ${header.audioSamples} audio samples, expected ${WINDOW_FRAMES} x ${FRAME_VALUES} with ${WINDOW_AUDIO_SAMPLES}`);
  }
  if (samples.length !== shard.sampleCount) throw corrupt(shard.key, `holds ${samples.length} windows, the database lists ${shard.sampleCount}`);
  const out: (PreparedSample | EvalSample)[] = [];
  for (let i = 0; i < samples.length; i++) {
    if (options.pick && !options.pick(i)) continue;
    const s = samples[i];
    // A window of another split here would leak held-out data into training (or the reverse).
    if (s.split !== shard.split) throw corrupt(shard.key, `window ${s.id} belongs to the ${s.split} split, the shard is listed as ${shard.split}`);
    if (!allFinite(s.pose)) throw corrupt(shard.key, `window ${s.id} has non-finite pose values`);
    const mel = logMel(s.audio).data;
    if (mel.length !== MEL_VALUES || !allFinite(mel)) throw corrupt(shard.key, `window ${s.id} gives a non-finite or misshapen log-mel`);
    const pose = Float32Array.from(normalize(s.pose, stats));
    if (!allFinite(pose)) {
      throw new S2gError(ErrorCode.DATASET_INVALID, `the speaker's normalisation statistics turn window ${s.id} of ${shard.key} into non-finite values`, { file: shard.key });
    }
    const prepared: PreparedSample = { id: s.id, mel, pose };
    out.push(options.keepPixels ? { ...prepared, pixels: s.pose } : prepared);
    // A shard's log-mels take about a second: let heartbeats and I/O through meanwhile.
    if (i % 16 === 15) await yieldToLoop();
  }
  return out as (K extends true ? EvalSample : PreparedSample)[];
}

/** Runs `fn` over `items` with at most `limit` calls in flight; results in input order. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i], i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}
