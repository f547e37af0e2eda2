/**
 * The trainer's message protocol (browser-safe; docs/worker.md). The main thread sends requests,
 * the trainer (`serveTrainer`, usually in a Web Worker) answers each with one result or one error,
 * and sends progress events for a `train` request while it runs. Every message is plain data that
 * structured clone carries (typed arrays, no classes), so any postMessage transport works.
 */
import type { SequentialSpec } from '../model/sequential.js';
import type { AugmentOptions } from '../data/augment.js';
import type { ScheduleSpec } from '../optim/schedule.js';
import type { BackendInfo } from '../kernels/wasm/index.js';
import type { LossName } from '../losses/registry.js';

/** Tags every message of the protocol, so a worker can share its port with other traffic. */
export const TRAINER_PROTOCOL = 'stride-trainer/1';

/** The optimizer for `train`: a name of `createOptimizer` and its options (`lr`, `momentum`, ...). */
export interface OptimizerConfig {
  name: 'sgd' | 'adam' | 'adamw' | 'rmsprop';
  lr?: number;
  [option: string]: unknown;
}

/**
 * One `train` request: the same run as `fit(model, train, { epochs, batchSize, optimizer, rng:
 * new Rng(seed), augment, dropLast, schedule })` in Node, bit for bit, one batch at a time.
 */
export interface TrainOptions {
  /** Default 1. */
  epochs?: number;
  /** Default 32. */
  batchSize?: number;
  /** A new optimizer for this run. Omitted: the previous run's optimizer continues (its state kept); required for the first run. */
  optimizer?: OptimizerConfig;
  /** Seed of the shuffling (and augmentation) generator, `new Rng(seed)`; default 0. */
  seed?: number;
  /**
   * The shuffling (and augmentation) generator's state instead of `new Rng(seed)`: four unsigned
   * 32-bit words as `Rng.getState()` gives them. `stride train --seed N` shuffles with the second
   * `fork()` of `new Rng(N)`; this state reproduces that run's batches in a page.
   */
  rngState?: number[];
  /** A learning-rate schedule over epochs (`createSchedule`), evaluated at the 0-based epoch as `fit` does. */
  schedule?: ScheduleSpec;
  augment?: Omit<AugmentOptions, 'rng'>;
  dropLast?: boolean;
  /** Train on the first `limit` training samples only. */
  limit?: number;
  /** Evaluate the test split after every epoch (reported in the epoch event). Default false. */
  validate?: boolean;
  /** Start paused: nothing runs until `step` or `resume`. Default false. */
  startPaused?: boolean;
  /**
   * The loss by name: 'cross-entropy' (softmax cross-entropy on the logits, the default) or 'mse'
   * (mean squared error of the outputs against the one-hot labels). `validate` uses it too.
   */
  loss?: LossName;
}

/** Where `activations` and `predict` take their images from. */
export type ImageInput =
  /** `count` images, NHWC, `count * H * W * C` values: Uint8Array pixels (divided by 255) or Float32Array values as the model takes them. */
  | { pixels: Uint8Array | Float32Array; count?: number }
  /** A sample of the loaded data, normalised as training sees it. */
  | { split: 'train' | 'test'; index: number };

export type TrainerRequest =
  /** Builds a fresh model from its Sequential spec (`model.toSpec()`, the `stride.architecture` of a model file). */
  | { type: 'build'; spec: SequentialSpec; seed?: number }
  /** Replaces the model by a model file's (the bytes `saveModel` / `serializeModel` write). */
  | { type: 'loadModel'; bytes: Uint8Array }
  /** The model as a model file (the same bytes `saveModel` writes). */
  | { type: 'saveModel' }
  /** Loads a compact dataset file (`stride pack-data`), from bytes or fetched from a URL. */
  | { type: 'loadData'; bytes?: Uint8Array | ArrayBuffer; url?: string }
  | { type: 'train'; options: TrainOptions }
  | { type: 'pause' }
  | { type: 'resume' }
  | { type: 'stop' }
  /** While paused: run exactly one batch; answers with that batch's progress. */
  | { type: 'step' }
  /** Sets the learning rate of the current optimizer (from the next batch on). */
  | { type: 'setLearningRate'; lr: number }
  /** `loss` as in `TrainOptions` (default 'cross-entropy'). */
  | { type: 'evaluate'; split?: 'train' | 'test'; limit?: number; batchSize?: number; loss?: LossName }
  | { type: 'predict'; input: ImageInput }
  /** The output of every layer for one image (feature maps), in inference mode. */
  | { type: 'activations'; input: ImageInput }
  /** Every parameter and buffer of the model (conv filters HWIO, dense weights [in, out], ...). */
  | { type: 'parameters' }
  /** Samples of the loaded data, normalised as training sees them, with their labels (for showing them). */
  | { type: 'samples'; split?: 'train' | 'test'; indices: number[] }
  | { type: 'info' };

export type RequestType = TrainerRequest['type'];

