/**
 * The trainer side of the protocol (browser-safe): holds one model and one dataset and answers
 * the requests of `TrainerClient` (protocol.ts; docs/worker.md). In a Web Worker:
 *
 * ```ts
 * import { serveTrainer } from 'stride-cnn/worker';
 * serveTrainer(self);
 * ```
 *
 * Training runs one batch per macrotask: after every optimizer step the loop yields to the event
 * loop, so `pause`, `stop`, `step` and read-only requests (`evaluate`, `predict`, `activations`,
 * `parameters`, `saveModel`) are answered between batches, never in the middle of a step. The
 * random draws are exactly those of `fit` (one `rng.permutation` per epoch from `new Rng(seed)`,
 * augmentation from the same generator, dropout from the model's own generator), so a run gives
 * the same weights as `fit` or a plain `trainStep` loop in Node, bit for bit.
 */
import { Tensor } from '../tensor/tensor.js';
import { Rng } from '../tensor/random.js';
import type { Dataset } from '../data/dataset.js';
import { readCompactDataset, loadCompactDataset, type CompactDataset } from '../data/compact.js';
import { Sequential, disposeAllBut, type SequentialSpec } from '../model/sequential.js';
import { readModel, serializeModel } from '../model/serialize.js';
import { evaluateDataset } from '../model/evaluate.js';
import { argmax } from '../metrics.js';
import { createOptimizer } from '../optim/registry.js';
import type { Optimizer } from '../optim/optimizer.js';
import { createSchedule } from '../optim/schedule.js';
import { softmax } from '../losses/softmax.js';
import { labelLossByName } from '../losses/registry.js';
import { ready } from '../kernels/wasm/index.js';
import {
  TRAINER_PROTOCOL,
  type BatchProgress,
  type DataInfo,
  type Endpoint,
  type EpochProgress,
  type ImageInput,
  type LayerActivation,
  type ModelInfo,
  type NamedArray,
  type RequestMessage,
  type ResponseMessage,
  type ResultOf,
  type TrainOptions,
  type TrainResult,
  type TrainerRequest,
} from './protocol.js';

/** A handler's answer: the result and the buffers to transfer with it. */
type Answer = { result: unknown; transfer?: Transferable[] };

const now = (): number => (typeof performance !== 'undefined' ? performance.now() : Date.now());

/**
 * Lets the event loop run (messages are delivered) and comes back as soon as possible: a
 * macrotask, but not `setTimeout`, which browsers clamp to 4 ms when nested.
 */
function yieldToEvents(): Promise<void> {
  const g = globalThis as { setImmediate?: (f: () => void) => unknown };
  if (typeof g.setImmediate === 'function') return new Promise((resolve) => g.setImmediate!(resolve));
  if (yieldChannel === null) {
    yieldChannel = new MessageChannel();
    yieldChannel.port1.onmessage = () => yieldWaiters.shift()?.();
  }
  const channel = yieldChannel;
  return new Promise((resolve) => {
    yieldWaiters.push(resolve);
    channel.port2.postMessage(null);
  });
}

let yieldChannel: MessageChannel | null = null;
const yieldWaiters: (() => void)[] = [];

interface Run {
  id: number;
  paused: boolean;
  stopRequested: boolean;
  /** Batches `step` has allowed while paused, and the requests waiting for them. */
  stepWaiters: number[];
  wake: (() => void) | null;
}

/** The trainer's state. Exported for tests; use `serveTrainer`. */
export class Trainer {
  private model: Sequential | null = null;
  private data: CompactDataset | null = null;
  private optimizer: Optimizer | null = null;
  private steps = 0;
  private run: Run | null = null;
  private started: Promise<unknown> | null = null;

  constructor(private readonly send: (message: ResponseMessage, transfer?: Transferable[]) => void) {}

  /** Answers one message; never throws (errors go back to the caller as error responses). */
  async handle(message: unknown): Promise<void> {
    const m = message as RequestMessage | null;
    if (m === null || typeof m !== 'object' || m.protocol !== TRAINER_PROTOCOL) return; // not ours
    const id = m.id;
    try {
      // The wasm runtime (and its threads) start here, not at import.
      // The runtime and its threads start with the first request, not at import. A fallback (no
      // SIMD, CSP) leaves the reference kernels; ready() reports it rather than rejecting, and info shows it.
      await (this.started ??= ready().catch(() => null));
      const request = m.request;
      if (request === null || typeof request !== 'object') throw new Error(`trainer: request must be an object, got ${String(request)}`);
      const answer = await this.dispatch(id, request);
      this.send({ protocol: TRAINER_PROTOCOL, id, kind: 'result', result: answer.result }, answer.transfer);
    } catch (e) {
      const err = e instanceof Error ? e : new Error(String(e));
      this.send({ protocol: TRAINER_PROTOCOL, id, kind: 'error', error: { name: err.name, message: err.message } });
    }
  }

