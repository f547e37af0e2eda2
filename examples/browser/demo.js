/* global performance */
// What the page computes, kept apart from the page so that Node can run the very same code
// (test/browser/bundlers.test.ts compares the two bit for bit). `stride` is the library's namespace.

/** FNV-1a over the bytes of a Float32Array: equal hashes mean equal bits. */
function bitsHash(a) {
  const bytes = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  let h = 0x811c9dc5;
  for (let i = 0; i < bytes.length; i++) h = Math.imul(h ^ bytes[i], 0x01000193);
  return (h >>> 0).toString(16).padStart(8, '0');
}

const summary = (t) => ({ shape: [...t.shape], hash: bitsHash(t.data), first: Array.from(t.data.subarray(0, 4)) });

export async function runDemo(stride, { threads } = {}) {
  const { Tensor, Sequential, Conv2D, ReLU, MaxPool2D, Flatten, Dense, SGD } = stride;
  if (threads !== undefined) stride.setThreads(threads);
  const t0 = performance.now();
  // Compiles the kernels and starts the worker threads; resolves with what runs (see docs/browser.md).
  await stride.ready();
  const readyMs = performance.now() - t0;

  // A convolution large enough to be split over the threads, forward and backward, on seeded data.
  const x = Tensor.randn([4, 32, 32, 16], { seed: 1 });
  const w = Tensor.randn([3, 3, 16, 32], { seed: 2 });
  const b = Tensor.randn([32], { seed: 3 });
  const y = stride.conv2d(x, w, b, { padding: 'same' });
  const dy = Tensor.randn([...y.shape], { seed: 4 });
  const { dx, dw, db } = stride.conv2dBackward(dy, x, w, { padding: 'same' });

  // A few training steps of a small CNN: vertical lines are class 0, horizontal lines class 1.
  const n = 32;
  const images = Tensor.zeros([n, 16, 16, 1]);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    labels[i] = i % 2;
    const at = (i * 5) % 16;
    for (let k = 0; k < 16; k++) images.data[i * 256 + (labels[i] === 0 ? k * 16 + at : at * 16 + k)] = 1;
  }
  const model = new Sequential(
    [
      new Conv2D({ outChannels: 8, kernelSize: 3, padding: 'same' }),
      new ReLU(),
      new MaxPool2D({ kernelSize: 2 }),
      new Flatten(),
      new Dense({ units: 2 }),
    ],
    { inputShape: [16, 16, 1], seed: 1 },
  );
  const optimizer = new SGD({ lr: 0.05, momentum: 0.9 });
  const losses = [];
  for (let step = 0; step < 5; step++) losses.push(model.trainStep(images, labels, optimizer).loss);

  return {
    info: stride.backendInfo(),
    readyMs,
    work: stride.threadWork(),
    tensors: {
      y: summary(y),
      dx: summary(dx),
      dw: summary(dw),
      db: summary(db),
      ...Object.fromEntries(model.namedParams().map(({ name, param }) => [`weights ${name}`, summary(param.value)])),
    },
    losses,
  };
}
