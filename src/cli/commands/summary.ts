/** `stride summary`: layers, output shapes, parameters and FLOPs of a preset or a model file. */
import { resolveModel } from '../models.js';
import { makeOutput } from '../util.js';

export interface SummaryOptions {
  imageSize?: [number, number];
  channels?: 1 | 3;
  classes?: number;
  json: boolean;
}

export async function summaryCommand(spec: string, opts: SummaryOptions): Promise<void> {
  const out = makeOutput(opts.json);
  const [h, w] = opts.imageSize ?? [28, 28];
  const { model, isFile, source } = await resolveModel(spec, { inputShape: [h, w, opts.channels ?? 1], numClasses: opts.classes ?? 10, seed: 0 });
  if (isFile && (opts.imageSize || opts.channels || opts.classes)) out.warn('--image-size, --channels and --classes apply to presets; a model file has its own shapes');
  out.info(`${source}: input [N, ${model.inputShape.join(', ')}]`);
  out.info(model.summary());
  out.event({
    model: source,
    inputShape: model.inputShape,
    outputShape: model.outputShape,
    params: model.paramCount(),
    flops: model.flops(),
    layers: model.layers.map((l, i) => ({
      index: i,
      type: l.type,
      layer: l.toString(),
      outputShape: model.shapes[i],
      params: l.params().reduce((n, p) => n + p.value.size, 0),
      flops: l.flops(),
    })),
  });
}
