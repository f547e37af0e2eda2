/**
 * W2: max pooling 2x2 stride 2, N = 32, 28x28x32: forward, backward, and forward + backward.
 *
 * - Stride: `maxPool2d`; `maxPool2dBackward(dy, x)` recomputes each window's argmax from x.
 * - TensorFlow.js: `tf.maxPool`; backward = the 'MaxPoolGrad' kernel (dy, input, output).
 * - ConvNetJS: PoolLayer, one image at a time. Its backward reads the argmax "switches" its
 *   forward stored for the same image, so it is timed only together with the forward.
 */
import { Rng } from '../../src/tensor/random.js';
import { randomArray, type Peers } from '../peers/index.js';
import { strideImpl, type StrideEnv } from '../peers/stride.js';
import type { TfjsEnv } from '../peers/tfjs.js';
import { volFrom, type ConvNetJSEnv, type Vol } from '../peers/convnetjs.js';
import type { KernelRow } from '../report.js';
import { convOutSize, W2_CASE } from '../shapes.js';
import { measureRow, type Subject, type TimingOptions } from '../timing.js';

type PoolPass = 'forward' | 'backward' | 'forward+backward';
const C = W2_CASE;
const HO = convOutSize(C.h, C.k, C.stride, 'valid');
const WO = convOutSize(C.w, C.k, C.stride, 'valid');

function strideSubject(env: StrideEnv, backend: string, pass: PoolPass, x: Float32Array, dyd: Float32Array): Subject {
  const api = env.api;
  const opts = { kernelSize: C.k, stride: C.stride };
  return {
    impl: strideImpl(backend),
    activate: () => api.setBackend(backend),
    make: (n) => {
      const xt = new api.Tensor(x.subarray(0, n * C.h * C.w * C.c), [n, C.h, C.w, C.c]);
      const dy = new api.Tensor(dyd.subarray(0, n * HO * WO * C.c), [n, HO, WO, C.c]);
      // Results disposed after each call, as TensorFlow.js's are (see w1-conv.ts).
      if (pass === 'forward') return { run: () => api.maxPool2d(xt, opts).dispose() };
      if (pass === 'backward') return { run: () => api.maxPool2dBackward(dy, xt, opts).dispose() };
      return {
        run: () => {
          api.maxPool2d(xt, opts).dispose();
          api.maxPool2dBackward(dy, xt, opts).dispose();
        },
      };
    },
  };
}

function tfjsSubject(env: TfjsEnv, backend: string, pass: PoolPass, x: Float32Array, dyd: Float32Array): Subject {
  const impl = `tfjs-${backend}`;
  if (!env.backends.includes(backend)) return { impl, cannot: `backend did not initialise (${env.wasm.error ?? ''})` };
  const tf = env.tf;
  type T = import('@tensorflow/tfjs').Tensor;
  const grad = (dy: T, input: T, output: T): T =>
    tf.engine().runKernel('MaxPoolGrad', { dy, input, output }, { filterSize: C.k, strides: C.stride, pad: 'valid' }) as T;
  return {
    impl,
    activate: async () => {
      await tf.setBackend(backend);
    },
    make: (n) => {
      const xt = tf.tensor4d(x.subarray(0, n * C.h * C.w * C.c), [n, C.h, C.w, C.c]);
      const dy = tf.tensor4d(dyd.subarray(0, n * HO * WO * C.c), [n, HO, WO, C.c]);
      const y0 = tf.maxPool(xt, C.k, C.stride, 'valid');
      const dispose = () => tf.dispose([xt, dy, y0]);
      const read = (...ts: T[]) => ts.forEach((t) => (t.dataSync(), t.dispose()));
      if (pass === 'forward') return { run: () => read(tf.maxPool(xt, C.k, C.stride, 'valid')), dispose };
      if (pass === 'backward') return { run: () => read(grad(dy, xt, y0)), dispose };
      return {
        run: () => {
          const y = tf.maxPool(xt, C.k, C.stride, 'valid');
          read(grad(dy, xt, y), y);
        },
        dispose,
      };
    },
  };
}

function convnetjsSubject(env: ConvNetJSEnv, pass: PoolPass, x: Float32Array, dyd: Float32Array): Subject {
  const impl = 'ConvNetJS';
  if (pass === 'backward') return { impl, cannot: 'its backward needs the argmax its forward stored for the same image (see forward+backward)' };
  const cnn = env.cnn;
  return {
    impl,
    make: (n) => {
      const layer = new cnn.PoolLayer({ in_sx: C.w, in_sy: C.h, in_depth: C.c, sx: C.k, stride: C.stride });
      if (layer.out_sx !== WO || layer.out_sy !== HO) throw new Error(`ConvNetJS output ${layer.out_sy}x${layer.out_sx}, expected ${HO}x${WO}`);
      const vols: Vol[] = [];
      const grads: Float64Array[] = [];
      const per = HO * WO * C.c;
      for (let i = 0; i < n; i++) {
        vols.push(volFrom(cnn, x, i, C.h, C.w, C.c));
        grads.push(Float64Array.from(dyd.subarray(i * per, (i + 1) * per)));
      }
      if (pass === 'forward') return { run: () => vols.forEach((v) => layer.forward(v)) };
      return {
        run: () => {
          for (let i = 0; i < n; i++) {
            layer.forward(vols[i]);
            layer.out_act.dw = grads[i];
            layer.backward();
          }
        },
      };
    },
  };
}

export async function runW2(peers: Peers, timing: Omit<TimingOptions, 'fullN'>, onRow?: (r: KernelRow) => void): Promise<KernelRow[]> {
  const rng = new Rng(2002);
  const x = randomArray(C.n * C.h * C.w * C.c, rng);
  const dy = randomArray(C.n * HO * WO * C.c, rng);
  const rows: KernelRow[] = [];
  for (const pass of ['forward', 'backward', 'forward+backward'] as PoolPass[]) {
    const subjects: Subject[] = [];
    for (const b of peers.stride?.backends ?? []) subjects.push(strideSubject(peers.stride!, b, pass, x, dy));
    if (peers.tfjs !== null) for (const b of ['cpu', 'wasm']) subjects.push(tfjsSubject(peers.tfjs, b, pass, x, dy));
    if (peers.cnn !== null) subjects.push(convnetjsSubject(peers.cnn, pass, x, dy));
    const results = await measureRow(subjects, { ...timing, fullN: C.n, label: `W2 ${pass}` });
    const row: KernelRow = {
      workload: 'W2', caseName: 'pool', pass, detail: `N=${C.n}, ${C.h}x${C.w}x${C.c} → ${HO}x${WO}x${C.c}, window ${C.k}x${C.k}, stride ${C.stride}`,
      fullN: C.n, flopsPerImage: null, results,
    };
    onRow?.(row);
    rows.push(row);
  }
  return rows;
}
