/**
 * Test data: a synthetic speaker imported by the real ingest pipeline (`runIngest`, layout
 * `synthetic`, audio only), so the trainer reads exactly what ingest writes.
 */
import { randomUUID } from 'node:crypto';
import type { Split } from '@s2g/contracts';
import { runIngest } from '@s2g/dataset';
import type { Database } from '@s2g/db';
import type { ObjectStore } from '@s2g/storage';

export interface SyntheticSpeakerOptions {
  name: string;
  seed: number;
  minutes: number;
  /** Shard size limit; small values give several shards per split. */
  shardBytes?: number;
}

export interface SeededSpeaker {
  speakerId: string;
  windows: Record<Split, number>;
  shards: Record<Split, string[]>;
}

export async function ingestSyntheticSpeaker(db: Database, store: ObjectStore, options: SyntheticSpeakerOptions): Promise<SeededSpeaker> {
  const speaker = await db.speakers.create({ name: options.name });
  await runIngest(
    {
      jobId: randomUUID(),
      speakerId: speaker.id,
      layout: 'synthetic',
      source: { kind: 'path', path: '/unused' },
      options: { synthetic: { minutes: options.minutes, seed: options.seed, style: 'animated', video: false } },
    },
    { db, store },
    { shardMaxBytes: options.shardBytes ?? 8 * 1024 * 1024 },
  );
  const shards = { train: [], dev: [], test: [] } as Record<Split, string[]>;
  const windows = { train: 0, dev: 0, test: 0 } as Record<Split, number>;
  for (const shard of await db.shards.listBySpeaker(speaker.id)) {
    shards[shard.split].push(shard.key);
    windows[shard.split] += shard.sampleCount;
  }
  return { speakerId: speaker.id, windows, shards };
}
