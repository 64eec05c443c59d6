import * as tf from '@tensorflow/tfjs';
import type { GemmBackendName, Host } from './host';
import { type ConvAttrs, type ConvShapeInfo, convShapeInfo } from './geometry';
import { hostFor } from './host';

export type { GemmBackendName } from './host';

/**
 * Convolution gradients as GEMMs on a backend's own BatchMatMul kernel, plus im2col / col2im loops in
 * JS over the backend's memory (the wasm heap, or the cpu backend's typed arrays).
 *
 * - wasm has no Conv2DBackpropFilter at all, and its Conv2DBackpropInput is a naive loop about ten
 *   times slower than the forward convolution. Only wasm's plain (non-transposed) matmul takes
 *   XNNPACK's fast path, so every product is arranged as A (M, K) @ B (K, N), with any transpose
 *   done in JS on the smaller operand.
 * - cpu's Conv2DBackpropFilter reads every element through TensorBuffer.get: it took about 85% of a
 *   training step there; the GEMM version is much faster.
 * With stride 1 the input gradient is a forward convolution instead (see backpropInputByForwardConv).
 */

/** Upper bound on the elements of one im2col buffer, to keep memory flat for large activations. */
const CHUNK_ELEMENTS = 1 << 22;

type Geometry = ConvShapeInfo;

function geometry(
  xShape: [number, number, number, number],
  filterShape: [number, number, number, number],
  strides: number | [number, number],
  pad: ConvAttrs['pad'],
  dimRoundingMode: ConvAttrs['dimRoundingMode'],
  dataFormat: 'NHWC' | 'NCHW',
): Geometry {
  if (dataFormat !== 'NHWC') throw new Error(`conv gradient on wasm supports NHWC only, got ${dataFormat}`);
  return convShapeInfo(xShape, filterShape, { strides, pad, ...(dimRoundingMode ? { dimRoundingMode } : {}) });
}

/**
 * dst (cols, rows) = src (rows, cols) starting at srcOffset. Blocked over rows so both sides stay in
 * cache: about five times faster than either plain loop order for activation-sized matrices.
 */
function transpose(src: Float32Array, srcOffset: number, rows: number, cols: number, dst: Float32Array): void {
  const block = 64;
  for (let r0 = 0; r0 < rows; r0 += block) {
    const r1 = Math.min(rows, r0 + block);
    for (let c = 0; c < cols; c++) {
      const d = c * rows;
      for (let r = r0, s = srcOffset + r0 * cols + c; r < r1; r++, s += cols) dst[d + r] = src[s];
    }
  }
}

/** Rows (b, oh, ow) per chunk for im2col buffers of `rowLength` elements each. */
function chunkRows(total: number, rowLength: number): number {
  return Math.max(1, Math.min(total, Math.floor(CHUNK_ELEMENTS / rowLength)));
}

/**
 * Walks the filter taps of output rows [n0, n0 + rows): calls `visit(row, colOffset, xOffset)` for
 * each tap inside the input, `skip(row, colOffset)` for each tap in the padding.
 */
function forEachTap(
  g: Geometry,
  n0: number,
  rows: number,
  visit: (colOffset: number, xOffset: number) => void,
  skip: (colOffset: number) => void,
): void {
  const { inHeight, inWidth, inChannels: ci, outHeight, outWidth, filterHeight, filterWidth } = g;
  const rowLength = filterHeight * filterWidth * ci;
  for (let r = 0; r < rows; r++) {
    const n = n0 + r;
    const ow = n % outWidth;
    const oh = Math.floor(n / outWidth) % outHeight;
    const b = Math.floor(n / (outWidth * outHeight));
    const ih0 = oh * g.strideHeight - g.padTop;
    const iw0 = ow * g.strideWidth - g.padLeft;
    let col = r * rowLength;
    for (let i = 0; i < filterHeight; i++) {
      const ih = ih0 + i;
      const rowInside = ih >= 0 && ih < inHeight;
      for (let j = 0; j < filterWidth; j++, col += ci) {
        const iw = iw0 + j;
        if (rowInside && iw >= 0 && iw < inWidth) visit(col, ((b * inHeight + ih) * inWidth + iw) * ci);
        else skip(col);
      }
    }
  }
}

interface BackpropFilterArgs {
  inputs: { x: tf.TensorInfo; dy: tf.TensorInfo };
  backend: unknown;
  attrs: tf.Conv2DBackpropFilterAttrs;
}

