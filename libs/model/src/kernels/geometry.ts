import * as tf from '@tensorflow/tfjs';
import type { ConvGeometry } from '@s2g/native';

/** A convolution's geometry as this project's kernels use it: tfjs' own arithmetic, NHWC. */
export interface ConvShapeInfo extends ConvGeometry {
  padBottom: number;
  padRight: number;
  outShape: [number, number, number, number];
}

export interface ConvAttrs {
  strides: number | [number, number];
  pad: tf.backend_util.ExplicitPadding | 'valid' | 'same' | number;
  dilations?: number | [number, number];
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
}

export function convShapeInfo(xShape: readonly number[], filterShape: readonly number[], attrs: ConvAttrs): ConvShapeInfo {
  const info = tf.backend_util.computeConv2DInfo(
    xShape as [number, number, number, number],
    filterShape as [number, number, number, number],
    attrs.strides,
    attrs.dilations ?? 1,
    attrs.pad,
    attrs.dimRoundingMode,
    false,
    'channelsLast',
  );
  return {
    batch: info.batchSize,
    inHeight: info.inHeight,
    inWidth: info.inWidth,
    inChannels: info.inChannels,
    outHeight: info.outHeight,
    outWidth: info.outWidth,
    outChannels: info.outChannels,
    filterHeight: info.filterHeight,
    filterWidth: info.filterWidth,
    strideHeight: info.strideHeight,
    strideWidth: info.strideWidth,
    padTop: info.padInfo.top,
    padBottom: info.padInfo.bottom,
    padLeft: info.padInfo.left,
    padRight: info.padInfo.right,
    dilationHeight: info.dilationHeight,
    dilationWidth: info.dilationWidth,
    outShape: info.outShape,
  };
}
