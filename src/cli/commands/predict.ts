/** `stride predict`: image files → the top-k classes with their probabilities. */
import { Tensor } from '../../tensor/tensor.js';
import { softmax } from '../../losses/softmax.js';
import { loadImage, type ResizeFit } from '../../node/image-folder.js';
import { selectBackend, type BackendName } from '../backend.js';
import { readModelFile } from '../models.js';
import { CliError, makeOutput, pct, table } from '../util.js';

export interface PredictOptions {
  topK: number;
  fit?: ResizeFit;
  invert?: boolean;
  json?: boolean;
  backend?: BackendName;
  threads?: number;
}

export async function predictCommand(path: string, files: string[], opts: PredictOptions): Promise<void> {
  const out = makeOutput(opts.json ?? false);
  const { model, info } = await readModelFile(path);
  const s = model.inputShape;
  if (s.length !== 3 || (s[2] !== 1 && s[2] !== 3)) throw new CliError(`model '${path}' takes input [${s.join(', ')}], not images [H, W, 1 or 3]`);
  if (model.outputShape.length !== 1) throw new CliError(`model '${path}' outputs [N, ${model.outputShape.join(', ')}], not class scores [N, classes]`);
  await selectBackend(opts.backend, opts.threads);
  const [h, w, c] = s;
  const per = h * w * c;
  const x = new Float32Array(files.length * per);
  for (let i = 0; i < files.length; i++) {
    const img = await loadImage(files[i], { height: h, width: w, channels: c as 1 | 3, fit: opts.fit ?? info.fit ?? 'fill' });
    x.set(img.data, i * per);
  }
  if (opts.invert) for (let i = 0; i < x.length; i++) x[i] = 1 - x[i];
  const logits = model.predict(new Tensor(x, [files.length, h, w, c]));
  const lastIsSoftmax = model.layers[model.layers.length - 1].type === 'Softmax';
  const probs = lastIsSoftmax ? logits : softmax(logits);
  const k = model.outputShape[0];
  const names = Array.from({ length: k }, (_, j) => info.classNames?.[j] ?? String(j));
  const topK = Math.min(opts.topK, k);
  files.forEach((file, i) => {
    const p = Array.from(probs.data.subarray(i * k, (i + 1) * k));
    // Highest probability first; ties keep the lower class index first.
    const order = p.map((_, j) => j).sort((a, b) => p[b] - p[a] || a - b).slice(0, topK);
    out.info(`${file}: ${names[order[0]]} (${pct(p[order[0]], 1)})`);
    if (topK > 1) out.info(table(order.map((j, r) => [`  ${r + 1}.`, names[j], pct(p[j], 2)]), (col) => col === 2));
    out.event({ file, prediction: names[order[0]], top: order.map((j) => ({ class: names[j], index: j, probability: p[j] })) });
  });
}
