import { availableParallelism } from 'node:os';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { ConvGeometry, NativeIsa, NativeKernels } from '../src/index';
import { ACTIVATION, GEOMETRY_LENGTH, convGeometry, loadNative } from '../src/index';

/**
 * The native addon against naive float64 JavaScript references: matmul in every transpose layout,
 * batched and broadcast; the convolution and its two gradients (NHWC / HWIO, explicit pads, strides,
 * dilations); the channel sum; for every instruction set this CPU has, on one and on two threads.
 * Relative error = max |difference| / max |reference|.
 *
 * Outside CI the suite is skipped (with the reason in its name) when the addon was not built; with
 * CI=true a missing or broken build fails.
 */
const required = process.env.CI === 'true';
const status = loadNative();
const native = status.kernels;
const ALL_ISAS: readonly NativeIsa[] = ['avx512', 'avx2', 'generic'];
/** The instruction set selected at load, before any test forced one. */
const initialIsa = native?.info().isa;
const ISAS: NativeIsa[] = native ? ALL_ISAS.filter((isa) => native.setIsa(isa)) : [];
const THREADS = [1, 2];
const TOL = 1e-5;

function kernels(): NativeKernels {
  if (!native) throw new Error(`native kernels unavailable: ${status.reason}`);
  return native;
}

function restoreDefaults(): void {
  if (!native) return;
  native.setThreads(availableParallelism());
  const best = ALL_ISAS.find((isa) => native.setIsa(isa));
  if (!best) throw new Error('no instruction set available');
}
restoreDefaults();

// ---------------------------------------------------------------------------------------------
// Helpers.

function values(length: number, seed: number): Float32Array {
  let s = seed;
  const out = new Float32Array(length);
  for (let i = 0; i < length; i++) {
    s = (s * 1103515245 + 12345) % 2147483648;
    out[i] = s / 1073741824 - 1;
  }
  return out;
}

function relErr(actual: Float32Array, reference: ArrayLike<number>): number {
  expect(actual.length).toBe(reference.length);
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < actual.length; i++) {
    const d = Math.abs(actual[i] - reference[i]);
    // NaN (an output element never written) must fail, and Math.max would drop it.
    diff = Number.isNaN(d) ? Infinity : Math.max(diff, d);
    scale = Math.max(scale, Math.abs(reference[i]));
  }
  return scale === 0 ? diff : diff / scale;
}

function filled(length: number, value = NaN): Float32Array {
  return new Float32Array(length).fill(value);
}

function thrown(f: () => unknown): Error & { code?: string } {
  try {
    f();
  } catch (e) {
    return e as Error & { code?: string };
  }
  throw new Error('expected a throw');
}

function expectArgsError(f: () => unknown, message: RegExp): void {
  const e = thrown(f);
  expect(e).toBeInstanceOf(TypeError);
  expect(e.code).toBe('S2G_NATIVE_ARGS');
  expect(e.message).toMatch(message);
}

// ---------------------------------------------------------------------------------------------
// Matmul reference: op(A) is M x K (stored K x M when transposed), op(B) is K x N (stored N x K).

interface MatmulCase {
  batch: number;
  m: number;
  n: number;
  k: number;
  ta: boolean;
  tb: boolean;
  /** Batch strides in values; 0 broadcasts one matrix. */
  sa: number;
  sb: number;
}

function matmulInputs(c: MatmulCase): { a: Float32Array; b: Float32Array } {
  const aLength = c.sa === 0 ? c.m * c.k : (c.batch - 1) * c.sa + c.m * c.k;
  const bLength = c.sb === 0 ? c.k * c.n : (c.batch - 1) * c.sb + c.k * c.n;
  return { a: values(aLength, 1 + c.m + c.k), b: values(bLength, 2 + c.n) };
}

function refMatmul(c: MatmulCase, a: Float32Array, b: Float32Array): Float64Array {
  const { batch, m: M, n: N, k: K } = c;
  const out = new Float64Array(batch * M * N);
  for (let t = 0; t < batch; t++) {
    const ao = t * c.sa;
    const bo = t * c.sb;
    for (let i = 0; i < M; i++) {
      for (let j = 0; j < N; j++) {
        let s = 0;
        for (let k = 0; k < K; k++) s += a[ao + (c.ta ? k * M + i : i * K + k)] * b[bo + (c.tb ? j * K + k : k * N + j)];
        out[(t * M + i) * N + j] = s;
      }
    }
  }
  return out;
}

