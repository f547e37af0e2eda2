/**
 * TensorFlow.js's side of W3 and W4: tf.sequential with tf.layers, SGD, softmax cross-entropy on
 * logits, trained with model.trainOnBatch. A ReLU that follows a conv or dense layer is given to
 * that layer as its activation (tfjs then runs its fused conv/matmul kernels): the idiomatic way,
 * and tfjs's best case. Each layer's Glorot-uniform initialiser is seeded.
 */
import { INPUT_SHAPE, MODELS, NUM_CLASSES, type LayerDesc, type ModelName } from '../shapes.js';
import { loadTfjs, type Tf } from '../peers/tfjs.js';
import { argmax, type Trainer, type TrainerFactory, type TrainerOptions } from './trainer.js';

type TfLayer = Parameters<ReturnType<Tf['sequential']>['add']>[0];

function buildModel(tf: Tf, layers: readonly LayerDesc[], seed: number): ReturnType<Tf['sequential']> {
  const model = tf.sequential();
  let first = true;
  const input = (): { inputShape?: number[] } => {
    if (!first) return {};
    first = false;
    return { inputShape: [...INPUT_SHAPE] };
  };
  for (let i = 0; i < layers.length; i++) {
    const l = layers[i];
    const fuseRelu = layers[i + 1]?.kind === 'relu' && (l.kind === 'conv' || l.kind === 'dense');
    const init = tf.initializers.glorotUniform({ seed: seed + i });
    let layer: TfLayer;
    switch (l.kind) {
      case 'conv':
        layer = tf.layers.conv2d({ ...input(), filters: l.filters, kernelSize: l.k, padding: l.padding, activation: fuseRelu ? 'relu' : 'linear', kernelInitializer: init });
        break;
      case 'dense':
        layer = tf.layers.dense({ ...input(), units: l.units, activation: fuseRelu ? 'relu' : 'linear', kernelInitializer: init });
        break;
      case 'maxpool':
        layer = tf.layers.maxPooling2d({ ...input(), poolSize: l.k, strides: l.k, padding: 'valid' });
        break;
      case 'flatten':
        layer = tf.layers.flatten(input());
        break;
      case 'relu':
        if (i > 0 && (layers[i - 1].kind === 'conv' || layers[i - 1].kind === 'dense')) continue; // fused above
        layer = tf.layers.reLU(input());
        break;
    }
    model.add(layer);
  }
  return model;
}

/** A tfjs trainer on an already loaded tfjs (W4 builds one per backend in the same process). */
export async function createTfjsTrainer(tf: Tf, model: ModelName, opts: TrainerOptions): Promise<Trainer> {
  if (!(await tf.setBackend(opts.backend))) throw new Error(`tfjs: backend '${opts.backend}' is not available`);
  const net = buildModel(tf, MODELS[model], opts.seed);
  net.compile({
    optimizer: tf.train.sgd(opts.lr),
    loss: (yTrue, yPred) => tf.losses.softmaxCrossEntropy(yTrue, yPred),
  });
  const per = INPUT_SHAPE[0] * INPUT_SHAPE[1] * INPUT_SHAPE[2];
  const input = (images: Float32Array, b: number) => tf.tensor4d(images.subarray(0, b * per), [b, ...INPUT_SHAPE]);
  return {
    impl: `tfjs-${opts.backend}`,
    activate: async () => {
      await tf.setBackend(opts.backend);
    },
    step: async (images, labels, b) => {
      const xs = input(images, b);
      const ys = tf.tidy(() => tf.oneHot(tf.tensor1d(labels.subarray(0, b), 'int32'), NUM_CLASSES));
      try {
        const r = await net.trainOnBatch(xs, ys);
        return Array.isArray(r) ? r[0] : r;
      } finally {
        tf.dispose([xs, ys]);
      }
    },
    predict: (images, b) => {
      const logits = tf.tidy(() => net.predict(input(images, b)) as import('@tensorflow/tfjs').Tensor);
      const v = logits.dataSync();
      logits.dispose();
      const out = new Int32Array(b);
      for (let i = 0; i < b; i++) out[i] = argmax(v, i * NUM_CLASSES, NUM_CLASSES);
      return out;
    },
    infer: (images, b) => {
      tf.tidy(() => {
        (net.predict(input(images, b)) as import('@tensorflow/tfjs').Tensor).dataSync();
      });
    },
    dispose: () => net.dispose(),
  };
}

/** For the W3 child process: loads tfjs (the wasm backend only when asked for) and builds the trainer. */
export const createTrainer: TrainerFactory = async (model, opts) => {
  const { env, error } = await loadTfjs(opts.threads, opts.backend === 'wasm');
  if (env === null) throw new Error(error);
  if (opts.backend === 'wasm' && !env.wasm.ok) throw new Error(`tfjs-wasm did not initialise: ${env.wasm.error}`);
  return createTfjsTrainer(env.tf, model, opts);
};
