/**
 * The main-thread side of the trainer protocol (browser-safe, and light: it imports no kernels).
 * Every request returns a promise of its result; a failed request rejects with an Error carrying
 * the trainer's message. docs/worker.md has a complete example.
 *
 * ```ts
 * const trainer = new TrainerClient(new Worker(new URL('./trainer.js', import.meta.url), { type: 'module' }));
 * await trainer.build(spec);
 * await trainer.loadData({ url: './digits.bin' });
 * await trainer.train({ epochs: 1, optimizer: { name: 'adam', lr: 1e-3 } }, (p) => console.log(p.loss));
 * ```
 */
import type { SequentialSpec } from '../model/sequential.js';
import type { LossName } from '../losses/registry.js';
import {
  TRAINER_PROTOCOL,
  type BatchProgress,
  type Endpoint,
  type EpochProgress,
  type ImageInput,
  type RequestMessage,
  type ResponseMessage,
  type ResultOf,
  type TrainOptions,
  type TrainerRequest,
} from './protocol.js';

// `stride-cnn/worker/client` is this file: the client and the protocol's types, without the trainer
// (and so without the kernels) for a main thread that needs nothing else of Stride.
export * from './protocol.js';

/** A request the trainer refused or that failed there; `message` is the trainer's, `remoteName` its error class. */
export class TrainerError extends Error {
  override name = 'TrainerError';
  constructor(
    message: string,
    readonly remoteName: string,
    readonly request: string,
  ) {
    super(message);
  }
}

export interface TrainCallbacks {
  /** After every optimizer step. */
  onBatch?: (progress: BatchProgress) => void;
  /** After every epoch. */
  onEpoch?: (progress: EpochProgress) => void;
}

interface Pending {
  type: string;
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
  callbacks?: TrainCallbacks;
}

/** Typed promises over the trainer protocol. One client per endpoint (it takes over `onmessage`). */
export class TrainerClient {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private closed = false;

  constructor(private readonly endpoint: Endpoint & { terminate?: () => void; close?: () => void }) {
    if (endpoint === null || typeof endpoint !== 'object' || typeof endpoint.postMessage !== 'function') {
      throw new Error('TrainerClient: endpoint must have postMessage (a Worker or a MessagePort)');
    }
    const emitter = endpoint as { on?: (event: string, f: (value: unknown) => void) => void };
    if (!('onmessage' in endpoint) && typeof emitter.on === 'function') {
      // Node's worker_threads Worker: an EventEmitter whose 'message' listeners get the value itself.
      emitter.on('message', (value) => this.receive(value));
      emitter.on('error', (err) => this.failAll(`the trainer worker failed: ${(err as Error)?.message ?? String(err)}`));
      emitter.on('exit', (code) => this.failAll(`the trainer worker exited (code ${String(code)})`));
    } else {
      endpoint.onmessage = (event: { data: unknown }) => this.receive(event.data);
    }
    const e = endpoint as { onerror?: unknown; onmessageerror?: unknown };
    // A Worker that fails to load or throws outside a request: every waiting request fails with it.
    if ('onerror' in e) e.onerror = (ev: { message?: string }) => this.failAll(`the trainer worker failed: ${ev?.message || 'error event without a message (did the worker script load? check its URL, type: "module" and its COEP header)'}`);
    if ('onmessageerror' in e) e.onmessageerror = () => this.failAll('the trainer sent a message that could not be deserialised');
  }

  /** Sends any request; the typed methods below are shorthands. */
  request<T extends TrainerRequest['type']>(request: Extract<TrainerRequest, { type: T }>, transfer: Transferable[] = [], callbacks?: TrainCallbacks): Promise<ResultOf[T]> {
    if (this.closed) return Promise.reject(new TrainerError(`${request.type}: the trainer client is closed`, 'Error', request.type));
    const id = this.nextId++;
    return new Promise<ResultOf[T]>((resolve, reject) => {
      this.pending.set(id, { type: request.type, resolve: resolve as (v: unknown) => void, reject, callbacks });
      const message: RequestMessage = { protocol: TRAINER_PROTOCOL, id, request };
      try {
        this.endpoint.postMessage(message, transfer);
      } catch (e) {
        this.pending.delete(id);
        reject(new TrainerError(`${request.type}: cannot send the request: ${(e as Error).message}`, 'DataCloneError', request.type));
      }
    });
  }

  /** A fresh model from its spec (`model.toSpec()`), initialised from `seed` (default 0). */
  build(spec: SequentialSpec, seed?: number): Promise<ResultOf['build']> {
    return this.request({ type: 'build', spec, seed });
  }

  /** Loads a model file (what `saveModel` writes; e.g. an upload). The bytes are copied, not transferred. */
  loadModel(bytes: Uint8Array): Promise<ResultOf['loadModel']> {
    return this.request({ type: 'loadModel', bytes });
  }

