/**
 * W1: one convolution layer, cases c1-c4; forward, dX and dW each timed on its own.
 *
 * - Stride: forward through the public `conv2d`. The public `conv2dBackward` computes dX, dW and
 *   db in one call: it is the 'dX+dW' row. The wasm backend's dX and dW kernels are also timed on
 *   their own (its internal functions, as the public API fuses them).
 * - TensorFlow.js: `tf.conv2d`; dX with `tf.conv2dTranspose` (the same Conv2DBackpropInput
 *   kernel); dW with the 'Conv2DBackpropFilter' kernel through `tf.engine().runKernel`, which runs
 *   just that kernel (tf.grad would add a forward pass). 'dX+dW' is the sum of the two.
 * - ConvNetJS: ConvLayer.forward and ConvLayer.backward (dX, dW and db fused), one image at a
 *   time, as it works. Its backward is given each image's input and output gradient directly
 *   (in_act, out_act), so no forward pass is timed with it.
 */
import { Rng } from '../../src/tensor/random.js';
import { randomArray, type Peers } from '../peers/index.js';
import { strideImpl, type StrideEnv } from '../peers/stride.js';
import type { TfjsEnv } from '../peers/tfjs.js';
import { volFrom, withSeededMathRandom, type ConvNetJSEnv, type Vol } from '../peers/convnetjs.js';
import type { KernelRow, RowResult } from '../report.js';
import { convFlopsPerImage, convOutShape, passFlopFactor, samePadding, type ConvCase, type ConvPass } from '../shapes.js';
import { measureRow, type Measurement, type Subject, type TimingOptions } from '../timing.js';

interface CaseData {
  x: Float32Array;
  w: Float32Array;
  dy: Float32Array;
}

const FUSED = 'computes dX and dW in one call (see dX+dW)';

function strideSubject(env: StrideEnv, backend: string, c: ConvCase, pass: ConvPass, d: CaseData): Subject {
  const impl = strideImpl(backend);
  const api = env.api;
  const split = backend === 'wasm' ? env.wasmSplit : null;
  if ((pass === 'dX' || pass === 'dW') && split === null) return { impl, cannot: FUSED };
  const opts = { stride: c.stride, padding: c.padding };
  const [ho, wo] = convOutShape(c);
  return {
    impl,
    activate: () => api.setBackend(backend),
    make: (n) => {
      const x = new api.Tensor(d.x.subarray(0, n * c.h * c.w * c.inC), [n, c.h, c.w, c.inC]);
      const w = new api.Tensor(d.w, [c.k, c.k, c.inC, c.outC]);
      const dy = new api.Tensor(d.dy.subarray(0, n * ho * wo * c.outC), [n, ho, wo, c.outC]);
      const info = api.computeConv2DInfo('bench', x.shape, w.shape, opts);
      // Results are disposed after each call, as TensorFlow.js's are: their memory is reused by the
      // next call instead of fresh pages being faulted in (tensor/storage.ts).
      switch (pass) {
        case 'forward':
          return { run: () => api.conv2d(x, w, null, opts).dispose() };
        case 'dX+dW':
          return { run: () => Object.values(api.conv2dBackward(dy, x, w, opts)).forEach((t) => t.dispose()) };
        case 'dX':
          return { run: () => split!.dx(dy, w, info).dispose() };
        case 'dW':
          return { run: () => Object.values(split!.dw(dy, x, info)).forEach((t) => t.dispose()) };
      }
    },
  };
}

function tfjsSubject(env: TfjsEnv, backend: string, c: ConvCase, pass: ConvPass, d: CaseData): Subject {
  const impl = `tfjs-${backend}`;
  if (!env.backends.includes(backend)) return { impl, cannot: `backend did not initialise (${env.wasm.error ?? ''})` };
  const tf = env.tf;
  const [ho, wo] = convOutShape(c);
  return {
    impl,
    activate: async () => {
      await tf.setBackend(backend);
    },
    make: (n) => {
      const x = tf.tensor4d(d.x.subarray(0, n * c.h * c.w * c.inC), [n, c.h, c.w, c.inC]);
      const w = tf.tensor4d(d.w, [c.k, c.k, c.inC, c.outC]);
      const dy = tf.tensor4d(d.dy.subarray(0, n * ho * wo * c.outC), [n, ho, wo, c.outC]);
      const once = (f: () => import('@tensorflow/tfjs').Tensor) => () => {
        const y = f();
        y.dataSync();
        y.dispose();
      };
      const dispose = () => tf.dispose([x, w, dy]);
      switch (pass) {
        case 'forward':
          return { run: once(() => tf.conv2d(x, w, c.stride, c.padding)), dispose };
        case 'dX':
          return { run: once(() => tf.conv2dTranspose(dy, w, [n, c.h, c.w, c.inC], c.stride, c.padding)), dispose };
        case 'dW':
          return {
            run: once(
              () =>
                tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, { strides: c.stride, pad: c.padding, dataFormat: 'NHWC', filterShape: [c.k, c.k, c.inC, c.outC] }) as import('@tensorflow/tfjs').Tensor,
            ),
            dispose,
          };
        case 'dX+dW':
          throw new Error('tfjs dX+dW is derived from its dX and dW rows');
      }
    },
  };
}