function runMatmul(c: MatmulCase, a: Float32Array, b: Float32Array): Float32Array {
  const out = filled(c.batch * c.m * c.n);
  kernels().matmul(a, b, out, Int32Array.from([c.batch, c.m, c.n, c.k, c.ta ? 1 : 0, c.tb ? 1 : 0, c.sa, c.sb]));
  return out;
}

const TRANSPOSES: [boolean, boolean][] = [
  [false, false],
  [false, true],
  [true, false],
  [true, true],
];

/** [M, N, K]: odd, degenerate and tile-crossing sizes (avx512 tile 12 x 32, avx2 6 x 16, generic 6 x 8; KC 256, NC 1024). */
const MATMUL_SIZES: { label: string; mnk: [number, number, number] }[] = [
  { label: 'odd sizes', mnk: [37, 29, 53] },
  { label: '1 x 1 x K (a dot product)', mnk: [1, 1, 70] },
  { label: 'M x 1 (matrix times vector)', mnk: [45, 1, 17] },
  { label: '1 x N (vector times matrix)', mnk: [1, 33, 5] },
  { label: 'tile multiples', mnk: [48, 64, 64] },
  { label: 'K > KC (depth blocks accumulate)', mnk: [13, 70, 300] },
  { label: 'M > MC, split into row blocks across threads', mnk: [230, 35, 19] },
  { label: 'N > NC', mnk: [5, 1030, 7] },
  { label: 'K = 0 (zeros)', mnk: [3, 4, 0] },
];

const BATCHED: { label: string; batch: number; mnk: [number, number, number]; stride: (m: number, n: number, k: number) => [number, number] }[] = [
  { label: 'batch 3, both strided', batch: 3, mnk: [19, 23, 31], stride: (m, n, k) => [m * k, k * n] },
  { label: 'batch 4, b broadcast (stride 0)', batch: 4, mnk: [17, 9, 12], stride: (m, _n, k) => [m * k, 0] },
  { label: 'batch 4, a broadcast (stride 0)', batch: 4, mnk: [11, 21, 8], stride: (_m, n, k) => [0, k * n] },
  { label: 'batch 3, row blocks within each matrix', batch: 3, mnk: [70, 13, 9], stride: (m, n, k) => [m * k, k * n] },
  { label: 'batch 2, strides with gaps', batch: 2, mnk: [7, 5, 6], stride: (m, n, k) => [m * k + 5, k * n + 3] },
];

// ---------------------------------------------------------------------------------------------
// Convolution references: x NHWC, filter (kh, kw, Ci, Co), explicit top / left pads.

type Pad = 'same' | 'valid' | { top: number; bottom: number; left: number; right: number };

interface ConvCase {
  label: string;
  x: [number, number, number, number];
  filter: [number, number, number, number];
  stride?: number | [number, number];
  dilation?: number | [number, number];
  pad: Pad;
}

const pair = (v: number | [number, number]): [number, number] => (typeof v === 'number' ? [v, v] : v);

function geometryOf(c: ConvCase): ConvGeometry {
  const [batch, inHeight, inWidth, inChannels] = c.x;
  const [filterHeight, filterWidth, filterIn, outChannels] = c.filter;
  if (filterIn !== inChannels) throw new Error(`${c.label}: filter has ${filterIn} input channels, x has ${inChannels}`);
  const [strideHeight, strideWidth] = pair(c.stride ?? 1);
  const [dilationHeight, dilationWidth] = pair(c.dilation ?? 1);
  const effH = (filterHeight - 1) * dilationHeight + 1;
  const effW = (filterWidth - 1) * dilationWidth + 1;
  let outHeight: number;
  let outWidth: number;
  let padTop = 0;
  let padLeft = 0;
  if (c.pad === 'valid') {
    outHeight = Math.ceil((inHeight - effH + 1) / strideHeight);
    outWidth = Math.ceil((inWidth - effW + 1) / strideWidth);
  } else if (c.pad === 'same') {
    outHeight = Math.ceil(inHeight / strideHeight);
    outWidth = Math.ceil(inWidth / strideWidth);
    padTop = Math.floor(Math.max((outHeight - 1) * strideHeight + effH - inHeight, 0) / 2);
    padLeft = Math.floor(Math.max((outWidth - 1) * strideWidth + effW - inWidth, 0) / 2);
  } else {
    outHeight = Math.floor((inHeight + c.pad.top + c.pad.bottom - effH) / strideHeight) + 1;
    outWidth = Math.floor((inWidth + c.pad.left + c.pad.right - effW) / strideWidth) + 1;
    padTop = c.pad.top;
    padLeft = c.pad.left;
  }
  return {
    batch,
    inHeight,
    inWidth,
    inChannels,
    outHeight,
    outWidth,
    outChannels,
    filterHeight,
    filterWidth,
    strideHeight,
    strideWidth,
    padTop,
    padLeft,
    dilationHeight,
    dilationWidth,
  };
}

