/**
 * Stride's side of W3 and W4, through the public model API (Sequential, layers, SGD). Imported
 * dynamically by the runner and the W3 child, so a tree where this API does not load yet is
 * reported ("skipped: …") rather than stopping the benchmark.
 */
import { Conv2D, Dense, Flatten, MaxPool2D, ReLU, SGD, Sequential, Tensor, ready, setBackend, setThreads, type Layer } from '../../src/index.js';
import { INPUT_SHAPE, MODELS, NUM_CLASSES, type LayerDesc, type ModelName } from '../shapes.js';
import { argmax, type Trainer, type TrainerFactory } from './trainer.js';
import { strideImpl } from '../peers/stride.js';

/** A Stride layer from the bench's model description (also used by the onnxruntime-web peer). */
export function layerOf(l: LayerDesc): Layer {
  switch (l.kind) {
    case 'conv':
      return new Conv2D({ outChannels: l.filters, kernelSize: l.k, padding: l.padding });
    case 'relu':
      return new ReLU();
    case 'maxpool':
      return new MaxPool2D({ kernelSize: l.k });
    case 'flatten':
      return new Flatten();
    case 'dense':
      return new Dense({ units: l.units });
  }
}

export const createTrainer: TrainerFactory = async (model: ModelName, opts) => {
  setThreads(opts.threads);
  await ready();
  setBackend(opts.backend);
  const net = new Sequential(MODELS[model].map(layerOf), { inputShape: INPUT_SHAPE, seed: opts.seed });
  const sgd = new SGD({ lr: opts.lr });
  const per = INPUT_SHAPE[0] * INPUT_SHAPE[1] * INPUT_SHAPE[2];
  const batch = (images: Float32Array, b: number): Tensor => new Tensor(images.subarray(0, b * per), [b, ...INPUT_SHAPE]);
  const t: Trainer = {
    impl: strideImpl(opts.backend),
    activate: async () => setBackend(opts.backend),
    step: async (images, labels, b) => net.trainStep(batch(images, b), labels.subarray(0, b), sgd).loss,
    predict: (images, b) => {
      const logits = net.predict(batch(images, b), b);
      const out = new Int32Array(b);
      for (let i = 0; i < b; i++) out[i] = argmax(logits.data, i * NUM_CLASSES, NUM_CLASSES);
      logits.dispose();
      return out;
    },
    // The inference API, results read back; the logits disposed as TensorFlow.js's are (tf.tidy).
    infer: (images, b) => net.predict(batch(images, b), b).dispose(),
    dispose: () => undefined,
  };
  return t;
};
