import { z } from 'zod';
import { ErrorCode, S2gError } from '@s2g/contracts';
import { deriveSeed, type TrainingBatch } from '@s2g/model';
import type { SpeakerStats } from '@s2g/pose';
import type { ObjectStore } from '@s2g/storage';
import { MEL_VALUES, POSE_VALUES, type PreparedSample, SAMPLE_BYTES, type ShardRef, loadShard, mapLimit } from './data';
import { SeededRng } from './rng';

/**
 * The training batch sampler (ML-SPEC 6: batches drawn at random with replacement) over a speaker's
 * training shards in object storage.
 *
 * Cache policy. Each window is decoded and turned into log-mel once when its shard is loaded, and kept
 * as float32 (SAMPLE_BYTES, about 129 KiB a window) while its shard is resident.
 * - When every training window fits in `cacheBytes` (default 2 GiB, about 16k windows), all shards
 *   are loaded once at the start and stay resident: batches are drawn uniformly with replacement from
 *   the whole training split, as the reference does.
 * - Otherwise a window of K shards is resident (K shards of the largest size, plus the one being
 *   prefetched, fit the budget). Shards pass through the window in a seeded random order (a new
 *   permutation each cycle over the shards); every R batches the oldest shard leaves and the
 *   prefetched one joins, R being the batches that draw about one shard's worth of windows. Each
 *   window is then drawn as often on average as under uniform sampling, and memory stays at K + 1
 *   shards. The next shard is fetched and decoded in the background while steps run.
 *
 * State. Which window is resident follows from the number of batches drawn, so the whole state is
 * that count and the random generator's 32-bit state (`LoaderState`); a checkpoint stores it and a
 * resumed sampler draws exactly the batches the uninterrupted one would have. The next batch is
 * assembled ahead (while the current step runs); `state` always describes the batches handed out,
 * not the one prefetched.
 */

export const DEFAULT_CACHE_BYTES = 2 * 1024 ** 3;
/** Shards fetched and decoded at once while filling the cache. */
const LOAD_CONCURRENCY = 2;

export const loaderStateSchema = z.object({
  rng: z.number().int().min(0).max(0xffffffff),
  batches: z.number().int().min(0),
});
export type LoaderState = z.infer<typeof loaderStateSchema>;

export interface SamplerOptions {
  store: ObjectStore;
  /** The training shards, in a stable order (the state refers to positions in it). */
  shards: readonly ShardRef[];
  stats: SpeakerStats;
  batchSize: number;
  seed: number;
  cacheBytes?: number;
  /** Where to continue from (a checkpoint's); a fresh sampler otherwise. */
  state?: LoaderState;
  onShardLoaded?: (info: { key: string; windows: number; ms: number }) => void;
}

export interface SamplerPlan {
  /** `all`: every training window resident; `window`: a rotating window of shards. */
  mode: 'all' | 'window';
  shards: number;
  windows: number;
  /** Shards resident at once (plus one prefetched in `window` mode). */
  residentShards: number;
  /** Batches between two window moves; null in `all` mode. */
  batchesPerMove: number | null;
}

/** Which shards are resident when, from the shard sizes, the batch size and the cache budget. */
export function planSampler(shards: readonly ShardRef[], batchSize: number, cacheBytes: number): SamplerPlan {
  const windows = shards.reduce((n, s) => n + s.sampleCount, 0);
  if (shards.length === 0 || windows === 0) throw new S2gError(ErrorCode.NO_TRAINING_DATA, 'the speaker has no training windows');
  if (windows * SAMPLE_BYTES <= cacheBytes) return { mode: 'all', shards: shards.length, windows, residentShards: shards.length, batchesPerMove: null };
  const largest = Math.max(...shards.map((s) => s.sampleCount));
  const resident = Math.max(1, Math.floor(cacheBytes / (largest * SAMPLE_BYTES)) - 1);
  return {
    mode: 'window',
    shards: shards.length,
    windows,
    residentShards: resident,
    batchesPerMove: Math.max(1, Math.ceil(windows / shards.length / batchSize)),
  };
}

interface Drawn {
  batch: TrainingBatch;
  after: LoaderState;
}

export class TrainingSampler {
  readonly plan: SamplerPlan;
  private readonly rng: SeededRng;
  private drawn: number;
  private consumed: LoaderState;
  private readonly loaded = new Map<number, Promise<PreparedSample[]>>();
  private readonly permutations = new Map<number, number[]>();
  private windowAt = -1;
  private resident: PreparedSample[] = [];
  private ahead: Promise<Drawn> | null = null;
  private closed = false;