const inSize = (g: ConvGeometry): number => g.batch * g.inHeight * g.inWidth * g.inChannels;
const outSize = (g: ConvGeometry): number => g.batch * g.outHeight * g.outWidth * g.outChannels;
const filterSize = (g: ConvGeometry): number => g.filterHeight * g.filterWidth * g.inChannels * g.outChannels;

/**
 * Visits every (output pixel, filter tap) pair whose input pixel is inside the image, with the
 * offsets of the input pixel's channels, the output pixel's channels and the tap's (Ci x Co) block.
 */
function forEachTap(g: ConvGeometry, visit: (xOffset: number, yOffset: number, wOffset: number) => void): void {
  for (let b = 0; b < g.batch; b++) {
    for (let oh = 0; oh < g.outHeight; oh++) {
      for (let ow = 0; ow < g.outWidth; ow++) {
        const yOffset = ((b * g.outHeight + oh) * g.outWidth + ow) * g.outChannels;
        for (let i = 0; i < g.filterHeight; i++) {
          const ih = oh * g.strideHeight - g.padTop + i * g.dilationHeight;
          if (ih < 0 || ih >= g.inHeight) continue;
          for (let j = 0; j < g.filterWidth; j++) {
            const iw = ow * g.strideWidth - g.padLeft + j * g.dilationWidth;
            if (iw < 0 || iw >= g.inWidth) continue;
            visit(((b * g.inHeight + ih) * g.inWidth + iw) * g.inChannels, yOffset, (i * g.filterWidth + j) * g.inChannels * g.outChannels);
          }
        }
      }
    }
  }
}

function refConv2d(g: ConvGeometry, x: Float32Array, w: Float32Array): Float64Array {
  const out = new Float64Array(outSize(g));
  const co = g.outChannels;
  forEachTap(g, (xo, yo, wo) => {
    for (let c = 0; c < g.inChannels; c++) {
      const xv = x[xo + c];
      const wr = wo + c * co;
      for (let k = 0; k < co; k++) out[yo + k] += xv * w[wr + k];
    }
  });
  return out;
}

function refBackpropInput(g: ConvGeometry, dy: Float32Array, w: Float32Array): Float64Array {
  const dx = new Float64Array(inSize(g));
  const co = g.outChannels;
  forEachTap(g, (xo, yo, wo) => {
    for (let c = 0; c < g.inChannels; c++) {
      const wr = wo + c * co;
      let s = 0;
      for (let k = 0; k < co; k++) s += dy[yo + k] * w[wr + k];
      dx[xo + c] += s;
    }
  });
  return dx;
}

function refBackpropFilter(g: ConvGeometry, x: Float32Array, dy: Float32Array): Float64Array {
  const dw = new Float64Array(filterSize(g));
  const co = g.outChannels;
  forEachTap(g, (xo, yo, wo) => {
    for (let c = 0; c < g.inChannels; c++) {
      const xv = x[xo + c];
      const wr = wo + c * co;
      for (let k = 0; k < co; k++) dw[wr + k] += xv * dy[yo + k];
    }
  });
  return dw;
}

function activate(v: number, activation: keyof typeof ACTIVATION, alpha: number): number {
  if (activation === 'relu') return Math.max(v, 0);
  if (activation === 'leakyrelu') return v > 0 ? v : alpha * v;
  return v;
}