  /** The model as model-file bytes, the same `saveModel` writes (a page's model loads in `stride eval`). */
  saveModel(): Promise<Uint8Array> {
    return this.request({ type: 'saveModel' });
  }

  /** A compact dataset (`stride pack-data`): `{ url }` is fetched by the trainer; `{ bytes }` is transferred. */
  loadData(source: { url: string } | { bytes: Uint8Array | ArrayBuffer }): Promise<ResultOf['loadData']> {
    if ('bytes' in source) {
      const buf = source.bytes instanceof ArrayBuffer ? source.bytes : source.bytes.buffer;
      return this.request({ type: 'loadData', bytes: source.bytes }, buf instanceof ArrayBuffer ? [buf] : []);
    }
    return this.request({ type: 'loadData', url: absolute(source.url) });
  }

  /**
   * Trains; resolves when the run completes or is stopped. `onBatch` (or `callbacks.onBatch`) is
   * called after every optimizer step, `callbacks.onEpoch` after every epoch.
   */
  train(options: TrainOptions, callbacks?: TrainCallbacks | ((progress: BatchProgress) => void)): Promise<ResultOf['train']> {
    const cb = typeof callbacks === 'function' ? { onBatch: callbacks } : callbacks;
    return this.request({ type: 'train', options }, [], cb);
  }

  pause(): Promise<ResultOf['pause']> {
    return this.request({ type: 'pause' });
  }

  resume(): Promise<ResultOf['resume']> {
    return this.request({ type: 'resume' });
  }

  /** Ends the running `train` before its next batch (its promise resolves with stopReason 'stopped'). */
  stop(): Promise<ResultOf['stop']> {
    return this.request({ type: 'stop' });
  }

  /** While paused: one batch; resolves with its progress. */
  step(): Promise<ResultOf['step']> {
    return this.request({ type: 'step' });
  }

  setLearningRate(lr: number): Promise<ResultOf['setLearningRate']> {
    return this.request({ type: 'setLearningRate', lr });
  }

  evaluate(options: { split?: 'train' | 'test'; limit?: number; batchSize?: number; loss?: LossName } = {}): Promise<ResultOf['evaluate']> {
    return this.request({ type: 'evaluate', ...options });
  }

  predict(input: ImageInput): Promise<ResultOf['predict']> {
    return this.request({ type: 'predict', input });
  }

  /** Every layer's output (feature maps) for one image. */
  activations(input: ImageInput): Promise<ResultOf['activations']> {
    return this.request({ type: 'activations', input });
  }

  /** Every parameter (conv filters HWIO, ...) and buffer, copied. */
  parameters(): Promise<ResultOf['parameters']> {
    return this.request({ type: 'parameters' });
  }

  /** Samples of the loaded data (`split` default 'test') with their labels. */
  samples(indices: number[], split: 'train' | 'test' = 'test'): Promise<ResultOf['samples']> {
    return this.request({ type: 'samples', split, indices });
  }

  /** The trainer's backend, threads, model, data and state. */
  info(): Promise<ResultOf['info']> {
    return this.request({ type: 'info' });
  }

  /** Rejects whatever is pending and ends the worker (`terminate`) or port (`close`). */
  close(): void {
    if (this.closed) return;
    this.failAll('the trainer client was closed');
    this.closed = true;
    if ('onmessage' in this.endpoint) this.endpoint.onmessage = null;
    if (typeof this.endpoint.terminate === 'function') this.endpoint.terminate();
    else if (typeof this.endpoint.close === 'function') this.endpoint.close();
  }

  private receive(data: unknown): void {
    const m = data as ResponseMessage | null;
    if (m === null || typeof m !== 'object' || m.protocol !== TRAINER_PROTOCOL) return;
    const p = this.pending.get(m.id);
    if (p === undefined) return;
    switch (m.kind) {
      case 'batch':
        p.callbacks?.onBatch?.(m.progress);
        return;
      case 'epoch':
        p.callbacks?.onEpoch?.(m.progress);
        return;
      case 'result':
        this.pending.delete(m.id);
        p.resolve(m.result);
        return;
      case 'error':
        this.pending.delete(m.id);
        p.reject(new TrainerError(m.error.message, m.error.name, p.type));
        return;
    }
  }

  private failAll(message: string): void {
    for (const [id, p] of this.pending) {
      this.pending.delete(id);
      p.reject(new TrainerError(`${p.type}: ${message}`, 'Error', p.type));
    }
  }
}

/** A relative URL resolved against the page, so the worker (whose base is its script) fetches the same file. */
function absolute(url: string): string {
  const base = (globalThis as { location?: { href?: string } }).location?.href;
  try {
    return base === undefined ? url : new URL(url, base).href;
  } catch {
    return url;
  }
}
