/**
 * ConvNetJS's side of W3 and W4: its layer definitions and its SGD Trainer (method 'sgd',
 * momentum 0, no weight decay, batch_size = the batch: it accumulates gradients image by image and
 * updates once per batch with their mean). Its 'softmax' layer adds the final fully connected
 * layer itself, and its fc layers flatten their input, so 'flatten' needs no layer.
 */
import { INPUT_SHAPE, MODELS, NUM_CLASSES, samePadding, type LayerDesc, type ModelName } from '../shapes.js';
import { loadConvNetJS, volFrom, withSeededMathRandom, type ConvNetJS } from '../peers/convnetjs.js';
import type { Trainer, TrainerFactory, TrainerOptions } from './trainer.js';

/** ConvNetJS layer definitions of a model (relu as the activation of the layer before it). */
export function convnetjsDefs(layers: readonly LayerDesc[]): object[] {
  const [h, w, c] = INPUT_SHAPE;
  const defs: object[] = [{ type: 'input', out_sx: w, out_sy: h, out_depth: c }];
  let sh = h;
  let sw = w;
  for (let i = 0; i < layers.length; i++) {
    const l = layers[i];
    const act = layers[i + 1]?.kind === 'relu' ? { activation: 'relu' } : {};
    const last = i === layers.length - 1;
    switch (l.kind) {
      case 'conv': {
        const ph = samePadding(sh, l.k, 1);
        const pw = samePadding(sw, l.k, 1);
        if (ph.before !== ph.after || pw.before !== pw.after || ph.before !== pw.before) {
          throw new Error(`ConvNetJS: 'same' padding of a ${l.k}x${l.k} kernel is not symmetric`);
        }
        defs.push({ type: 'conv', sx: l.k, filters: l.filters, stride: 1, pad: ph.before, ...act });
        break;
      }
      case 'maxpool':
        defs.push({ type: 'pool', sx: l.k, stride: l.k });
        sh = Math.floor((sh - l.k) / l.k) + 1;
        sw = Math.floor((sw - l.k) / l.k) + 1;
        break;
      case 'dense':
        if (last) {
          if (l.units !== NUM_CLASSES) throw new Error(`ConvNetJS: the last dense layer must have ${NUM_CLASSES} units`);
          defs.push({ type: 'softmax', num_classes: NUM_CLASSES });
        } else {
          defs.push({ type: 'fc', num_neurons: l.units, ...act });
        }
        break;
      case 'flatten':
      case 'relu':
        break;
    }
  }
  return defs;
}

export function createConvNetJSTrainer(cnn: ConvNetJS, model: ModelName, opts: TrainerOptions): Trainer {
  const net = withSeededMathRandom(opts.seed, () => {
    const n = new cnn.Net();
    n.makeLayers(convnetjsDefs(MODELS[model]));
    return n;
  });
  const trainer = new cnn.Trainer(net, { method: 'sgd', learning_rate: opts.lr, momentum: 0, l1_decay: 0, l2_decay: 0, batch_size: 64 });
  const [h, w, c] = INPUT_SHAPE;
  return {
    impl: 'ConvNetJS',
    activate: async () => undefined,
    step: async (images, labels, b) => {
      trainer.batch_size = b;
      let loss = 0;
      for (let i = 0; i < b; i++) loss += trainer.train(volFrom(cnn, images, i, h, w, c), labels[i]).cost_loss;
      return loss / b;
    },
    predict: (images, b) => {
      const out = new Int32Array(b);
      for (let i = 0; i < b; i++) {
        net.forward(volFrom(cnn, images, i, h, w, c), false);
        out[i] = net.getPrediction();
      }
      return out;
    },
    infer: (images, b) => {
      for (let i = 0; i < b; i++) net.forward(volFrom(cnn, images, i, h, w, c), false);
    },
    dispose: () => undefined,
  };
}

export const createTrainer: TrainerFactory = async (model, opts) => {
  const { env, error } = loadConvNetJS();
  if (env === null) throw new Error(error);
  return createConvNetJSTrainer(env.cnn, model, opts);
};