const CONV_CASES: ConvCase[] = [
  { label: '3x3 same stride 1', x: [2, 9, 7, 3], filter: [3, 3, 3, 5], pad: 'same' },
  { label: '4x4 same stride 2 (extra pad bottom / right)', x: [2, 9, 7, 3], filter: [4, 4, 3, 5], stride: 2, pad: 'same' },
  { label: '3x8 valid stride 1', x: [2, 11, 8, 4], filter: [3, 8, 4, 6], pad: 'valid' },
  { label: '3x3 valid stride 2, odd sizes, batch 1', x: [1, 13, 11, 3], filter: [3, 3, 3, 2], stride: 2, pad: 'valid' },
  { label: 'mixed strides', x: [2, 9, 10, 3], filter: [2, 3, 3, 4], stride: [2, 1], pad: 'same' },
  { label: 'dilation 2, same', x: [2, 12, 11, 3], filter: [3, 3, 3, 4], dilation: 2, pad: 'same' },
  { label: 'dilations [2, 1], valid', x: [1, 10, 9, 2], filter: [2, 3, 2, 3], dilation: [2, 1], pad: 'valid' },
  { label: 'explicit asymmetric pads', x: [2, 8, 7, 3], filter: [3, 3, 3, 4], pad: { top: 2, bottom: 0, left: 0, right: 1 } },
  { label: 'conv1d k4 s2 as conv2d', x: [3, 1, 13, 5], filter: [1, 4, 5, 7], stride: 2, pad: 'same' },
  { label: 'conv1d k3 s1 as conv2d, batch 1', x: [1, 1, 17, 6], filter: [1, 3, 6, 4], pad: 'same' },
  { label: '1x1 pointwise, valid', x: [2, 5, 6, 7], filter: [1, 1, 7, 9], pad: 'valid' },
  { label: '1x1 pointwise, same, batch 1', x: [1, 4, 3, 5], filter: [1, 1, 5, 3], pad: 'same' },
  { label: '1x1 stride 2 (not pointwise)', x: [2, 7, 6, 4], filter: [1, 1, 4, 5], stride: 2, pad: 'same' },
  { label: 'single input channel, batch 1', x: [1, 15, 12, 1], filter: [3, 3, 1, 4], pad: 'same' },
  { label: 'odd sizes, Co = 37 (wider than a register tile)', x: [1, 9, 11, 5], filter: [3, 2, 5, 37], pad: 'same' },
  { label: 'depth 360 > KC', x: [1, 6, 5, 40], filter: [3, 3, 40, 10], pad: 'same' },
  // depth 144: a 3632-row im2col chunk. 2 * 64 * 60 = 7680 rows: each of two threads (and, for the
  // input gradient, each image) spans two chunks.
  { label: 'large, several im2col chunks per thread', x: [2, 64, 60, 16], filter: [3, 3, 16, 8], pad: 'same' },
  { label: 'large, stride 2, several chunks', x: [2, 128, 120, 16], filter: [3, 3, 16, 8], stride: 2, pad: 'same' },
];

interface ConvData {
  g: ConvGeometry;
  geometry: Int32Array;
  x: Float32Array;
  w: Float32Array;
  dy: Float32Array;
  conv?: Float64Array;
  dx?: Float64Array;
  dw?: Float64Array;
}

const convData = new Map<string, ConvData>();

/** Inputs and (lazily) the references of a case, shared by every instruction set and thread count. */
function dataFor(c: ConvCase): ConvData {
  let d = convData.get(c.label);
  if (!d) {
    const g = geometryOf(c);
    d = { g, geometry: convGeometry(g), x: values(inSize(g), 1), w: values(filterSize(g), 2), dy: values(outSize(g), 3) };
    convData.set(c.label, d);
  }
  return d;
}

// ---------------------------------------------------------------------------------------------

describe('loadNative', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
    vi.resetModules();
  });

  it.each(['0', 'off', 'false', ' OFF '])('is disabled by S2G_NATIVE=%j', async (flag) => {
    vi.stubEnv('S2G_NATIVE', flag);
    vi.resetModules();
    const fresh = await import('../src/index');
    expect(fresh.loadNative).not.toBe(loadNative);
    const disabled = fresh.loadNative();
    expect(disabled.kernels).toBeNull();
    expect(disabled.reason).toBe(`disabled by S2G_NATIVE=${flag}`);
  });

  it('convGeometry packs the fields in the documented order', () => {
    const g = convGeometry(geometryOf({ label: 'g', x: [2, 9, 7, 3], filter: [4, 3, 3, 5], stride: [2, 1], dilation: [1, 2], pad: 'same' }));
    expect(g).toBeInstanceOf(Int32Array);
    expect(g.length).toBe(GEOMETRY_LENGTH);
    expect(Array.from(g)).toEqual([2, 9, 7, 3, 5, 7, 5, 4, 3, 2, 1, 1, 2, 1, 2]);
  });
});

describe('native addon', () => {
  it(required ? 'loads (required: CI=true)' : 'loads when built (optional outside CI)', () => {
    if (required) expect(native, status.reason).not.toBeNull();
    if (native) expect(status.reason).toBeUndefined();
  });
});

