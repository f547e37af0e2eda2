/**
 * `stride-cnn/worker`: train off the main thread (docs/worker.md). The trainer side,
 * `serveTrainer(self)`, goes in a Web Worker (it holds the model, the data and the kernels); the
 * main thread talks to it through `TrainerClient`, with promises and progress callbacks. The
 * messages are plain data (protocol.ts), so any postMessage transport works: a Worker, a
 * MessagePort, Node's worker_threads.
 */
export { serveTrainer, Trainer } from './server.js';
export { TrainerClient, TrainerError, type TrainCallbacks } from './client.js';
export {
  TRAINER_PROTOCOL,
  type Endpoint,
  type TrainerRequest,
  type RequestType,
  type RequestMessage,
  type ResponseMessage,
  type ResultOf,
  type TrainOptions,
  type OptimizerConfig,
  type ImageInput,
  type BatchProgress,
  type EpochProgress,
  type TrainResult,
  type ModelInfo,
  type DataInfo,
  type NamedArray,
  type LayerActivation,
  type PredictResult,
  type EvaluateResult,
  type InfoResult,
} from './protocol.js';
export type { BackendInfo } from '../kernels/wasm/index.js';
export type { LossName } from '../losses/registry.js';
