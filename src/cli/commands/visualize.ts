/**
 * `stride visualize`: the first convolution layer's filters and one image's feature maps (the output
 * of every layer that still has a spatial layout) as PNG grids in a directory.
 */
import { join } from 'node:path';
import { mkdir } from 'node:fs/promises';
import { Conv2D } from '../../layers/conv2d.js';
import { softmax } from '../../losses/softmax.js';
import { argmax } from '../../metrics.js';
import { filterGrid, featureMapGrid, featureMaps } from '../../viz/image-grid.js';
import { loadImage } from '../../node/image-folder.js';
import { writePng } from '../../node/png.js';
import type { Tensor } from '../../tensor/tensor.js';
import { selectBackend, type BackendName } from '../backend.js';
import { chooseEvalData } from '../provenance.js';
import { resolveModel } from '../models.js';
import { writeGridPng } from '../images.js';
import { CliError, makeOutput, pct, personMessage } from '../util.js';

export interface VisualizeOptions {
  outDir: string;
  image?: string;
  data?: string;
  sample: number;
  scale?: number;
  json?: boolean;
  backend?: BackendName;
  threads?: number;
}

export async function visualizeCommand(spec: string, opts: VisualizeOptions): Promise<void> {
  const out = makeOutput(opts.json ?? false);
  const { model, info, source } = await resolveModel(spec, { inputShape: [28, 28, 1], numClasses: 10, seed: 0 });
  const s = model.inputShape;
  if (s.length !== 3 || (s[2] !== 1 && s[2] !== 3)) throw new CliError(`model '${spec}' takes input [${s.join(', ')}], not images [H, W, 1 or 3]`);
  await selectBackend(opts.backend, opts.threads);
  const image = { height: s[0], width: s[1], channels: s[2] as 1 | 3, fit: info.fit };

  let x: Tensor;
  let what: string;
  if (opts.image !== undefined) {
    try {
      x = await loadImage(opts.image, image);
    } catch (e) {
      throw new CliError(personMessage((e as Error).message));
    }
    what = opts.image;
  } else {
    // The model's recorded test set (or the --data named), as `eval` would evaluate it.
    const choice = await chooseEvalData({ data: opts.data }, info.dataset, info.data, image, info.classNames);
    for (const w of choice.warnings) out.warn(w);
    const test = choice.dataset;
    if (opts.sample >= test.length) throw new CliError(`--sample ${opts.sample} is out of range: ${choice.label} has ${test.length} images`);
    x = test.image(opts.sample);
    what = `image ${opts.sample} of ${choice.label} (class ${test.classNames[test.label(opts.sample)]})`;
  }

  await mkdir(opts.outDir, { recursive: true });
  const files: { path: string; what: string }[] = [];
  const scale = opts.scale;
  const firstConv = model.layers.findIndex((l) => l instanceof Conv2D);
  if (firstConv >= 0) {
    const conv = model.layers[firstConv] as Conv2D;
    const path = join(opts.outDir, 'filters.png');
    await writeGridPng(path, filterGrid(conv.weight!.value, { scale }));
    files.push({ path, what: `layer ${firstConv} ${conv.toString()}: ${conv.opts.outChannels} filters (red positive, blue negative)` });
  } else {
    out.warn(`model '${spec}' has no Conv2D layer: no filters to draw`);
  }
  const inputPath = join(opts.outDir, 'input.png');
  await writePng(inputPath, x);
  files.push({ path: inputPath, what });
  const outputs = featureMaps(model, x);
  for (const o of outputs) {
    if (o.output.rank !== 4) continue;
    const path = join(opts.outDir, `${o.name}.png`);
    await writeGridPng(path, featureMapGrid(o.output, { scale }));
    files.push({ path, what: `layer ${o.index} ${o.label}: ${o.output.shape[3]} maps of ${o.output.shape[1]}x${o.output.shape[2]}` });
  }
  const last = outputs[outputs.length - 1].output;
  let prediction: { class: string; probability: number } | null = null;
  if (last.rank === 2) {
    const p = model.layers[model.layers.length - 1].type === 'Softmax' ? last : softmax(last);
    const best = argmax(p)[0];
    prediction = { class: info.classNames?.[best] ?? String(best), probability: p.data[best] };
  }
  out.info(`${source} on ${what}`);
  for (const f of files) out.info(`wrote ${f.path}: ${f.what}`);
  if (prediction) out.info(`prediction: ${prediction.class} (${pct(prediction.probability, 1)})`);
  out.event({ model: source, image: what, files, prediction });
}
