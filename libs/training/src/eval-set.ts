import type { Split } from '@s2g/contracts';
import { deriveSeed } from '@s2g/model';
import type { SpeakerStats } from '@s2g/pose';
import type { ObjectStore } from '@s2g/storage';
import { type EvalSample, type ShardRef, loadShard, mapLimit } from './data';
import { SeededRng } from './rng';

/**
 * Held-out windows. The validation set is a fixed subset of the dev split chosen once per run from
 * the seed (all of it when it has at most `limit` windows) and kept in memory (EVAL_SAMPLE_BYTES,
 * about 154 KiB a window: 77 MiB for the default 512). The test split is streamed shard by shard at
 * the end of a run, so it can be any size.
 */

/** Up to `limit` windows of `split`, the same ones for the same seed and shards. */
export async function loadValidationSet(
  store: ObjectStore,
  shards: readonly ShardRef[],
  stats: SpeakerStats,
  options: { limit: number; seed: number; split: Split },
): Promise<EvalSample[]> {
  const total = shards.reduce((n, s) => n + s.sampleCount, 0);
  if (options.limit <= 0 || total === 0) return [];
  let chosen: Set<number> | null = null;
  if (total > options.limit) {
    const order = new SeededRng(deriveSeed(options.seed, `validation-set/${options.split}`)).permutation(total);
    chosen = new Set(order.slice(0, options.limit));
  }
  const offsets: number[] = [];
  shards.reduce((offset, s) => (offsets.push(offset), offset + s.sampleCount), 0);
  const parts = await mapLimit(shards, 2, async (shard, i) => {
    const pick = chosen ? (index: number) => (chosen as Set<number>).has(offsets[i] + index) : undefined;
    if (pick && !Array.from({ length: shard.sampleCount }, (_, k) => k).some(pick)) return [];
    return loadShard(store, shard, stats, { keepPixels: true, ...(pick ? { pick } : {}) });
  });
  return parts.flat();
}

/** Calls `fn` with the windows of each shard in turn; only one shard is in memory at a time. */
export async function forEachShard(
  store: ObjectStore,
  shards: readonly ShardRef[],
  stats: SpeakerStats,
  fn: (windows: EvalSample[]) => Promise<void>,
): Promise<number> {
  let count = 0;
  for (const shard of shards) {
    const windows = await loadShard(store, shard, stats, { keepPixels: true });
    await fn(windows);
    count += windows.length;
  }
  return count;
}