/** dW (kh, kw, Ci, Co) = sum over rows of im2col(x)^T dy, computed as dy^T (Co, N) @ cols (N, K). */
export function conv2dBackpropFilterGemm(name: GemmBackendName, { inputs, backend, attrs }: BackpropFilterArgs): tf.TensorInfo {
  const host = hostFor(backend, name);
  const { x, dy } = inputs;
  const g = geometry(
    x.shape as [number, number, number, number],
    attrs.filterShape,
    attrs.strides,
    attrs.pad,
    attrs.dimRoundingMode,
    attrs.dataFormat,
  );
  const ci = g.inChannels;
  const co = g.outChannels;
  const k = g.filterHeight * g.filterWidth * ci;
  const total = g.batch * g.outHeight * g.outWidth;
  const rows = chunkRows(total, k);
  const acc = new Float32Array(co * k);
  for (let n0 = 0; n0 < total; n0 += rows) {
    const nc = Math.min(rows, total - n0);
    const dyT = host.alloc([co, nc]);
    const cols = host.alloc([nc, k]);
    const xv = host.view(x);
    const dyv = host.view(dy);
    const dyTv = host.view(dyT);
    const colsv = host.view(cols);
    transpose(dyv, n0 * co, nc, co, dyTv);
    forEachTap(
      g,
      n0,
      nc,
      (col, xo) => {
        for (let c = 0; c < ci; c++) colsv[col + c] = xv[xo + c];
      },
      (col) => colsv.fill(0, col, col + ci),
    );
    const product = host.matMul(dyT, cols);
    const pv = host.view(product);
    for (let i = 0; i < acc.length; i++) acc[i] += pv[i];
    host.free(product);
    host.free(cols);
    host.free(dyT);
  }
  const out = host.alloc([...attrs.filterShape]);
  const ov = host.view(out);
  // acc is (Co, K); the filter is (K, Co) with K = (kh, kw, Ci) row-major.
  transpose(acc, 0, co, k, ov);
  return out;
}

/**
 * For stride 1, dx is the forward convolution of dy with the filter rotated by 180 degrees and its
 * channel axes swapped, padded by (k - 1 - pad) on each side: it runs on the backend's own (on wasm:
 * XNNPACK) Conv2D, about as fast as the forward pass. Null when that kernel or padding is unavailable.
 */
function backpropInputByForwardConv(
  host: Host,
  name: GemmBackendName,
  backend: unknown,
  dy: tf.TensorInfo,
  filter: tf.TensorInfo,
  g: Geometry,
): tf.TensorInfo | null {
  const conv = tf.getKernel('Conv2D', name);
  const { filterHeight: kh, filterWidth: kw, inChannels: ci, outChannels: co } = g;
  const pad: [number, number][] = [
    [0, 0],
    [kh - 1 - g.padTop, kh - 1 - g.padBottom],
    [kw - 1 - g.padLeft, kw - 1 - g.padRight],
    [0, 0],
  ];
  if (!conv || pad.some(([a, b]) => a < 0 || b < 0)) return null;
  const rotated = host.alloc([kh, kw, co, ci]);
  const fv = host.view(filter);
  const rv = host.view(rotated);
  for (let i = 0; i < kh; i++) {
    for (let j = 0; j < kw; j++) {
      const src = ((kh - 1 - i) * kw + (kw - 1 - j)) * ci * co;
      const dst = (i * kw + j) * co * ci;
      // Per tap: (Ci, Co) -> (Co, Ci).
      transpose(fv, src, ci, co, rv.subarray(dst, dst + co * ci));
    }
  }
  const out = conv.kernelFunc({
    inputs: { x: dy, filter: rotated },
    backend: backend as tf.KernelBackend,
    attrs: { strides: [1, 1], pad, dataFormat: 'NHWC', dilations: [1, 1] } as unknown as tf.NamedAttrMap,
  }) as tf.TensorInfo;
  host.free(rotated);
  return out;
}

interface BackpropInputArgs {
  inputs: { dy: tf.TensorInfo; filter: tf.TensorInfo };
  backend: unknown;
  attrs: tf.Conv2DBackpropInputAttrs;
}

/** dx = col2im(dy (N, Co) @ W^T (Co, K)). */
export function conv2dBackpropInputGemm(name: GemmBackendName, { inputs, backend, attrs }: BackpropInputArgs): tf.TensorInfo {
  const host = hostFor(backend, name);
  const { dy, filter } = inputs;
  const filterShape = filter.shape as [number, number, number, number];
  const g = geometry(attrs.inputShape, filterShape, attrs.strides, attrs.pad, attrs.dimRoundingMode, attrs.dataFormat);
  if (g.strideHeight === 1 && g.strideWidth === 1) {
    const viaForward = backpropInputByForwardConv(host, name, backend, dy, filter, g);
    if (viaForward) return viaForward;
  }
  const ci = g.inChannels;
  const co = g.outChannels;
  const k = g.filterHeight * g.filterWidth * ci;
  const total = g.batch * g.outHeight * g.outWidth;
  const rows = chunkRows(total, k);

  const wT = host.alloc([co, k]);
  {
    const fv = host.view(filter);
    const wv = host.view(wT);
    transpose(fv, 0, k, co, wv);
  }
  const dx = host.alloc([...attrs.inputShape]);
  host.view(dx).fill(0);
  for (let n0 = 0; n0 < total; n0 += rows) {
    const nc = Math.min(rows, total - n0);
    const dyChunk = host.alloc([nc, co]);
    host.view(dyChunk).set(host.view(dy).subarray(n0 * co, (n0 + nc) * co));
    const dcols = host.matMul(dyChunk, wT);
    const dxv = host.view(dx);
    const dv = host.view(dcols);
    forEachTap(
      g,
      n0,
      nc,
      (col, xo) => {
        for (let c = 0; c < ci; c++) dxv[xo + c] += dv[col + c];
      },
      () => undefined,
    );
    host.free(dcols);
    host.free(dyChunk);
  }
  host.free(wT);
  return dx;
}