  private async dispatch(id: number, r: TrainerRequest): Promise<Answer> {
    switch (r.type) {
      case 'build':
        this.idle('build');
        return { result: this.setModel(Sequential.fromSpec(checkSpec(r.spec), r.seed ?? 0)) };
      case 'loadModel': {
        this.idle('loadModel');
        if (!(r.bytes instanceof Uint8Array)) throw new Error(`loadModel: bytes must be a Uint8Array (a model file), got ${describe(r.bytes)}`);
        return { result: this.setModel(readModel(r.bytes, {}, 'loadModel').model) };
      }
      case 'saveModel': {
        const bytes = serializeModel(this.needModel('saveModel'));
        return { result: bytes, transfer: [bytes.buffer as ArrayBuffer] };
      }
      case 'loadData': {
        this.idle('loadData');
        let data: CompactDataset;
        if (r.bytes !== undefined) {
          if (!(r.bytes instanceof Uint8Array) && !(r.bytes instanceof ArrayBuffer)) throw new Error(`loadData: bytes must be a Uint8Array or ArrayBuffer, got ${describe(r.bytes)}`);
          data = await readCompactDataset(r.bytes);
        } else if (typeof r.url === 'string') {
          data = await loadCompactDataset(r.url);
        } else {
          throw new Error('loadData: give bytes (a compact dataset file) or url');
        }
        this.data = data;
        return { result: this.dataInfo() };
      }
      case 'train':
        return { result: await this.train(id, r.options ?? {}) };
      case 'pause':
        this.needRun('pause').paused = true;
        return { result: { paused: true } satisfies ResultOf['pause'] };
      case 'resume': {
        const run = this.needRun('resume');
        run.paused = false;
        run.wake?.();
        return { result: { paused: false } satisfies ResultOf['resume'] };
      }
      case 'stop': {
        const run = this.run;
        if (run !== null) {
          run.stopRequested = true;
          run.wake?.();
        }
        return { result: { stopping: run !== null } satisfies ResultOf['stop'] };
      }
      case 'step': {
        const run = this.needRun('step');
        if (!run.paused) throw new Error('step: training is running; pause it first (step runs one batch of a paused run)');
        return new Promise<Answer>((resolve, reject) => {
          run.stepWaiters.push(id);
          this.stepAnswers.set(id, { resolve, reject });
          run.wake?.();
        });
      }
      case 'setLearningRate': {
        if (this.optimizer === null) throw new Error('setLearningRate: no optimizer yet; the first train request creates one');
        if (typeof r.lr !== 'number' || !Number.isFinite(r.lr) || r.lr < 0) throw new Error(`setLearningRate: lr must be a finite number >= 0, got ${String(r.lr)}`);
        this.optimizer.lr = r.lr;
        return { result: { lr: r.lr } };
      }
      case 'evaluate': {
        const model = this.needModel('evaluate');
        const split = this.split('evaluate', r.split ?? 'test');
        const ds = r.limit === undefined ? split : split.take(positiveInt('evaluate', 'limit', r.limit));
        const loss = labelLossByName('evaluate', r.loss);
        const e = evaluateDataset(model, ds, { batchSize: r.batchSize === undefined ? 256 : positiveInt('evaluate', 'batchSize', r.batchSize), loss });
        return { result: { loss: e.loss, accuracy: e.accuracy, count: e.count, confusion: e.confusion, predictions: e.predictions }, transfer: [e.confusion.buffer, e.predictions.buffer] };
      }
      case 'predict': {
        const model = this.needModel('predict');
        const x = this.images('predict', r.input);
        const logits = model.predict(x);
        const probs = softmax(logits);
        const [n, k] = [logits.shape[0], logits.size / logits.shape[0]];
        const predictions = argmax(logits);
        const result = { logits: logits.data.slice(), probabilities: probs.data.slice(), predictions, shape: [n, k] };
        logits.dispose();
        probs.dispose();
        return { result, transfer: [result.logits.buffer, result.probabilities.buffer, predictions.buffer] };
      }
      case 'activations': {
        const model = this.needModel('activations');
        const x = this.images('activations', r.input);
        if (x.shape[0] !== 1) throw new Error(`activations: expected one image, got ${x.shape[0]}`);
        const made: Tensor[] = [];
        model.forward(x, false, made);
        const layers: LayerActivation[] = made.map((t, i) => ({ index: i, type: model.layers[i].type, shape: [...t.shape], data: t.data.slice() }));
        const input: LayerActivation = { index: -1, type: 'Input', shape: [...x.shape], data: x.data.slice() };
        disposeAllBut(made, x);
        return { result: { input, layers }, transfer: [input.data.buffer, ...layers.map((l) => l.data.buffer)] };
      }
      case 'parameters': {
        const model = this.needModel('parameters');
        const params: NamedArray[] = model.namedParams().map(({ name, param }) => ({ name, shape: [...param.value.shape], data: param.value.data.slice() }));
        const buffers: NamedArray[] = model.buffers().map(({ name, value }) => ({ name, shape: [...value.shape], data: value.data.slice() }));
        return { result: { params, buffers }, transfer: [...params, ...buffers].map((p) => p.data.buffer) };
      }
      case 'samples': {
        const ds = this.split('samples', r.split ?? 'test');
        if (!Array.isArray(r.indices)) throw new Error(`samples: indices must be an array of sample indices, got ${describe(r.indices)}`);
        for (const i of r.indices) {
          if (!Number.isInteger(i) || i < 0 || i >= ds.length) throw new Error(`samples: indices must hold integers in [0, ${ds.length}), got ${String(i)}`);
        }
        const per = ds.height * ds.width * ds.channels;
        const images = new Float32Array(r.indices.length * per);
        r.indices.forEach((i, k) => images.set(ds.image(i).data, k * per));
        const labels = Int32Array.from(r.indices, (i) => ds.label(i));
        const result: ResultOf['samples'] = { images, labels, shape: [r.indices.length, ds.height, ds.width, ds.channels] };
        return { result, transfer: [images.buffer, labels.buffer] };
      }
      case 'info':
        return {
          result: {
            backend: await ready(),
            model: this.model === null ? null : modelInfo(this.model),
            data: this.data === null ? null : this.dataInfo(),
            state: this.run === null ? 'idle' : this.run.paused ? 'paused' : 'training',
          },
        };
      default:
        throw new Error(`trainer: unknown request type ${JSON.stringify((r as { type?: unknown }).type)}, expected one of build, loadModel, saveModel, loadData, train, pause, resume, stop, step, setLearningRate, evaluate, predict, activations, parameters, samples, info`);
    }
  }