/** After every optimizer step of a `train` request (and as the answer to `step`). */
export interface BatchProgress {
  /** 1 for the first epoch of this run. */
  epoch: number;
  epochs: number;
  /** 0-based batch within the epoch, and the epoch's batch count. */
  batch: number;
  batches: number;
  size: number;
  loss: number;
  accuracy: number;
  /** Running means over the epoch so far. */
  epochLoss: number;
  epochAccuracy: number;
  /** Optimizer steps taken since this model was built or loaded. */
  step: number;
  lr: number | null;
  /** Training images per second of wall-clock time over this run so far (time paused not counted). */
  imagesPerSecond: number;
  /** Milliseconds of this batch's trainStep. */
  batchMs: number;
}

/** After every epoch of a `train` request. */
export interface EpochProgress {
  epoch: number;
  epochs: number;
  loss: number;
  accuracy: number;
  samples: number;
  seconds: number;
  lr: number | null;
  /** With `validate`: the test split's loss and accuracy. */
  valLoss?: number;
  valAccuracy?: number;
}

export interface TrainResult {
  stopReason: 'completed' | 'stopped';
  /** Epochs finished (a stopped epoch does not count). */
  epochsDone: number;
  batches: number;
  history: EpochProgress[];
  /** Training images per second of wall-clock time, time paused not counted. */
  imagesPerSecond: number;
  /** Milliseconds spent in batch preparation and trainStep (the rest is yielding and messages). */
  trainStepMs: number;
}

export interface ModelInfo {
  inputShape: number[];
  outputShape: number[];
  /** Each layer's output shape, without the batch dimension. */
  shapes: number[][];
  layers: { index: number; type: string; description: string; params: number; flops: number }[];
  params: number;
  flops: number;
  summary: string;
}

export interface DataInfo {
  train: number;
  test: number;
  height: number;
  width: number;
  channels: number;
  classNames: string[];
}

export interface NamedArray {
  name: string;
  shape: number[];
  data: Float32Array;
}

export interface LayerActivation {
  index: number;
  type: string;
  shape: number[];
  data: Float32Array;
}

export interface PredictResult {
  /** `[N, K]`, row-major. */
  logits: Float32Array;
  probabilities: Float32Array;
  /** The arg max of each row. */
  predictions: Int32Array;
  shape: [number, number];
}

export interface EvaluateResult {
  loss: number;
  accuracy: number;
  count: number;
  /** Row-major [K, K]: `confusion[t * K + p]` counts true class t predicted as p. */
  confusion: Int32Array;
  predictions: Int32Array;
}

export interface SamplesResult {
  /** `[N, H, W, C]` values, NHWC, as `Dataset.image` gives them. */
  images: Float32Array;
  /** The class of each sample. */
  labels: Int32Array;
  shape: [number, number, number, number];
}

export interface InfoResult {
  /** `backendInfo()` in the trainer's thread: the backend, the wasm build, the threads really working and, when fewer than asked or not wasm, the reason. */
  backend: BackendInfo;
  model: ModelInfo | null;
  data: DataInfo | null;
  state: 'idle' | 'training' | 'paused';
}

/** The answer type of each request. */
export interface ResultOf {
  build: ModelInfo;
  loadModel: ModelInfo;
  saveModel: Uint8Array;
  loadData: DataInfo;
  train: TrainResult;
  pause: { paused: true };
  resume: { paused: false };
  stop: { stopping: boolean };
  step: BatchProgress;
  setLearningRate: { lr: number };
  evaluate: EvaluateResult;
  predict: PredictResult;
  activations: { input: LayerActivation; layers: LayerActivation[] };
  parameters: { params: NamedArray[]; buffers: NamedArray[] };
  samples: SamplesResult;
  info: InfoResult;
}

/** main → trainer. */
export interface RequestMessage {
  protocol: typeof TRAINER_PROTOCOL;
  id: number;
  request: TrainerRequest;
}

/** trainer → main. */
export type ResponseMessage =
  | { protocol: typeof TRAINER_PROTOCOL; id: number; kind: 'result'; result: unknown }
  | { protocol: typeof TRAINER_PROTOCOL; id: number; kind: 'error'; error: { name: string; message: string } }
  | { protocol: typeof TRAINER_PROTOCOL; id: number; kind: 'batch'; progress: BatchProgress }
  | { protocol: typeof TRAINER_PROTOCOL; id: number; kind: 'epoch'; progress: EpochProgress };

/**
 * Either side of the channel: a Worker, a worker's `self`, a MessagePort (browser or Node's
 * worker_threads), ... Anything with `postMessage(message, transfer)` and an `onmessage` property
 * that is called with `{ data }`; `TrainerClient` also takes Node's worker_threads `Worker` (an
 * EventEmitter). Typed loosely on purpose: the DOM, webworker and Node typings of these differ.
 */
export interface Endpoint {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  postMessage(message: any, transfer?: any): void;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  onmessage?: any;
}
