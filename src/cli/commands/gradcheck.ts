/**
 * `stride gradcheck`: checks every layer's backward pass (dx and each parameter gradient) against
 * central differences, layer by layer, as the layer sits in the model (its built shapes and
 * weights), with `gradcheckLayer`.
 *
 * Why layer by layer: in float32, a whole ReLU/max-pool network has kinks everywhere, and a
 * perturbation of an early weight moves thousands of pre-activations, some across a kink, so a
 * whole-model numeric derivative is off by a few percent even when every gradient is right. One
 * layer at a time, each input is drawn away from the kinks (seeded N(0, 1) pushed at least 0.05
 * from 0), so a failure means a wrong gradient. `--whole` checks the model end to end instead.
 */
import { gradcheckLayer, type GradcheckLayerReport } from '../../gradcheck.js';
import { Tensor } from '../../tensor/tensor.js';
import { Rng } from '../../tensor/random.js';
import { selectBackend, type BackendName } from '../backend.js';
import { resolveModel } from '../models.js';
import { CliError, makeOutput, table } from '../util.js';

export interface GradcheckCliOptions {
  batch: number;
  seed: number;
  maxElements: number;
  /** Default: per layer, see `autoEps`. */
  eps?: number;
  atol: number;
  rtol: number;
  whole?: boolean;
  imageSize?: [number, number];
  channels?: 1 | 3;
  classes?: number;
  json?: boolean;
  backend?: BackendName;
  threads?: number;
}

const sci = (v: number): string => (Number.isFinite(v) ? v.toExponential(2) : String(v));

/** Seeded N(0, 1) values moved at least `gap` away from 0 (off ReLU's kink). */
function offKinkInput(shape: number[], seed: number, gap = 0.05): Tensor {
  const rng = new Rng(seed);
  const t = Tensor.zeros(shape);
  for (let i = 0; i < t.size; i++) {
    const v = rng.normal();
    t.data[i] = v + (v < 0 ? -gap : gap);
  }
  return t;
}

/**
 * The finite-difference step for a layer type. A layer that is linear in its input and parameters
 * (convolution, dense, average pooling, reshapes, dropout with a fixed mask) has an exact central
 * difference at any step, so a large one keeps float32 rounding noise small; smooth non-linear
 * layers get 1e-2; layers with kinks (ReLU, max pooling) get 1e-3, well inside the 0.05 gap that
 * keeps their inputs off the kinks.
 */
export function autoEps(type: string): number {
  if (['Conv2D', 'Dense', 'AvgPool2D', 'GlobalAvgPool2D', 'Flatten', 'Dropout'].includes(type)) return 1e-1;
  if (['ReLU', 'LeakyReLU', 'MaxPool2D'].includes(type)) return 1e-3;
  return 1e-2;
}

interface Row {
  layer: string;
  index: number | null;
  eps: number;
  report: GradcheckLayerReport;
  names: string[];
}

export async function gradcheckCommand(spec: string, opts: GradcheckCliOptions): Promise<void> {
  const out = makeOutput(opts.json ?? false);
  const [h, w] = opts.imageSize ?? [28, 28];
  const { model, source } = await resolveModel(spec, { inputShape: [h, w, opts.channels ?? 1], numClasses: opts.classes ?? 10, seed: opts.seed });
  const { backend } = await selectBackend(opts.backend, opts.threads);
  const common = { build: false, rng: model.rng, maxElements: opts.maxElements, atol: opts.atol, rtol: opts.rtol };
  const checks: Row[] = [];
  if (opts.whole) {
    const shape = [opts.batch, ...model.inputShape];
    const eps = opts.eps ?? 1e-3;
    const report = gradcheckLayer(model, shape, { ...common, eps, seed: opts.seed, input: offKinkInput(shape, opts.seed) });
    checks.push({ layer: 'whole model', index: null, eps, report, names: ['x', ...model.namedParams().map((p) => p.name)] });
  } else {
    model.layers.forEach((layer, i) => {
      const shape = [opts.batch, ...(i === 0 ? model.inputShape : model.shapes[i - 1])];
      const seed = opts.seed + 1000 * (i + 1);
      const eps = opts.eps ?? autoEps(layer.type);
      const report = gradcheckLayer(layer, shape, { ...common, eps, seed, input: offKinkInput(shape, seed) });
      checks.push({ layer: layer.toString(), index: i, eps, report, names: ['x', ...layer.params().map((p) => p.name)] });
    });
  }

  const rowsOut: string[][] = [['#', 'layer', 'eps', 'tensor', 'shape', 'checked', 'failed', 'max abs err', 'max rel err']];
  let checked = 0;
  let failures = 0;
  let worst: { where: string; a: number; n: number; badness: number } | null = null;
  for (const c of checks) {
    c.report.tensors.forEach((t, k) => {
      rowsOut.push([k === 0 && c.index !== null ? String(c.index) : '', k === 0 ? c.layer : '', k === 0 ? String(c.eps) : '', c.names[k] ?? t.name, `[${t.shape.join(', ')}]`, String(t.checked), String(t.failures), sci(t.maxAbsError), sci(t.maxRelError)]);
      const e = t.worst;
      if (e) {
        const b = Math.abs(e.analytic - e.numeric) / (opts.atol + opts.rtol * Math.max(Math.abs(e.analytic), Math.abs(e.numeric)));
        if (worst === null || b > worst.badness) worst = { where: `${c.index !== null ? `layer ${c.index} ` : ''}${c.names[k] ?? t.name} at [${e.coords.join(', ')}]`, a: e.analytic, n: e.numeric, badness: b };
      }
    });
    checked += c.report.checked;
    failures += c.report.failures;
  }
  const ok = failures === 0;
  out.info(`gradient check of ${source}${opts.whole ? ' (whole model)' : ', layer by layer'} (${backend} kernels): batch ${opts.batch}, seed ${opts.seed}`);
  out.info(`an element passes when |analytic - numeric| <= ${opts.atol} + ${opts.rtol}·max(|analytic|, |numeric|)`);
  out.info(table(rowsOut, (col) => col >= 5));
  const wst = worst as { where: string; a: number; n: number } | null;
  if (wst) out.info(`worst: ${wst.where}: analytic ${wst.a.toPrecision(6)}, numeric ${wst.n.toPrecision(6)}`);
  out.info(ok ? `OK: all ${checked} checked elements agree` : `FAILED: ${failures} of ${checked} elements outside tolerance`);
  out.event({
    model: source,
    backend,
    ok,
    checked,
    failures,
    atol: opts.atol,
    rtol: opts.rtol,
    checks: checks.map((c) => ({
      index: c.index,
      layer: c.layer,
      eps: c.eps,
      ok: c.report.ok,
      tensors: c.report.tensors.map((t, k) => ({ name: c.names[k] ?? t.name, shape: t.shape, checked: t.checked, failures: t.failures, maxAbsError: t.maxAbsError, maxRelError: t.maxRelError, worst: t.worst })),
    })),
  });
  if (!ok) throw new CliError(`gradient check failed: ${failures} of ${checked} elements outside tolerance (worst: ${wst?.where})`);
}
