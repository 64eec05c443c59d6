/**
 * Real-input FFT of a power-of-two size, in float64.
 *
 * A size-N real FFT is computed as one size-N/2 complex FFT of the even/odd samples packed as
 * re/im, then split into the N/2+1 non-redundant bins. Tables and scratch buffers are allocated
 * once per instance so the hot loop of the spectrogram allocates nothing.
 */
export class RealFft {
  readonly size: number;
  readonly bins: number;
  private readonly half: number;
  private readonly bitrev: Uint32Array;
  /** Twiddles of the half-size complex FFT: exp(-2*pi*i*k/half), k < half/2. */
  private readonly cosHalf: Float64Array;
  private readonly sinHalf: Float64Array;
  /** Twiddles of the split step: exp(-2*pi*i*k/size), k <= half. */
  private readonly cosFull: Float64Array;
  private readonly sinFull: Float64Array;
  private readonly re: Float64Array;
  private readonly im: Float64Array;

  constructor(size: number) {
    if (!Number.isInteger(size) || size < 4 || (size & (size - 1)) !== 0) {
      throw new RangeError(`FFT size must be a power of two >= 4, got ${size}`);
    }
    this.size = size;
    this.half = size / 2;
    this.bins = this.half + 1;
    const half = this.half;
    const bits = Math.log2(half);
    this.bitrev = new Uint32Array(half);
    for (let i = 0; i < half; i++) {
      let r = 0;
      for (let b = 0; b < bits; b++) r |= ((i >> b) & 1) << (bits - 1 - b);
      this.bitrev[i] = r;
    }
    this.cosHalf = new Float64Array(half / 2);
    this.sinHalf = new Float64Array(half / 2);
    for (let k = 0; k < half / 2; k++) {
      this.cosHalf[k] = Math.cos((2 * Math.PI * k) / half);
      this.sinHalf[k] = -Math.sin((2 * Math.PI * k) / half);
    }
    this.cosFull = new Float64Array(half + 1);
    this.sinFull = new Float64Array(half + 1);
    for (let k = 0; k <= half; k++) {
      this.cosFull[k] = Math.cos((2 * Math.PI * k) / size);
      this.sinFull[k] = -Math.sin((2 * Math.PI * k) / size);
    }
    this.re = new Float64Array(half);
    this.im = new Float64Array(half);
  }

  /**
   * Forward transform of `input` (length `size`; read as zero beyond its length) into
   * `outRe`/`outIm` of length `bins` (k = 0..size/2).
   */
  forward(input: ArrayLike<number>, outRe: Float64Array, outIm: Float64Array): void {
    this.transformHalf(input);
    const { re, im, half, cosFull, sinFull } = this;
    // DC and Nyquist come from Z[0] alone.
    outRe[0] = re[0] + im[0];
    outIm[0] = 0;
    outRe[half] = re[0] - im[0];
    outIm[half] = 0;
    for (let k = 1; k < half; k++) {
      const zr = re[k];
      const zi = im[k];
      const cr = re[half - k];
      const ci = -im[half - k];
      // Even part E = (Z[k] + conj(Z[N/2-k])) / 2, odd part O = (Z[k] - conj(Z[N/2-k])) / (2i).
      const er = 0.5 * (zr + cr);
      const ei = 0.5 * (zi + ci);
      const or = 0.5 * (zi - ci);
      const oi = -0.5 * (zr - cr);
      const wr = cosFull[k];
      const wi = sinFull[k];
      outRe[k] = er + wr * or - wi * oi;
      outIm[k] = ei + wr * oi + wi * or;
    }
  }

  /** Magnitudes |X[k]| for k = 0..size/2 into `out`. */
  magnitude(input: ArrayLike<number>, out: Float64Array): void {
    this.transformHalf(input);
    const { re, im, half, cosFull, sinFull } = this;
    out[0] = Math.abs(re[0] + im[0]);
    out[half] = Math.abs(re[0] - im[0]);
    for (let k = 1; k < half; k++) {
      const zr = re[k];
      const zi = im[k];
      const cr = re[half - k];
      const ci = -im[half - k];
      const er = 0.5 * (zr + cr);
      const ei = 0.5 * (zi + ci);
      const or = 0.5 * (zi - ci);
      const oi = -0.5 * (zr - cr);
      const wr = cosFull[k];
      const wi = sinFull[k];
      const xr = er + wr * or - wi * oi;
      const xi = ei + wr * oi + wi * or;
      out[k] = Math.sqrt(xr * xr + xi * xi);
    }
  }

  /** Packs even/odd samples as complex values in bit-reversed order and runs the radix-2 FFT. */
  private transformHalf(input: ArrayLike<number>): void {
    const { re, im, half, bitrev, cosHalf, sinHalf } = this;
    const n = input.length;
    for (let i = 0; i < half; i++) {
      const j = bitrev[i];
      const a = 2 * i;
      re[j] = a < n ? input[a] : 0;
      im[j] = a + 1 < n ? input[a + 1] : 0;
    }
    for (let len = 2; len <= half; len <<= 1) {
      const halfLen = len >> 1;
      const step = half / len;
      for (let start = 0; start < half; start += len) {
        for (let k = 0; k < halfLen; k++) {
          const wr = cosHalf[k * step];
          const wi = sinHalf[k * step];
          const p = start + k;
          const q = p + halfLen;
          const tr = re[q] * wr - im[q] * wi;
          const ti = re[q] * wi + im[q] * wr;
          re[q] = re[p] - tr;
          im[q] = im[p] - ti;
          re[p] += tr;
          im[p] += ti;
        }
      }
    }
  }
}
