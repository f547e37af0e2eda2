/** Stride: convolutional neural networks in TypeScript. Public API: re-exports only. */
export { Tensor, shapeSize, type Shape, type NestedArray } from './tensor/tensor.js';
export { Rng } from './tensor/random.js';
export { setStoragePoolLimit, storagePoolStats, resetStoragePool } from './tensor/storage.js';
export {
  Dataset,
  type DatasetInit,
  type Batch,
  type BatchOptions,
  type SplitOptions,
  type Normalization,
  type ImageStorage,
  type LabelStorage,
} from './data/dataset.js';
export { drawTransform, type AugmentOptions, type SampleTransform } from './data/augment.js';
export { randomAffine, type AffineOptions } from './data/affine.js';
export { parseIdx, parseIdxImages, parseIdxLabels, checkIdxPair, type IdxArray, type IdxImages, type IdxLabels } from './data/idx.js';
// Compact dataset files for web pages (issue 7; docs/worker.md): `stride pack-data` writes them.
export {
  encodeCompactDataset,
  decodeCompactDataset,
  readCompactDataset,
  loadCompactDataset,
  isGzip,
  CompactDatasetError,
  COMPACT_MAGIC,
  COMPACT_VERSION,
  type CompactDataset,
  type CompactDatasetInput,
  type LoadCompactOptions,
} from './data/compact.js';
export type { Padding, ConvWindowOptions, PoolWindowOptions, Conv2DInfo, DepthwiseConv2DInfo, Pool2DInfo } from './kernels/conv-info.js';
export { computeConv2DInfo, computeDepthwiseConv2DInfo, computePool2DInfo, conv2dFlops, depthwiseConv2dFlops } from './kernels/conv-info.js';
export type { Kernels } from './kernels/api.js';
export { reference } from './kernels/reference/index.js';
export { registerBackend, setBackend, getBackend, getKernels, listBackends } from './kernels/backend.js';
// WebAssembly SIMD kernels (issue #3): importing registers 'wasm' and makes it the default when SIMD is available;
// nothing is compiled or started until the first op, ready() or setThreads() (issue #7).
export { wasm, ready, setThreads, getThreads, backendInfo, setFallbackWarnings, threadWork, type BackendInfo } from './kernels/wasm/index.js';
export { setConvAlgorithm, getConvAlgorithm, type ConvAlgorithm } from './kernels/wasm/winograd.js';
export {
  conv2d,
  conv2dBackward,
  conv2dBackwardInput,
  conv2dBackwardFilter,
  depthwiseConv2d,
  depthwiseConv2dBackward,
  maxPool2d,
  maxPool2dBackward,
  avgPool2d,
  avgPool2dBackward,
  dense,
  denseBackward,
  relu,
  reluBackward,
  leakyRelu,
  leakyReluBackward,
  sigmoid,
  sigmoidBackward,
  tanh,
  tanhBackward,
} from './kernels/ops.js';
export { globalAvgPool2d, globalAvgPool2dBackward, depthwiseConv2dBackwardFilter, batchNormStats, batchNorm, batchNormBackward, dropout } from './kernels/ops.js';
// Fused layer pairs (issue 11): Conv2D or Dense followed by ReLU in one call; Sequential uses them.
export { conv2dRelu, conv2dReluBackward, denseRelu, denseReluBackward, maxPool2dRelu, maxPool2dReluBackward } from './kernels/ops.js';
export { softmax, softmaxBackward } from './losses/softmax.js';
export { softmaxCrossEntropy, type LossResult } from './losses/softmax-cross-entropy.js';
export { meanSquaredError } from './losses/mse.js';
// The loss contract (issue 10): trainStep, fit and evaluation take `{ loss }`, cross-entropy by default.
export { crossEntropyLoss, mseLoss, checkLoss, computeLoss, type Loss, type LabelLoss, type TensorLoss, type LossTargets } from './losses/loss.js';
// Classification metrics, one implementation for training, evaluation, the worker and the CLI.
// Losses by name (the worker trainer's `loss`): 'cross-entropy' and 'mse' on one-hot labels.
export { oneHotMeanSquaredError, oneHotMseLoss, labelLossByName, LABEL_LOSSES, type LossName } from './losses/registry.js';
export { argmax, accuracy, countMatches, confusionMatrix, classificationMetrics, type ClassMetrics } from './metrics.js';
export {
  gradcheck,
  gradcheckOp,
  gradcheckLayer,
  type GradcheckOptions,
  type GradcheckTarget,
  type GradcheckElement,
  type GradcheckTensorReport,
  type GradcheckReport,
  type GradcheckLayerOptions,
  type GradcheckLayerReport,
} from './gradcheck.js';
export { edges, edgeKernels, edgeFilterBank, type EdgeOperator, type EdgeOptions, type EdgeResult } from './edges.js';
export { Param, type Layer, type LayerSpec } from './layers/layer.js';
export { Conv2D, type Conv2DOptions } from './layers/conv2d.js';
export { DepthwiseConv2D, type DepthwiseConv2DOptions } from './layers/depthwise-conv2d.js';
export { Dense, type DenseOptions } from './layers/dense.js';
export { MaxPool2D, AvgPool2D, GlobalAvgPool2D, Flatten, type PoolOptions } from './layers/pooling.js';
export { ReLU, LeakyReLU, Sigmoid, Tanh, Softmax } from './layers/activations.js';
export { Dropout } from './layers/dropout.js';
export { BatchNorm, type BatchNormOptions } from './layers/batch-norm.js';
export { type Init, initWeights } from './layers/init.js';
export { layerFromSpec, layerTypes, isLayerType, builtinLayerType, LAYER_CLASSES, type LayerType, type LayerOf } from './layers/registry.js';
export { Sequential, countCorrect, type SequentialOptions, type SequentialSpec, type StepOptimizer, type StepResult, type TrainStepOptions, type EvaluateOptions } from './model/sequential.js';
// Model files (safetensors), checkpoints and ONNX export (issue #4 items 5-7; docs/model-format.md).
export { serializeModel, deserializeModel, readModel, modelTensors, MODEL_FORMAT, type LoadOptions, type SaveOptions, type ReadModel } from './model/serialize.js';
export { encodeSafetensors, decodeSafetensors, ModelFormatError, type NamedTensor, type DecodedSafetensors } from './model/safetensors.js';
export { MODEL_FORMAT_VERSION } from './model/stride-file.js';
export { crc32 } from './model/crc32.js';
export {
  encodeCheckpoint,
  decodeCheckpoint,
  CHECKPOINT_FORMAT,
  type Checkpoint,
  type CheckpointInput,
  type CheckpointFiles,
  type CheckpointOptimizer,
  type Json,
} from './model/checkpoint.js';
export { exportOnnx, ONNX_OPSETS, type OnnxExportOptions } from './onnx/export.js';
// Visualization (issue #4): training curves as SVG, filters and feature maps as raw pixels.
export { trainingCurvesSvg, niceTicks, batchEpoch, escapeXml, type TrainingCurveEpoch, type BatchRecord, type TrainingCurvesOptions, type Ticks } from './viz/plot.js';
export {
  filterGrid,
  featureMapGrid,
  featureMaps,
  toRgba,
  defaultColumns,
  type PixelGrid,
  type GridLayoutOptions,
  type FilterGridOptions,
  type FeatureMapGridOptions,
  type LayerOutput,
} from './viz/image-grid.js';
export { divergingColor, viridisColor, type Rgb } from './viz/colormap.js';
// Optimizers and learning-rate schedules.
export {
  Optimizer,
  type BaseHyper,
  type HyperValue,
  type OptimizerSpec,
  type OptimizerStateDict,
  type OptimizerStateDictInput,
} from './optim/optimizer.js';
export { SGD, type SGDOptions, type SGDHyper } from './optim/sgd.js';
export { Adam, type AdamOptions, type AdamHyper } from './optim/adam.js';
export { AdamW, type AdamWOptions } from './optim/adamw.js';
export { RMSProp, type RMSPropOptions, type RMSPropHyper } from './optim/rmsprop.js';
export { createOptimizer, optimizerFromSpec, optimizerNames, type OptimizerName } from './optim/registry.js';
export { createSchedule, scheduleKinds, type Schedule, type ScheduleSpec, type ScheduleKind } from './optim/schedule.js';
// Training loop, evaluation and model presets.
export { evaluateDataset, type Evaluation, type TensorEvaluation, type EvaluateDatasetOptions, type TensorEvaluateDatasetOptions } from './model/evaluate.js';
export {
  fit,
  earlyStoppingState,
  type FitOptions,
  type FitOptimizer,
  type FitResult,
  type EpochMetrics,
  type BatchInfo,
  type EpochInfo,
  type EarlyStoppingOptions,
  type Monitor,
  type TensorFitOptions,
  type TensorFitResult,
  type TensorEpochMetrics,
  type TensorBatchInfo,
  type TensorEpochInfo,
} from './model/fit.js';
export { createPreset, presetNames, presetDescriptions, isPreset, type PresetOptions } from './model/presets.js';
