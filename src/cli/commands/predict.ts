/** `stride predict`: image files → the top-k classes with their probabilities. */
import { Tensor } from '../../tensor/tensor.js';
import { softmax } from '../../losses/softmax.js';
import { loadImage, type ResizeFit } from '../../node/image-folder.js';
import type { Sequential } from '../../model/sequential.js';
import { selectBackend, type BackendName } from '../backend.js';
import { readModelFile } from '../models.js';
import { CliError, makeOutput, pct, personMessage, table, type Output } from '../util.js';

export interface PredictOptions {
  topK: number;
  fit?: ResizeFit;
  invert?: boolean;
  json?: boolean;
  backend?: BackendName;
  threads?: number;
}

/** Below this spread (max - min of the prepared values, 0 to 1) an image shows nothing to classify. */
export const UNIFORM_SPREAD = 0.1;

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
    let img: Tensor;
    try {
      // Inverting happens in the decoder, before padding: the bars of --fit contain stay background.
      img = await loadImage(files[i], { height: h, width: w, channels: c as 1 | 3, fit: opts.fit ?? info.fit ?? 'fill', invert: opts.invert ?? false });
    } catch (e) {
      throw new CliError(personMessage((e as Error).message), 1);
    }
    x.set(img.data, i * per);
    warnIfUniform(out, files[i], img.data, opts.invert ?? false);
  }
  const logits = model.predict(new Tensor(x, [files.length, h, w, c]));
  const lastIsSoftmax = model.layers[model.layers.length - 1].type === 'Softmax';
  const probs = lastIsSoftmax ? logits : softmax(logits);
  const k = model.outputShape[0];
  files.forEach((file, i) => {
    const bad = logits.data.subarray(i * k, (i + 1) * k).find((v) => !Number.isFinite(v));
    if (bad !== undefined) throw nonFinite(path, model, file, bad);
  });
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

/** A warning for an image with (almost) nothing in it: the prediction is then a guess. */
function warnIfUniform(out: Output, file: string, values: Float32Array, invert: boolean): void {
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of values) {
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  if (hi - lo >= UNIFORM_SPREAD) return;
  const hint = invert
    ? 'a light drawing on a dark background needs no --invert'
    : 'a dark drawing on a transparent or light background needs --invert';
  out.warn(`'${file}' is nearly uniform after preparing it (every value between ${lo.toFixed(2)} and ${hi.toFixed(2)}), so its prediction means little; ${hint}`);
}

/** The error for non-finite outputs, saying whether the weights are to blame. */
export function nonFinite(path: string, model: Sequential, what: string, value: number): CliError {
  let badWeights = 0;
  let largest = 0;
  for (const t of [...model.params().map((p) => p.value), ...model.buffers().map((b) => b.value)]) {
    for (const v of t.data) {
      if (!Number.isFinite(v)) badWeights++;
      else if (Math.abs(v) > largest) largest = Math.abs(v);
    }
  }
  const why =
    badWeights > 0
      ? `its weights hold ${badWeights.toLocaleString('en-US')} non-finite value${badWeights === 1 ? '' : 's'} (NaN or Infinity; the training run diverged?): retrain it, e.g. with a lower --lr, or use an earlier checkpoint`
      : `its weights are finite (the largest magnitude is ${largest.toPrecision(3)}) but an activation overflowed: ` +
        (largest > 1e6 ? 'weights this large mean the training run diverged; retrain it with a lower --lr or use an earlier checkpoint' : 'check that the inputs are images like those it was trained on');
  return new CliError(`model '${path}' gives non-finite outputs (${value}) for ${what}: ${why}`);
}
