/**
 * Sequential.trainStep flags the gradients of built-in layers instead of zeroing them
 * (`Param.gradPending`): each layer's backward then copies its gradient in rather than adding it to
 * zeros. These tests hold it to what zeroGrad-then-backward gives, bit for bit: with stale values
 * left in every gradient before the step, with a user's layer that adds into its `grad` directly
 * (whose gradient must still be zeroed), with a user's optimizer whose zeroGrad keeps the
 * gradients (accumulation over steps), and after a step that throws.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  Tensor, Sequential, Conv2D, Dense, DepthwiseConv2D, BatchNorm, ReLU, MaxPool2D, Flatten, SGD, Param, setBackend,
  type Layer, type LayerSpec, type Shape, type Rng,
} from '../../src/index.js';
import { softmaxCrossEntropy } from '../../src/losses/softmax-cross-entropy.js';

/** y = x · s (per channel); adds into s.grad by hand, as a user's layer may. */
class Scale implements Layer {
  readonly type = 'Scale';
  s?: Param;
  private x?: Tensor;
  build(inputShape: Shape, rng: Rng): Shape {
    this.s ??= new Param('scale', Tensor.rand([inputShape[inputShape.length - 1]], { rng, low: 0.5, high: 1.5 }));
    return inputShape;
  }
  forward(x: Tensor, training: boolean): Tensor {
    const c = this.s!.value.size;
    if (training) this.x = x;
    return new Tensor(Float32Array.from(x.data, (v, i) => v * this.s!.value.data[i % c]), x.shape);
  }
  backward(dy: Tensor): Tensor {
    const x = this.x!;
    const c = this.s!.value.size;
    for (let i = 0; i < x.size; i++) this.s!.grad.data[i % c] += dy.data[i] * x.data[i];
    return new Tensor(Float32Array.from(dy.data, (v, i) => v * this.s!.value.data[i % c]), dy.shape);
  }
  params(): Param[] {
    return [this.s!];
  }
  buffers() {
    return [];
  }
  toSpec(): LayerSpec {
    return { type: this.type, config: {} };
  }
  flops(): number {
    return 0;
  }
}

function model(): Sequential {
  return new Sequential([
    new Conv2D({ outChannels: 4, kernelSize: 3, padding: 'same' }), new ReLU(), new BatchNorm(), new Scale(),
    new DepthwiseConv2D({ kernelSize: 3, padding: 'same' }), new MaxPool2D({ kernelSize: 2 }), new Flatten(), new Dense({ units: 5 }),
  ], { inputShape: [6, 6, 2], seed: 3 });
}

const x = Tensor.randn([3, 6, 6, 2], { seed: 1 });
const labels = [0, 3, 4];

/** The step by hand: zeroGrad, forward, loss, backward, optimizer step. */
function manualStep(m: Sequential, opt: SGD): void {
  opt.zeroGrad(m.params());
  const out = m.forward(x, true);
  m.backward(softmaxCrossEntropy(out, labels).grad);
  opt.step(m.params());
}

function same(a: Sequential, b: Sequential, what: string): void {
  const pa = a.params();
  const pb = b.params();
  assert.equal(pa.length, pb.length);
  pa.forEach((p, i) => {
    assert.deepEqual(p.grad.data, pb[i].grad.data, `${what}: grad of params[${i}] ('${p.name}')`);
    assert.deepEqual(p.value.data, pb[i].value.data, `${what}: value of params[${i}] ('${p.name}')`);
    assert.equal(p.gradPending, false, `${what}: params[${i}] left flagged`);
  });
}

for (const backend of ['reference', 'wasm'] as const) {
  {
    test(`trainStep = zeroGrad + backward + step, bit for bit, with stale gradients (${backend})`, () => {
      setBackend(backend);
      const a = model();
      const b = model();
      a.fuse = false; // forward/backward never fuse: compare like with like
      const optA = new SGD({ lr: 0.1, momentum: 0.9 });
      const optB = new SGD({ lr: 0.1, momentum: 0.9 });
      for (let step = 0; step < 3; step++) {
        for (const p of [...a.params(), ...b.params()]) p.grad.data.fill(1e6); // stale values the step must not see
        a.trainStep(x, labels, optA);
        manualStep(b, optB);
        same(a, b, `step ${step}`);
      }
      setBackend('wasm');
    });
  }
}

test("a user's optimizer whose zeroGrad keeps the gradients accumulates them over steps", () => {
  setBackend('reference');
  class Accumulate extends SGD {
    override zeroGrad(): void {} // a user's gradient accumulation: grads carry over
  }
  const a = model();
  a.fuse = false;
  const lr0 = new Accumulate({ lr: 0 }); // lr 0: the weights stay, so every step's gradient is the same
  for (const p of a.params()) p.grad.data.fill(0);
  a.trainStep(x, labels, lr0);
  const once = a.params().map((p) => Float32Array.from(p.grad.data));
  a.trainStep(x, labels, lr0);
  a.params().forEach((p, i) => {
    const j = once[i].findIndex((v) => v !== 0);
    assert.ok(j >= 0, `params[${i}] has a zero gradient: nothing to compare`);
    // 2x, to float32 rounding (the user's layer adds term by term, so its sum rounds differently)
    assert.ok(Math.abs(p.grad.data[j] - 2 * once[i][j]) <= 1e-5 * Math.abs(once[i][j]), `params[${i}] ('${p.name}') did not accumulate: ${p.grad.data[j]} after 2 steps, ${once[i][j]} after 1`);
  });
  setBackend('wasm');
});

test('a step that throws leaves every gradient zeroed and none flagged', () => {
  setBackend('reference');
  const a = model();
  for (const p of a.params()) p.grad.data.fill(7);
  assert.throws(() => a.trainStep(x, [0, 1, 99], new SGD({ lr: 0.1 })), /label/);
  for (const p of a.params()) {
    assert.equal(p.gradPending, false);
    assert.ok(p.grad.data.every((v) => v === 0), `'${p.name}' kept stale values after a failed step`);
  }
  setBackend('wasm');
});