function convnetjsSubject(env: ConvNetJSEnv, c: ConvCase, pass: ConvPass, d: CaseData): Subject {
  const impl = 'ConvNetJS';
  if (pass === 'dX' || pass === 'dW') return { impl, cannot: FUSED };
  let pad = 0;
  if (c.padding === 'same') {
    const ph = samePadding(c.h, c.k, c.stride);
    const pw = samePadding(c.w, c.k, c.stride);
    if (ph.before !== ph.after || pw.before !== pw.after || ph.before !== pw.before) {
      return { impl, cannot: "'same' padding here is asymmetric; ConvNetJS takes one symmetric pad" };
    }
    pad = ph.before;
  }
  const cnn = env.cnn;
  const [ho, wo] = convOutShape(c);
  return {
    impl,
    make: (n) => {
      const layer = withSeededMathRandom(1, () => new cnn.ConvLayer({ in_sx: c.w, in_sy: c.h, in_depth: c.inC, sx: c.k, filters: c.outC, stride: c.stride, pad }));
      if (layer.out_sx !== wo || layer.out_sy !== ho) throw new Error(`ConvNetJS output ${layer.out_sy}x${layer.out_sx}, expected ${ho}x${wo}`);
      const vols: Vol[] = [];
      for (let i = 0; i < n; i++) vols.push(volFrom(cnn, d.x, i, c.h, c.w, c.inC));
      if (pass === 'forward') return { run: () => vols.forEach((v) => layer.forward(v)) };
      const outs: Vol[] = [];
      for (let i = 0; i < n; i++) {
        const o = new cnn.Vol(wo, ho, c.outC, 0);
        const per = ho * wo * c.outC;
        for (let j = 0; j < per; j++) o.dw[j] = d.dy[i * per + j];
        outs.push(o);
      }
      return {
        run: () => {
          for (let i = 0; i < n; i++) {
            layer.in_act = vols[i];
            layer.out_act = outs[i];
            layer.backward();
          }
        },
      };
    },
  };
}

/** tfjs dX+dW: the sum of its separately timed dX and dW. */
function derivedSum(impl: string, dx: Measurement | undefined, dw: Measurement | undefined): RowResult {
  if (dx?.status === 'ok' && dw?.status === 'ok') {
    const msPerImage = dx.msPerImage + dw.msPerImage;
    const n = Math.min(dx.n, dw.n);
    return { impl, status: 'ok', n, reps: Math.min(dx.reps, dw.reps), samples: [], medianMs: msPerImage * n, msPerImage, note: 'sum of its dX and dW' };
  }
  const bad = dx?.status !== 'ok' ? ['dX', dx] : ['dW', dw];
  return { impl, status: 'cannot', message: `${bad[0] as string}: ${(bad[1] as Measurement | undefined)?.message ?? 'not measured'}`, n: 0, reps: 0, samples: [], medianMs: NaN, msPerImage: NaN };
}

export function caseDetail(c: ConvCase): string {
  const [ho, wo] = convOutShape(c);
  return `N=${c.n}, ${c.h}x${c.w}x${c.inC} → ${ho}x${wo}x${c.outC}, filter ${c.k}x${c.k}, stride ${c.stride}, ${c.padding}; ${(convFlopsPerImage(c) * c.n / 1e6).toFixed(1)} MFLOP per pass`;
}

export async function runW1(peers: Peers, cases: readonly ConvCase[], timing: Omit<TimingOptions, 'fullN'>, onRow?: (r: KernelRow) => void): Promise<KernelRow[]> {
  const rows: KernelRow[] = [];
  const passes: ConvPass[] = ['forward', 'dX', 'dW', 'dX+dW'];
  for (const c of cases) {
    const rng = new Rng(1000 + c.n * 7 + c.inC);
    const [ho, wo] = convOutShape(c);
    const d: CaseData = {
      x: randomArray(c.n * c.h * c.w * c.inC, rng),
      w: randomArray(c.k * c.k * c.inC * c.outC, rng, 1 / Math.sqrt(c.k * c.k * c.inC)),
      dy: randomArray(c.n * ho * wo * c.outC, rng),
    };
    const byPass = new Map<ConvPass, RowResult[]>();
    for (const pass of passes) {
      const subjects: Subject[] = [];
      for (const b of peers.stride?.backends ?? []) subjects.push(strideSubject(peers.stride!, b, c, pass, d));
      if (peers.tfjs !== null && pass !== 'dX+dW') for (const b of ['cpu', 'wasm']) subjects.push(tfjsSubject(peers.tfjs, b, c, pass, d));
      if (peers.cnn !== null) subjects.push(convnetjsSubject(peers.cnn, c, pass, d));
      const results: RowResult[] = await measureRow(subjects, { ...timing, fullN: c.n, label: `W1 ${c.name} ${pass}` });
      if (pass === 'dX+dW' && peers.tfjs !== null) {
        const at = results.findIndex((r) => r.impl === 'ConvNetJS');
        const tf = ['cpu', 'wasm'].map((b) =>
          derivedSum(`tfjs-${b}`, byPass.get('dX')?.find((m) => m.impl === `tfjs-${b}`), byPass.get('dW')?.find((m) => m.impl === `tfjs-${b}`)),
        );
        results.splice(at < 0 ? results.length : at, 0, ...tf);
      }
      for (const r of results) {
        if (r.status === 'ok' && r.impl === 'Stride wasm' && (pass === 'dX' || pass === 'dW')) r.note = 'wasm kernel called directly (the public op fuses dX and dW)';
      }
      byPass.set(pass, results);
      const row: KernelRow = { workload: 'W1', caseName: c.name, pass, detail: caseDetail(c), fullN: c.n, flopsPerImage: convFlopsPerImage(c) * passFlopFactor(pass), results };
      onRow?.(row);
      rows.push(row);
    }
  }
  return rows;
}