  private constructor(private readonly options: SamplerOptions) {
    if (!Number.isInteger(options.batchSize) || options.batchSize < 1) throw new RangeError(`batch size must be a positive integer, got ${options.batchSize}`);
    this.plan = planSampler(options.shards, options.batchSize, options.cacheBytes ?? DEFAULT_CACHE_BYTES);
    const state = options.state ?? { rng: deriveSeed(options.seed, 'training-batches'), batches: 0 };
    this.rng = new SeededRng(state.rng);
    this.drawn = state.batches;
    this.consumed = { ...state };
  }

  /** Opens a sampler and fills its cache for the first batch (every shard, in `all` mode). */
  static async open(options: SamplerOptions): Promise<TrainingSampler> {
    const sampler = new TrainingSampler(options);
    await sampler.enterWindow(sampler.windowOf(sampler.drawn));
    return sampler;
  }

  /** The state after the last batch `next` returned: what a checkpoint must record. */
  get state(): LoaderState {
    return { ...this.consumed };
  }

  /** The training windows resident now (all of them in `all` mode); the baselines' reference set. */
  residentWindows(): readonly PreparedSample[] {
    return this.resident;
  }

  /** The next batch of `batchSize` windows; the one after it is assembled before this resolves. */
  async next(): Promise<TrainingBatch> {
    if (this.closed) throw new Error('sampler is closed');
    const pending = this.ahead ?? this.draw();
    this.ahead = null;
    const { batch, after } = await pending;
    this.consumed = after;
    this.ahead = this.draw();
    // Failures surface from the next call; do not report them as unhandled meanwhile.
    this.ahead.catch(() => undefined);
    return batch;
  }

  /** Drops every cached window. */
  close(): void {
    this.closed = true;
    this.loaded.clear();
    this.resident = [];
    this.ahead = null;
  }

  private windowOf(batch: number): number {
    return this.plan.batchesPerMove === null ? 0 : Math.floor(batch / this.plan.batchesPerMove);
  }

  /** The shard index at position `p` of the endless sequence of per-cycle permutations. */
  private shardAt(p: number): number {
    const n = this.options.shards.length;
    if (this.plan.mode === 'all') return p;
    const cycle = Math.floor(p / n);
    let perm = this.permutations.get(cycle);
    if (!perm) {
      perm = new SeededRng(deriveSeed(this.options.seed, `training-shards/${cycle}`)).permutation(n);
      this.permutations.set(cycle, perm);
      this.permutations.delete(cycle - 2);
    }
    return perm[p % n];
  }

  private load(index: number): Promise<PreparedSample[]> {
    let pending = this.loaded.get(index);
    if (!pending) {
      const shard = this.options.shards[index];
      const started = performance.now();
      pending = loadShard(this.options.store, shard, this.options.stats, { keepPixels: false }).then((windows) => {
        this.options.onShardLoaded?.({ key: shard.key, windows: windows.length, ms: Math.round(performance.now() - started) });
        return windows;
      });
      pending.catch(() => this.loaded.delete(index));
      this.loaded.set(index, pending);
    }
    return pending;
  }

  private async enterWindow(w: number): Promise<void> {
    if (w === this.windowAt) return;
    const k = this.plan.residentShards;
    const members = Array.from({ length: k }, (_, i) => this.shardAt(w + i));
    const windows = await mapLimit(members, LOAD_CONCURRENCY, (index) => this.load(index));
    if (this.closed) return;
    this.resident = windows.flat();
    this.windowAt = w;
    if (this.plan.mode === 'window') {
      const next = this.shardAt(w + k);
      const keep = new Set([...members, next]);
      for (const index of [...this.loaded.keys()]) if (!keep.has(index)) this.loaded.delete(index);
      // Prefetch the shard that joins at the next move; its failure surfaces when it is needed.
      this.load(next).catch(() => undefined);
    }
  }

  private async draw(): Promise<Drawn> {
    const n = this.drawn;
    await this.enterWindow(this.windowOf(n));
    const b = this.options.batchSize;
    const audio = new Float32Array(b * MEL_VALUES);
    const pose = new Float32Array(b * POSE_VALUES);
    for (let i = 0; i < b; i++) {
      const s = this.resident[this.rng.int(this.resident.length)];
      audio.set(s.mel, i * MEL_VALUES);
      pose.set(s.pose, i * POSE_VALUES);
    }
    this.drawn = n + 1;
    return { batch: { audio, pose }, after: { rng: this.rng.state, batches: n + 1 } };
  }
}
