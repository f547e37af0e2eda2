/**
 * The reference backend: readable transcriptions of the seeds' loops. The specification that every
 * fast kernel is checked against, and the fallback wherever a fast kernel is missing.
 */
import type { Kernels } from '../api.js';
import { conv2d, conv2dBackward, conv2dBackwardFilter, conv2dBackwardInput } from './conv2d.js';
import { depthwiseConv2d, depthwiseConv2dBackward, depthwiseConv2dBackwardFilter } from './depthwise-conv2d.js';
import { maxPool2d, maxPool2dBackward } from './max-pool2d.js';
import { avgPool2d, avgPool2dBackward } from './avg-pool2d.js';
import { globalAvgPool2d, globalAvgPool2dBackward } from './global-avg-pool2d.js';
import { dense, denseBackward } from './dense.js';
import * as act from './activations.js';
import { batchNorm, batchNormBackward, batchNormStats } from './batch-norm.js';
import { dropout } from './dropout.js';
import { softmax, softmaxBackward } from './softmax.js';
import { conv2dRelu, conv2dReluBackward, denseRelu, denseReluBackward, maxPool2dRelu, maxPool2dReluBackward } from './fused.js';

export const reference: Kernels = {
  name: 'reference',
  conv2d,
  conv2dBackward,
  conv2dBackwardInput,
  conv2dBackwardFilter,
  depthwiseConv2d,
  depthwiseConv2dBackward,
  depthwiseConv2dBackwardFilter,
  maxPool2d,
  maxPool2dBackward,
  avgPool2d,
  avgPool2dBackward,
  globalAvgPool2d,
  globalAvgPool2dBackward,
  batchNormStats,
  batchNorm,
  batchNormBackward,
  dropout,
  softmax,
  softmaxBackward,
  dense,
  denseBackward,
  relu: act.relu,
  reluBackward: act.reluBackward,
  leakyRelu: act.leakyRelu,
  leakyReluBackward: act.leakyReluBackward,
  sigmoid: act.sigmoid,
  sigmoidBackward: act.sigmoidBackward,
  tanh: act.tanh,
  tanhBackward: act.tanhBackward,
  conv2dRelu,
  conv2dReluBackward,
  maxPool2dRelu,
  maxPool2dReluBackward,
  denseRelu,
  denseReluBackward,
};
