/**
 * W4: inference throughput, the lenet forward pass at batch 256, with each library's model
 * (built by the same modules as W3: train-stride.ts, train-tfjs.ts, train-convnetjs.ts).
 * ConvNetJS runs image by image; its time budget usually allows a sub-batch only.
 */
import { Rng } from '../../src/tensor/random.js';
import { randomArray, type Peers } from '../peers/index.js';
import type { KernelRow } from '../report.js';
import { INPUT_SHAPE, modelFlopsPerImage, modelShapes, MODELS } from '../shapes.js';
import { measureRow, type Subject, type TimingOptions } from '../timing.js';
import type { Trainer, TrainerOptions } from './trainer.js';
import { ORT, ortW4Subject, type OrtThreadReport } from '../peers/ort.js';
import { pytorchW4, type PyTiming } from '../peers/pytorch.js';

export const W4_BATCH = 256;

function subjectOf(impl: string, create: () => Promise<Trainer>, images: Float32Array): Subject {
  let trainer: Trainer | null = null;
  const get = async (): Promise<Trainer> => (trainer ??= await create());
  return {
    impl,
    activate: async () => (await get()).activate(),
    make: async (n) => {
      const t = await get();
      return { run: () => t.infer(images, n) };
    },
  };
}

/**
 * onnxruntime-web's subject: Stride's lenet (seed 1, the weights of Stride's W4 model) exported to
 * ONNX, checked against Stride's output on the batch. Null when Stride's model API does not load.
 */
async function ortSubject(peers: Peers, images: Float32Array, threads: number, report: OrtThreadReport): Promise<Subject> {
  try {
    const api = peers.stride!.api;
    const { layerOf } = await import('./train-stride.js');
    api.setBackend(peers.stride!.primary);
    const net = new api.Sequential(MODELS.lenet.map(layerOf), { inputShape: INPUT_SHAPE, seed: 1 });
    const y = net.predict(new api.Tensor(images, [W4_BATCH, ...INPUT_SHAPE]), W4_BATCH);
    const expected = Float32Array.from(y.data);
    y.dispose();
    return await ortW4Subject(peers.ort!, api.exportOnnx(net), images, W4_BATCH, expected, threads, report);
  } catch (e) {
    return { impl: ORT, cannot: (e instanceof Error ? e.message : String(e)).split('\n')[0] };
  }
}

export async function runW4(
  peers: Peers, threads: number, timing: Omit<TimingOptions, 'fullN'>, onRow?: (r: KernelRow) => void, py?: PyTiming,
): Promise<{ rows: KernelRow[]; notes: string[]; ort?: OrtThreadReport }> {
  const notes: string[] = [];
  const per = INPUT_SHAPE[0] * INPUT_SHAPE[1] * INPUT_SHAPE[2];
  const images = randomArray(W4_BATCH * per, new Rng(4004)).map((v) => (v + 1) / 2); // [0, 1) like MNIST pixels
  const opts = (backend: string): TrainerOptions => ({ backend, lr: 0.01, seed: 1, threads });
  const subjects: Subject[] = [];
  if (peers.stride !== null) {
    let factory: typeof import('./train-stride.js').createTrainer | null = null;
    try {
      factory = (await import('./train-stride.js')).createTrainer;
    } catch (e) {
      const why = `skipped: Stride's model API does not load yet (${(e instanceof Error ? e.message : String(e)).split('\n')[0]})`;
      notes.push(`W4 Stride: ${why}`);
      for (const b of peers.stride.backends) subjects.push({ impl: `Stride ${b}`, cannot: why });
    }
    if (factory !== null) for (const b of peers.stride.backends) subjects.push(subjectOf(`Stride ${b}`, () => factory('lenet', opts(b)), images));
  }
  if (peers.tfjs !== null) {
    const { createTfjsTrainer } = await import('./train-tfjs.js');
    const tf = peers.tfjs.tf;
    for (const b of ['cpu', 'wasm']) {
      if (!peers.tfjs.backends.includes(b)) subjects.push({ impl: `tfjs-${b}`, cannot: 'backend did not initialise' });
      else subjects.push(subjectOf(`tfjs-${b}`, () => createTfjsTrainer(tf, 'lenet', opts(b)), images));
    }
  }
  if (peers.cnn !== null) {
    const { createConvNetJSTrainer } = await import('./train-convnetjs.js');
    const cnn = peers.cnn.cnn;
    subjects.push(subjectOf('ConvNetJS', async () => createConvNetJSTrainer(cnn, 'lenet', opts('')), images));
  }
  let ort: OrtThreadReport | undefined;
  if (peers.ort !== null && peers.stride !== null) {
    ort = { asked: threads, newThreads: null, cpuPerWall: NaN };
    subjects.push(await ortSubject(peers, images, threads, ort));
  }
  const results = await measureRow(subjects, { ...timing, fullN: W4_BATCH, label: 'W4 lenet inference' });
  if (peers.torch !== null && py !== undefined) results.push(pytorchW4(peers.torch, W4_BATCH, py));
  const shapes = modelShapes(MODELS.lenet).shapes;
  const row: KernelRow = {
    workload: 'W4', caseName: 'lenet', pass: 'inference',
    detail: `batch ${W4_BATCH}, 28x28x1 → ${shapes.map((s) => s.join('x')).join(' → ')}; ${(modelFlopsPerImage('lenet') / 1e6).toFixed(1)} MFLOP per image`,
    fullN: W4_BATCH, flopsPerImage: modelFlopsPerImage('lenet'), results,
  };
  onRow?.(row);
  return { rows: [row], notes, ort };
}
