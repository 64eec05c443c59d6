import { createHash } from 'node:crypto';
import { extname } from 'node:path';
import { SPLITS, type Split } from '@s2g/contracts';
import { StorageKeys, type ObjectStore } from '@s2g/storage';
import { ShardBuilder } from '../formats/shard';
import type { WindowSample } from '../windows';

/**
 * Object keys of an ingest job. Everything a job writes carries its id, so a job that failed, or
 * whose worker died before it could clean up, can have exactly its own objects found and removed
 * without touching other jobs' (even one running for the same speaker at the same time):
 *
 *   speakers/<speaker>/samples/<job>-<nnnnn>.s2gshard
 *   speakers/<speaker>/videos/<video>/<job>/audio.wav        16 kHz mono 16-bit PCM
 *   speakers/<speaker>/videos/<video>/<job>/source.<ext>     the source media, when kept
 *
 * Keys are deterministic, so a re-run of the same job overwrites rather than adds.
 */
export const JobKeys = {
  shard: (speakerId: string, jobId: string, n: number): string => StorageKeys.shard(speakerId, `${jobId}-${String(n).padStart(5, '0')}.s2gshard`),
  audio: (speakerId: string, videoId: string, jobId: string): string => StorageKeys.video(speakerId, videoId, `${jobId}/audio.wav`),
  source: (speakerId: string, videoId: string, jobId: string, mediaPath: string): string => {
    const ext = extname(mediaPath).toLowerCase();
    return StorageKeys.video(speakerId, videoId, `${jobId}/source${/^\.[a-z0-9]{1,8}$/.test(ext) ? ext : ''}`);
  },
  /** True for keys `JobKeys` builds for this job. */
  owns: (speakerId: string, jobId: string, key: string): boolean => {
    const samples = StorageKeys.samplesPrefix(speakerId);
    if (key.startsWith(samples)) return key.slice(samples.length).startsWith(`${jobId}-`);
    return key.startsWith(`${StorageKeys.speakerPrefix(speakerId)}videos/`) && key.includes(`/${jobId}/`);
  },
};

/**
 * The id of a video row, derived from the speaker and the video name: the media of a new video are
 * stored under it before the row exists (rows are written last, in one transaction), and a re-run
 * arrives at the same keys. Formatted as a version-5-style UUID.
 */
export function videoUuid(speakerId: string, name: string): string {
  const h = createHash('sha256').update(`s2g-video\u0000${speakerId}\u0000${name}`).digest();
  h[6] = (h[6] & 0x0f) | 0x50;
  h[8] = (h[8] & 0x3f) | 0x80;
  const x = h.subarray(0, 16).toString('hex');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20, 32)}`;
}

/** Removes every object of a job (see `JobKeys`) under the speaker's prefix; returns how many. */
export async function discardJobObjects(store: ObjectStore, speakerId: string, jobId: string): Promise<number> {
  const doomed: string[] = [];
  for await (const o of store.list(StorageKeys.speakerPrefix(speakerId))) if (JobKeys.owns(speakerId, jobId, o.key)) doomed.push(o.key);
  for (const key of doomed) await store.delete(key);
  return doomed.length;
}

/** Where a window goes in the database: its interval by (video name, interval id) and its first frame. */
export interface SampleRef {
  video: string;
  interval: string;
  startFrame: number;
  startSeconds: number;
  endSeconds: number;
}

export interface WrittenShard {
  key: string;
  split: Split;
  byteSize: number;
  /** In shard order. */
  samples: SampleRef[];
}

/**
 * Packs windows into shards of one split each (a shard row has one split, so the trainer can pick
 * a split's shards without opening them), and writes each to storage as soon as it is full.
 * Windows are held only in their encoded form until then.
 */
export class ShardWriter {
  private readonly open = new Map<Split, { builder: ShardBuilder; refs: SampleRef[] }>();
  private next = 0;
  private inFlight: Promise<void> | undefined;
  readonly written: WrittenShard[] = [];

  constructor(
    private readonly store: ObjectStore,
    private readonly speakerId: string,
    private readonly jobId: string,
    private readonly maxBytes: number,
    /** Called before each write with its key (so a write that fails half-way is still cleaned up), then with its size. */
    private readonly events: { writing(key: string): void; written(bytes: number): void; packing(active: boolean): void },
  ) {}

  async add(sample: WindowSample, ref: SampleRef): Promise<void> {
    let slot = this.open.get(sample.split);
    if (slot && slot.builder.count > 0 && slot.builder.sizeWith(sample) > this.maxBytes) await this.flush(sample.split);
    slot = this.open.get(sample.split);
    if (!slot) this.open.set(sample.split, (slot = { builder: new ShardBuilder('i16'), refs: [] }));
    slot.builder.add(sample);
    slot.refs.push(ref);
  }

  private async flush(split: Split): Promise<void> {
    const slot = this.open.get(split);
    if (!slot || slot.builder.count === 0) return;
    this.open.delete(split);
    this.events.packing(true);
    const bytes = slot.builder.finish();
    const key = JobKeys.shard(this.speakerId, this.jobId, this.next++);
    // One write in flight while the next windows are cut: storage and cutting overlap, and at most
    // one finished shard waits in memory.
    await this.settle();
    this.events.writing(key);
    this.inFlight = this.store.put(key, bytes, bytes.length, { contentType: 'application/octet-stream' }).then(() => {
      this.events.written(bytes.length);
      this.written.push({ key, split, byteSize: bytes.length, samples: slot.refs });
    });
    // Failures surface at the next settle; until then the rejection must not count as unhandled.
    this.inFlight.catch(() => undefined);
    this.events.packing(false);
  }

  private async settle(): Promise<void> {
    const pending = this.inFlight;
    this.inFlight = undefined;
    await pending;
  }

  /** Writes the partly filled shards (train, dev, test order) and waits for every write. */
  async finish(): Promise<void> {
    for (const split of SPLITS) await this.flush(split);
    await this.settle();
  }

  /** Waits for a write in flight without raising its error (the run is failing anyway). */
  async abandon(): Promise<void> {
    await this.settle().catch(() => undefined);
  }
}