const suiteName = native ? 'native kernels' : `native kernels (${required ? 'unavailable' : 'skipped'}: ${status.reason})`;

describe.skipIf(!native && !required)(suiteName, () => {
  afterAll(restoreDefaults);

  describe('configuration', () => {
    afterEach(() => {
      vi.unstubAllEnvs();
      vi.resetModules();
      restoreDefaults();
    });

    it('selects the best instruction set at load and reports it', () => {
      expect(ISAS).toContain('generic');
      expect(initialIsa).toBe(ISAS[0]);
      for (const isa of ISAS) {
        expect(kernels().setIsa(isa)).toBe(true);
        expect(kernels().info().isa).toBe(isa);
      }
    });

    it('refuses an unknown instruction set and keeps the current one', () => {
      const before = kernels().info().isa;
      expect(kernels().setIsa('sse9' as NativeIsa)).toBe(false);
      expect(kernels().info().isa).toBe(before);
    });

    it('setThreads resizes the pool', () => {
      for (const n of [1, 3, 2]) {
        kernels().setThreads(n);
        expect(kernels().info().threads).toBe(n);
      }
    });

    it('loadNative applies its options, S2G_NATIVE_THREADS and S2G_NATIVE_ISA', async () => {
      expect(loadNative({ threads: 1, isa: 'generic' }).kernels?.info()).toEqual({ isa: 'generic', threads: 1 });
      expect(() => loadNative({ isa: 'sse9' as NativeIsa })).toThrow(RangeError);
      vi.stubEnv('S2G_NATIVE_THREADS', '3');
      vi.stubEnv('S2G_NATIVE_ISA', 'generic');
      vi.resetModules();
      const fresh = await import('../src/index');
      expect(fresh.loadNative().kernels?.info()).toEqual({ isa: 'generic', threads: 3 });
      vi.stubEnv('S2G_NATIVE_THREADS', '0');
      expect(() => fresh.loadNative()).toThrow(/S2G_NATIVE_THREADS/);
      vi.stubEnv('S2G_NATIVE_THREADS', '');
      vi.stubEnv('S2G_NATIVE_ISA', 'sse9');
      expect(() => fresh.loadNative()).toThrow(/'sse9' is not available/);
    });
  });

  describe('argument checks', () => {
    const g = geometryOf({ label: 'args', x: [1, 4, 4, 2], filter: [3, 3, 2, 3], pad: 'same' });
    const geometry = convGeometry(g);
    const x = values(inSize(g), 1);
    const w = values(filterSize(g), 2);
    const out = new Float32Array(outSize(g));

    it('conv2d names the bad argument', () => {
      const k = kernels();
      expectArgsError(() => k.conv2d(Float64Array.from(x) as unknown as Float32Array, w, null, out, geometry, 0, 0), /^x must be a Float32Array$/);
      expectArgsError(() => k.conv2d(x, Array.from(w) as unknown as Float32Array, null, out, geometry, 0, 0), /^filter must be a Float32Array$/);
      expectArgsError(() => k.conv2d(x, w, null, new Float32Array(out.length - 1), geometry, 0, 0), /^out has 47 values, needs 48$/);
      expectArgsError(() => k.conv2d(x.subarray(1), w, null, out, geometry, 0, 0), /^x has 31 values, needs 32$/);
      expectArgsError(() => k.conv2d(x, w.subarray(2), null, out, geometry, 0, 0), /^filter has/);
      expectArgsError(() => k.conv2d(x, w, new Float32Array(2), out, geometry, 0, 0), /^bias must hold 1 or outC values$/);
      expectArgsError(() => k.conv2d(x, w, new Int32Array(3) as unknown as Float32Array, out, geometry, 0, 0), /^bias must be a Float32Array$/);
      expectArgsError(() => k.conv2d(x, w, null, out, geometry.subarray(1), 0, 0), /^geometry must be an Int32Array of 15$/);
      expectArgsError(() => k.conv2d(x, w, null, out, Float32Array.from(geometry) as unknown as Int32Array, 0, 0), /^geometry must be an Int32Array of 15$/);
      expectArgsError(() => k.conv2d(x, w, null, out, Int32Array.from(geometry, (v, i) => (i === 11 ? -1 : v)), 0, 0), /^geometry values must not be negative$/);
      expectArgsError(() => (k.conv2d as unknown as (...a: unknown[]) => void)(x, w, null, out), /^expected 7 arguments$/);
    });

    it('the gradients name the bad argument', () => {
      const k = kernels();
      const dy = values(outSize(g), 3);
      expectArgsError(() => k.conv2dBackpropInput(dy, w, new Float32Array(inSize(g) - 1), geometry), /^dx has 31 values, needs 32$/);
      expectArgsError(() => k.conv2dBackpropInput(dy.subarray(1), w, new Float32Array(inSize(g)), geometry), /^dy has 47 values, needs 48$/);
      expectArgsError(() => k.conv2dBackpropInput(dy, w, new Float32Array(inSize(g)), new Int32Array(GEOMETRY_LENGTH + 1)), /^geometry must be an Int32Array of 15$/);
      expectArgsError(() => k.conv2dBackpropFilter(x, dy, new Float32Array(filterSize(g) - 1), geometry), /^dw has 53 values, needs 54$/);
      expectArgsError(() => k.conv2dBackpropFilter(new Uint8Array(32) as unknown as Float32Array, dy, new Float32Array(filterSize(g)), geometry), /^x must be a Float32Array$/);
      expectArgsError(() => k.conv2dBackpropFilter(x, null as unknown as Float32Array, new Float32Array(filterSize(g)), geometry), /^dy must be a Float32Array$/);
    });

    it('matmul, channelSum and setThreads name the bad argument', () => {
      const k = kernels();
      const dims = (batch: number, m: number, n: number, kk: number, sa = m * kk, sb = kk * n): Int32Array => Int32Array.from([batch, m, n, kk, 0, 0, sa, sb]);
      expectArgsError(() => k.matmul(new Float32Array(6), new Float32Array(12), new Float32Array(7), dims(1, 2, 4, 3)), /^out has 7 values, needs 8$/);
      expectArgsError(() => k.matmul(new Float32Array(5), new Float32Array(12), new Float32Array(8), dims(1, 2, 4, 3)), /^a has 5 values, needs 6$/);
      // Two matrices of b: stride 12, so 24 values.
      expectArgsError(() => k.matmul(new Float32Array(12), new Float32Array(23), new Float32Array(16), dims(2, 2, 4, 3)), /^b has 23 values, needs 24$/);
      expectArgsError(() => k.matmul(new Float32Array(6), new Float32Array(12), new Float32Array(8), dims(1, 2, 4, 3).subarray(1)), /^dims must be an Int32Array of 8$/);
      expectArgsError(() => k.matmul([] as unknown as Float32Array, new Float32Array(12), new Float32Array(8), dims(1, 2, 4, 3)), /^a must be a Float32Array$/);
      expectArgsError(() => k.matmul(new Float32Array(6), new Float32Array(12), new Float32Array(8), dims(1, -2, 4, 3)), /^dims must not be negative$/);
      expectArgsError(() => k.channelSum(new Float32Array(7), new Float32Array(3)), /^x\.length must be a multiple of out\.length$/);
      expectArgsError(() => k.channelSum(new Float32Array(6), new Float32Array(0)), /^x\.length must be a multiple of out\.length$/);
      expectArgsError(() => k.channelSum(new Float64Array(6) as unknown as Float32Array, new Float32Array(3)), /^x must be a Float32Array$/);
      expectArgsError(() => k.setThreads(0), /^threads must be between 1 and 256$/);
      expectArgsError(() => k.setThreads(257), /^threads must be between 1 and 256$/);
      expectArgsError(() => k.setThreads('two' as unknown as number), /^threads must be a number$/);
      expectArgsError(() => k.setThreads(1.5), /^threads must be between 1 and 256$/);
      // A refused setThreads keeps the pool it had.
      expect(k.info().threads).toBe(availableParallelism());
    });
  });

  for (const isa of ISAS) {
    for (const threads of THREADS) {
      describe(`${isa}, ${threads} thread${threads > 1 ? 's' : ''}`, () => {
        beforeAll(() => {
          expect(kernels().setIsa(isa)).toBe(true);
          kernels().setThreads(threads);
          expect(kernels().info()).toEqual({ isa, threads });
        });

        for (const { label, mnk } of MATMUL_SIZES) {
          it(`matmul ${mnk.join(' x ')} (${label}), every transpose`, () => {
            for (const [ta, tb] of TRANSPOSES) {
              const [m, n, k] = mnk;
              const c: MatmulCase = { batch: 1, m, n, k, ta, tb, sa: m * k, sb: k * n };
              const { a, b } = matmulInputs(c);
              const err = relErr(runMatmul(c, a, b), refMatmul(c, a, b));
              expect(err, `transposeA ${ta}, transposeB ${tb}`).toBeLessThanOrEqual(TOL);
            }
          });
        }

        for (const { label, batch, mnk, stride } of BATCHED) {
          it(`batched matmul ${batch} x ${mnk.join(' x ')} (${label}), every transpose`, () => {
            for (const [ta, tb] of TRANSPOSES) {
              const [m, n, k] = mnk;
              const [sa, sb] = stride(m, n, k);
              const c: MatmulCase = { batch, m, n, k, ta, tb, sa, sb };
              const { a, b } = matmulInputs(c);
              const err = relErr(runMatmul(c, a, b), refMatmul(c, a, b));
              expect(err, `transposeA ${ta}, transposeB ${tb}`).toBeLessThanOrEqual(TOL);
            }
          });
        }

        for (const c of CONV_CASES) {
          it(`conv2d: ${c.label}`, () => {
            const d = dataFor(c);
            d.conv ??= refConv2d(d.g, d.x, d.w);
            const out = filled(outSize(d.g));
            kernels().conv2d(d.x, d.w, null, out, d.geometry, ACTIVATION.linear, 0);
            expect(relErr(out, d.conv)).toBeLessThanOrEqual(TOL);
          });

          it(`conv2dBackpropInput: ${c.label}`, () => {
            const d = dataFor(c);
            d.dx ??= refBackpropInput(d.g, d.dy, d.w);
            const dx = filled(inSize(d.g));
            kernels().conv2dBackpropInput(d.dy, d.w, dx, d.geometry);
            expect(relErr(dx, d.dx)).toBeLessThanOrEqual(TOL);
          });

          it(`conv2dBackpropFilter: ${c.label}`, () => {
            const d = dataFor(c);
            d.dw ??= refBackpropFilter(d.g, d.x, d.dy);
            const dw = filled(filterSize(d.g));
            kernels().conv2dBackpropFilter(d.x, d.dy, dw, d.geometry);
            expect(relErr(dw, d.dw)).toBeLessThanOrEqual(TOL);
          });
        }

        const EPILOGUES: { label: string; bias: 'channel' | 'scalar' | null; activation: keyof typeof ACTIVATION; alpha: number }[] = [
          { label: 'per-channel bias', bias: 'channel', activation: 'linear', alpha: 0 },
          { label: 'scalar bias', bias: 'scalar', activation: 'linear', alpha: 0 },
          { label: 'relu', bias: null, activation: 'relu', alpha: 0 },
          { label: 'per-channel bias, relu', bias: 'channel', activation: 'relu', alpha: 0 },
          { label: 'leaky relu 0.2', bias: null, activation: 'leakyrelu', alpha: 0.2 },
          { label: 'scalar bias, leaky relu 0.2', bias: 'scalar', activation: 'leakyrelu', alpha: 0.2 },
          { label: 'per-channel bias, leaky relu 0.2', bias: 'channel', activation: 'leakyrelu', alpha: 0.2 },
        ];
        for (const c of [CONV_CASES[0], CONV_CASES[10], CONV_CASES[16]]) {
          it(`conv2d bias and activations: ${c.label}`, () => {
            const d = dataFor(c);
            d.conv ??= refConv2d(d.g, d.x, d.w);
            const co = d.g.outChannels;
            for (const e of EPILOGUES) {
              const bias = e.bias === 'channel' ? values(co, 4) : e.bias === 'scalar' ? Float32Array.of(0.375) : null;
              const conv = d.conv;
              const ref = conv.map((v, i) => activate(v + (bias ? bias[bias.length === 1 ? 0 : i % co] : 0), e.activation, e.alpha));
              const out = filled(outSize(d.g));
              kernels().conv2d(d.x, d.w, bias, out, d.geometry, ACTIVATION[e.activation], e.alpha);
              expect(relErr(out, ref), e.label).toBeLessThanOrEqual(TOL);
              if (e.activation === 'relu') expect(out.every((v) => v >= 0)).toBe(true);
            }
          });
        }

        it('channelSum matches a float64 sum', () => {
          for (const [rows, cols] of [
            [1000, 7],
            [3, 1],
            [5000, 33],
            [1, 5],
            [10000, 3],
          ]) {
            const x = values(rows * cols, rows + cols);
            const ref = new Float64Array(cols);
            for (let i = 0; i < x.length; i++) ref[i % cols] += x[i];
            const out = filled(cols);
            kernels().channelSum(x, out);
            expect(relErr(out, ref), `${rows} x ${cols}`).toBeLessThanOrEqual(1e-6);
          }
          // 2^24 + 4096 ones - 2^24: a float32 running sum loses every one; float64 keeps them.
          const x = new Float32Array(4098 * 2);
          x[0] = 2 ** 24;
          x[1] = -(2 ** 24);
          for (let i = 1; i < 4097; i++) x[2 * i] = x[2 * i + 1] = 1;
          x[2 * 4097] = -(2 ** 24);
          x[2 * 4097 + 1] = 2 ** 24;
          const out = filled(2);
          kernels().channelSum(x, out);
          expect(Array.from(out)).toEqual([4096, 4096]);
          // No rows: zeros.
          const empty = filled(4);
          kernels().channelSum(new Float32Array(0), empty);
          expect(Array.from(empty)).toEqual([0, 0, 0, 0]);
        });

        // A 1x1, stride-1 filter with zero top / left pads but explicit bottom / right pads has a larger
        // output than input: it must not take the "x is already im2col" path (which once read past x
        // and wrote past dx). The inputs are views with slack behind them, so an out-of-bounds access
        // would stay inside this test's own buffers and show up in the checks.
        it('1x1 filter with explicit bottom / right pads (pointwise path)', () => {
          const c: ConvCase = { label: '1x1 explicit pads', x: [2, 3, 4, 3], filter: [1, 1, 3, 2], pad: { top: 0, bottom: 2, left: 0, right: 1 } };
          const g = geometryOf(c);
          const geometry = convGeometry(g);
          const slack = 4 * outSize(g) + 4 * inSize(g);
          const view = (data: Float32Array): Float32Array => {
            const buffer = filled(data.length + slack, 7);
            buffer.set(data);
            return buffer.subarray(0, data.length);
          };
          const x = view(values(inSize(g), 1));
          const w = values(filterSize(g), 2);
          const dy = view(values(outSize(g), 3));
          const out = filled(outSize(g));
          kernels().conv2d(x, w, null, out, geometry, ACTIVATION.linear, 0);
          const dxBuffer = filled(inSize(g) + slack, 7);
          const dx = dxBuffer.subarray(0, inSize(g));
          kernels().conv2dBackpropInput(dy, w, dx, geometry);
          const dw = filled(filterSize(g));
          kernels().conv2dBackpropFilter(x, dy, dw, geometry);
          expect(relErr(out, refConv2d(g, x, w))).toBeLessThanOrEqual(TOL);
          expect(relErr(dx, refBackpropInput(g, dy, w))).toBeLessThanOrEqual(TOL);
          expect(dxBuffer.subarray(inSize(g)).every((v) => v === 7)).toBe(true);
          expect(relErr(dw, refBackpropFilter(g, x, dy))).toBeLessThanOrEqual(TOL);
        });
      });
    }
  }

  it('handles empty shapes', () => {
    const k = kernels();
    // M = 0 / N = 0: nothing to write.
    k.matmul(new Float32Array(0), new Float32Array(12), new Float32Array(0), Int32Array.from([1, 0, 4, 3, 0, 0, 0, 12]));
    k.matmul(new Float32Array(6), new Float32Array(0), new Float32Array(0), Int32Array.from([1, 2, 0, 3, 0, 0, 6, 0]));
    const g = geometryOf({ label: 'empty', x: [0, 5, 5, 2], filter: [3, 3, 2, 3], pad: 'same' });
    const out = filled(0);
    k.conv2d(new Float32Array(0), values(filterSize(g), 1), null, out, convGeometry(g), 0, 0);
    k.conv2dBackpropInput(new Float32Array(0), values(filterSize(g), 1), new Float32Array(0), convGeometry(g));
  });

  // With no output rows (batch 0) dw must be zeros, not whatever the (wasm heap) buffer held.
  it('conv2dBackpropFilter with batch 0 gives zeros', () => {
    const g = geometryOf({ label: 'empty', x: [0, 5, 5, 2], filter: [3, 3, 2, 3], pad: 'same' });
    const dw = filled(filterSize(g));
    kernels().conv2dBackpropFilter(new Float32Array(0), new Float32Array(0), dw, convGeometry(g));
    expect(dw.every((v) => v === 0)).toBe(true);
  });
});