  private readonly stepAnswers = new Map<number, { resolve: (a: Answer) => void; reject: (e: Error) => void }>();

  /** One `train` request: the loop of `fit`, a batch per macrotask, with pause / step / stop. */
  private async train(id: number, opts: TrainOptions): Promise<TrainResult> {
    const op = 'train';
    this.idle(op);
    const model = this.needModel(op);
    if (this.data === null) throw new Error(`${op}: no data; send loadData first`);
    if (opts === null || typeof opts !== 'object') throw new Error(`${op}: options must be an object, got ${String(opts)}`);
    const epochs = opts.epochs === undefined ? 1 : positiveInt(op, 'epochs', opts.epochs);
    const batchSize = opts.batchSize === undefined ? 32 : positiveInt(op, 'batchSize', opts.batchSize);
    const loss = labelLossByName(op, opts.loss);
    let train = this.data.train;
    if (opts.limit !== undefined) train = train.take(positiveInt(op, 'limit', opts.limit));
    checkFits(op, model, train);
    if (train.length === 0) throw new Error(`${op}: the training split is empty`);
    if (opts.optimizer !== undefined) {
      const { name, ...rest } = opts.optimizer ?? ({} as never);
      this.optimizer = createOptimizer(name, rest);
    } else if (this.optimizer === null) {
      throw new Error(`${op}: options.optimizer is required for the first run, e.g. { name: 'adam', lr: 0.001 }`);
    }
    const optimizer = this.optimizer;
    const schedule = opts.schedule === undefined ? null : createSchedule(opts.schedule);
    const rng = new Rng(opts.seed ?? 0);
    if (opts.rngState !== undefined) {
      if (!Array.isArray(opts.rngState)) throw new Error(`${op}: rngState must be four unsigned 32-bit integers (Rng.getState()), got ${describe(opts.rngState)}`);
      try {
        rng.setState(opts.rngState);
      } catch (e) {
        throw new Error(`${op}: rngState: ${(e as Error).message}`, { cause: e });
      }
    }
    // No await between the idle check and claiming the run: a second train cannot slip in.
    const run: Run = { id, paused: opts.startPaused ?? false, stopRequested: false, stepWaiters: [], wake: null };
    this.run = run;
    const batches = train.numBatches(batchSize, opts.dropLast ?? false);
    const history: EpochProgress[] = [];
    let images = 0;
    let busyMs = 0;
    let pausedMs = 0;
    const runStarted = now();
    /** Images per second of wall-clock time since the run started, time paused not counted. */
    const rate = (): number => {
      const ms = now() - runStarted - pausedMs;
      return ms > 0 ? (images * 1000) / ms : 0;
    };
    let total = 0;
    let stopped = false;
    try {
      for (let e = 0; e < epochs && !stopped; e++) {
        if (schedule !== null) optimizer.lr = schedule(e);
        const lr = optimizer.lr;
        const started = now();
        let lossSum = 0;
        let correct = 0;
        let seen = 0;
        let k = 0;
        const augment = opts.augment ? { ...opts.augment, rng } : undefined;
        const it = train.batches(batchSize, { shuffle: true, rng, augment, dropLast: opts.dropLast ?? false });
        for (;;) {
          // Between batches: messages are handled here; a paused run waits for resume, step or stop.
          await yieldToEvents();
          if (run.paused && run.stepWaiters.length === 0 && !run.stopRequested) {
            const t = now();
            while (run.paused && run.stepWaiters.length === 0 && !run.stopRequested) {
              await new Promise<void>((resolve) => (run.wake = resolve));
              run.wake = null;
            }
            pausedMs += now() - t;
          }
          if (run.stopRequested) {
            stopped = true;
            break;
          }
          const t0 = now();
          const next = it.next();
          if (next.done) break;
          const { x, y } = next.value;
          const step = model.trainStep(x, y, optimizer, { loss });
          x.dispose();
          const ms = now() - t0;
          if (!Number.isFinite(step.loss)) throw new Error(`${op}: the training loss became ${step.loss} at epoch ${e + 1}, batch ${k + 1}; try a lower learning rate`);
          this.steps++;
          busyMs += ms;
          images += y.length;
          lossSum += step.loss * y.length;
          correct += step.correct;
          seen += y.length;
          total++;
          const progress: BatchProgress = {
            epoch: e + 1,
            epochs,
            batch: k,
            batches,
            size: y.length,
            loss: step.loss,
            accuracy: step.correct / y.length,
            epochLoss: lossSum / seen,
            epochAccuracy: correct / seen,
            step: this.steps,
            lr: optimizer.lr,
            imagesPerSecond: rate(),
            batchMs: ms,
          };
          k++;
          this.send({ protocol: TRAINER_PROTOCOL, id, kind: 'batch', progress });
          const waiter = run.stepWaiters.shift();
          if (waiter !== undefined) {
            this.stepAnswers.get(waiter)?.resolve({ result: progress });
            this.stepAnswers.delete(waiter);
          }
        }
        if (stopped) break;
        const record: EpochProgress = { epoch: e + 1, epochs, loss: lossSum / seen, accuracy: correct / seen, samples: seen, seconds: (now() - started) / 1000, lr };
        if (opts.validate) {
          const v = evaluateDataset(model, this.data.test, { loss });
          record.valLoss = v.loss;
          record.valAccuracy = v.accuracy;
        }
        history.push(record);
        this.send({ protocol: TRAINER_PROTOCOL, id, kind: 'epoch', progress: record });
      }
    } finally {
      this.run = null;
      for (const w of run.stepWaiters) {
        this.stepAnswers.get(w)?.reject(new Error('step: the run ended before the batch ran'));
        this.stepAnswers.delete(w);
      }
    }
    return { stopReason: stopped ? 'stopped' : 'completed', epochsDone: history.length, batches: total, history, imagesPerSecond: rate(), trainStepMs: busyMs };
  }

