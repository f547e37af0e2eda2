/**
 * The page's training run in Node, for browser-worker.test.ts: the compact file at argv[2], the
 * small preset (seed 1), Adam lr 0.002, shuffle seed 3, argv[3] images in batches of argv[4].
 * Run with the same wasm build as the browser (Chromium has relaxed SIMD; Node 20 needs
 * --experimental-wasm-relaxed-simd). Prints one JSON line: losses, images/s and the model file.
 */
import { readFileSync } from 'node:fs';
import { Sequential } from '../../src/model/sequential.js';
import { createPreset } from '../../src/model/presets.js';
import { createOptimizer } from '../../src/optim/registry.js';
import { serializeModel } from '../../src/model/serialize.js';
import { Rng } from '../../src/tensor/random.js';
import { decodeCompactDataset } from '../../src/data/compact.js';
import { ready } from '../../src/kernels/wasm/index.js';

const [file, limit, batch] = [process.argv[2], Number(process.argv[3]), Number(process.argv[4])];
const backend = await ready();
const { train } = decodeCompactDataset(readFileSync(file));
const model = Sequential.fromSpec(createPreset('small', { seed: 1 }).toSpec(), 1);
const optimizer = createOptimizer('adam', { lr: 0.002 });
const rng = new Rng(3);
const losses: number[] = [];
let images = 0;
const t0 = performance.now();
for (const { x, y } of train.take(limit).batches(batch, { shuffle: true, rng })) {
  losses.push(model.trainStep(x, y, optimizer).loss);
  x.dispose();
  images += y.length;
}
const imagesPerSecond = (images * 1000) / (performance.now() - t0);
process.stdout.write(JSON.stringify({ backend, losses, imagesPerSecond, model: Buffer.from(serializeModel(model)).toString('base64') }) + '\n');
process.exit(0);
