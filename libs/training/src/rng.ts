/**
 * The batch sampler's random numbers: mulberry32 (as @s2g/model's `mulberry32`), but with its 32-bit
 * state readable and settable, so a checkpoint can record where the sampler is and a resumed run draws
 * exactly the batches an uninterrupted one would have.
 */
export class SeededRng {
  private a: number;

  constructor(seed: number) {
    this.a = seed >>> 0;
  }

  /** The whole state: one unsigned 32-bit integer. */
  get state(): number {
    return this.a;
  }

  set state(value: number) {
    if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) throw new RangeError(`rng state must be a uint32, got ${value}`);
    this.a = value;
  }

  /** Uniform in [0, 1). */
  next(): number {
    this.a = (this.a + 0x6d2b79f5) >>> 0;
    let t = this.a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** An integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** A Fisher-Yates permutation of 0..n-1. */
  permutation(n: number): number[] {
    const out = Array.from({ length: n }, (_, i) => i);
    for (let i = n - 1; i > 0; i--) {
      const j = this.int(i + 1);
      [out[i], out[j]] = [out[j], out[i]];
    }
    return out;
  }
}