  private setModel(model: Sequential): ModelInfo {
    this.model = model;
    this.optimizer = null;
    this.steps = 0;
    return modelInfo(model);
  }

  private dataInfo(): DataInfo {
    const d = this.data!;
    return { train: d.train.length, test: d.test.length, height: d.height, width: d.width, channels: d.channels, classNames: [...d.classNames] };
  }

  private idle(op: string): void {
    if (this.run !== null) throw new Error(`${op}: a train request is running; stop it first`);
  }

  private needModel(op: string): Sequential {
    if (this.model === null) throw new Error(`${op}: no model; send build or loadModel first`);
    return this.model;
  }

  private needRun(op: string): Run {
    if (this.run === null) throw new Error(`${op}: no training in progress (start one with train; startPaused: true starts it paused)`);
    return this.run;
  }

  private split(op: string, name: unknown): Dataset {
    if (this.data === null) throw new Error(`${op}: no data; send loadData first`);
    if (name !== 'train' && name !== 'test') throw new Error(`${op}: split must be 'train' or 'test', got ${JSON.stringify(name)}`);
    return this.data[name];
  }

  /** The images of a predict / activations request as a float32 batch [N, H, W, C]. */
  private images(op: string, input: ImageInput): Tensor {
    const model = this.needModel(op);
    if (input === null || typeof input !== 'object') throw new Error(`${op}: input must be { pixels } or { split, index }, got ${String(input)}`);
    if ('split' in input) {
      const ds = this.split(op, input.split);
      if (!Number.isInteger(input.index) || input.index < 0 || input.index >= ds.length) {
        throw new Error(`${op}: input.index must be an integer in [0, ${ds.length}), got ${String(input.index)}`);
      }
      checkFits(op, model, ds);
      return ds.image(input.index);
    }
    const { pixels } = input;
    const per = model.inputShape.reduce((a, b) => a * b, 1);
    if (!(pixels instanceof Uint8Array) && !(pixels instanceof Float32Array)) throw new Error(`${op}: input.pixels must be a Uint8Array or Float32Array, got ${describe(pixels)}`);
    const count = input.count ?? pixels.length / per;
    if (!Number.isInteger(count) || count < 1 || count * per !== pixels.length) {
      throw new Error(`${op}: input.pixels has ${pixels.length} values, expected count * ${model.inputShape.join(' * ')} = ${input.count ?? 'n'} * ${per}`);
    }
    const data = pixels instanceof Uint8Array ? Float32Array.from(pixels, (p) => p / 255) : pixels.slice();
    return new Tensor(data, [count, ...model.inputShape]);
  }
}

