import * as tf from '@tensorflow/tfjs';
import { expect } from 'vitest';

/** What the kernel parity tests share: the convolution cases, seeded inputs and the error measure. */

export interface ConvCase {
  label: string;
  x: [number, number, number, number];
  filter: [number, number, number, number];
  stride: number | [number, number];
  pad: 'same' | 'valid';
  dilation?: number;
}

/** Same and valid padding, strides 1, 2 and mixed, conv1d as conv2d, odd sizes, batch 1, one input channel. */
export const CONV_CASES: readonly ConvCase[] = [
  { label: '3x3 same stride 1', x: [2, 9, 7, 3], filter: [3, 3, 3, 5], stride: 1, pad: 'same' },
  { label: '4x4 same stride 2 (extra pad right/bottom)', x: [2, 9, 7, 3], filter: [4, 4, 3, 5], stride: 2, pad: 'same' },
  { label: '4x4 same stride 2, even sizes', x: [3, 10, 8, 4], filter: [4, 4, 4, 6], stride: 2, pad: 'same' },
  { label: '3x8 valid stride 1 (the frequency collapse)', x: [2, 11, 8, 4], filter: [3, 8, 4, 6], stride: 1, pad: 'valid' },
  { label: '3x3 valid stride 2, odd sizes', x: [1, 13, 11, 3], filter: [3, 3, 3, 2], stride: 2, pad: 'valid' },
  { label: 'conv1d k4 s2 as conv2d', x: [3, 1, 13, 5], filter: [1, 4, 5, 7], stride: 2, pad: 'same' },
  { label: 'conv1d k3 s1 as conv2d, batch 1', x: [1, 1, 17, 6], filter: [1, 3, 6, 4], stride: 1, pad: 'same' },
  { label: 'conv1d k1 (output layer)', x: [2, 1, 8, 5], filter: [1, 1, 5, 9], stride: 1, pad: 'same' },
  { label: 'single input channel (the first layer), batch 1', x: [1, 15, 12, 1], filter: [3, 3, 1, 4], stride: 1, pad: 'same' },
  { label: 'mixed strides', x: [2, 9, 10, 3], filter: [2, 3, 3, 4], stride: [2, 1], pad: 'same' },
];

export function convOutputShape(c: ConvCase): number[] {
  return tf.tidy(() => tf.conv2d(tf.zeros(c.x) as tf.Tensor4D, tf.zeros(c.filter) as tf.Tensor4D, c.stride, c.pad, 'NHWC', c.dilation ?? 1).shape);
}

/** Seeded values in [-1, 1) + offset, for a shape or a length. */
export function values(shape: readonly number[] | number, seed: number, offset = 0): Float32Array {
  let s = seed;
  const out = new Float32Array(typeof shape === 'number' ? shape : shape.reduce((a, b) => a * b, 1));
  for (let i = 0; i < out.length; i++) {
    s = (s * 1103515245 + 12345) % 2147483648;
    out[i] = s / 1073741824 - 1 + offset;
  }
  return out;
}

/** max |a - b| / max |b| (absolute when b is all zeros; Infinity for any NaN). */
export function relErr(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    diff = Number.isNaN(d) ? Infinity : Math.max(diff, d);
    scale = Math.max(scale, Math.abs(b[i]));
  }
  return scale === 0 ? diff : diff / scale;
}
