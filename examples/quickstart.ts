// The README's first example: build a CNN, train it on a synthetic task, and check it.
// Run it with `npx tsx examples/quickstart.ts` (after `npm run build`).
import { Tensor, Rng, Sequential, Conv2D, ReLU, MaxPool2D, Flatten, Dense, SGD, gradcheckLayer } from 'stride-cnn';

// 64 images of 8x8 pixels: a vertical line is class 0, a horizontal line is class 1.
const rng = new Rng(42);
const x = Tensor.zeros([64, 8, 8, 1]);
const labels = new Int32Array(64);
for (let i = 0; i < 64; i++) {
  labels[i] = rng.int(2);
  const at = rng.int(8);
  for (let k = 0; k < 8; k++) x.data[i * 64 + (labels[i] === 0 ? k * 8 + at : at * 8 + k)] = 1;
}

// CONV -> RELU -> POOL -> FC, the seeds' complete CNN. Shapes are inferred from inputShape.
const model = new Sequential(
  [
    new Conv2D({ outChannels: 4, kernelSize: 3, padding: 'same' }),
    new ReLU(),
    new MaxPool2D({ kernelSize: 2 }),
    new Flatten(),
    new Dense({ units: 2 }),
  ],
  { inputShape: [8, 8, 1], seed: 1 },
);
console.log(model.summary());

const optimizer = new SGD({ lr: 0.1, momentum: 0.9 });
for (let epoch = 1; epoch <= 20; epoch++) {
  const { loss, correct } = model.trainStep(x, labels, optimizer);
  if (epoch % 5 === 0) console.log(`epoch ${epoch}: loss ${loss.toFixed(4)}, ${correct}/64 right`);
}

// Every layer proves its gradients: central differences against backward, at a random input.
// (A small step keeps the differences from straddling ReLU's and max-pool's kinks.)
const report = gradcheckLayer(model, [2, 8, 8, 1], { build: false, eps: 1e-3, seed: 0 });
console.log(`gradcheck: ${report.ok ? 'ok' : 'FAILED'} (${report.message})`);