/**
 * Serves the trainer protocol on an endpoint: a worker's `self`, a MessagePort, or a Node
 * worker_threads port. Returns the Trainer (for tests); the endpoint's `onmessage` is replaced.
 */
export function serveTrainer(endpoint: Endpoint): Trainer {
  if (endpoint === null || typeof endpoint !== 'object' || typeof endpoint.postMessage !== 'function') {
    throw new Error(`serveTrainer: endpoint must have postMessage (a worker's self or a MessagePort), got ${describe(endpoint)}`);
  }
  const trainer = new Trainer((message, transfer) => endpoint.postMessage(message, transfer ?? []));
  endpoint.onmessage = (event: { data: unknown }) => {
    void trainer.handle(event.data);
  };
  return trainer;
}

function modelInfo(model: Sequential): ModelInfo {
  return {
    inputShape: [...model.inputShape],
    outputShape: [...model.outputShape],
    shapes: model.shapes.map((s) => [...s]),
    layers: model.layers.map((l, i) => ({ index: i, type: l.type, description: l.toString(), params: l.params().reduce((n, p) => n + p.value.size, 0), flops: l.flops() })),
    params: model.paramCount(),
    flops: model.flops(),
    summary: model.summary(),
  };
}

function checkSpec(spec: unknown): SequentialSpec {
  if (spec === null || typeof spec !== 'object') throw new Error(`build: spec must be a Sequential spec object (model.toSpec()), got ${describe(spec)}`);
  return spec as SequentialSpec;
}

function checkFits(op: string, model: Sequential, data: Dataset): void {
  const want = model.inputShape;
  const got = data.imageShape;
  if (want.length !== 3 || want.some((d, i) => d !== got[i])) throw new Error(`${op}: the data's images are [${got.join(', ')}] but the model takes [${want.join(', ')}]`);
  const k = model.outputShape[model.outputShape.length - 1];
  if (model.outputShape.length !== 1) throw new Error(`${op}: the model must output logits [N, classes], got [N, ${model.outputShape.join(', ')}]`);
  if (data.numClasses > k) throw new Error(`${op}: the data has ${data.numClasses} classes but the model outputs ${k}`);
}

function positiveInt(op: string, name: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) throw new Error(`${op}: ${name} must be an integer >= 1, got ${String(v)}`);
  return v;
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (typeof v !== 'object') return typeof v;
  return (v as object).constructor?.name ?? 'object';
}
