/**
 * An independent oracle for depthwiseConv2d: TensorFlow.js's tf.depthwiseConv2d (cpu backend, a
 * devDependency used only in tests) and its gradients, on seeded random configs with strides,
 * dilations, every padding form, odd sizes, N = 1, C = 1 and M > 1. Filters are [fh, fw, C, M] in
 * both libraries, and output channel c * M + m in both.
 *
 * Where tfjs cannot be the oracle (as for conv2d, see tfjs-oracle.test.ts):
 * - its depthwise forward needs stride 1 when dilated ("Either strides or dilations must be 1"),
 *   so dilated configs use stride 1;
 * - its gradient refuses dilation ("dilation rates greater than 1 are not yet supported"), so
 *   dilated configs compare the forward with tf and gradcheck the backward.
 * Numeric padding is given to tf in its explicit form (tfjs sizes a numeric pad with the filter
 * height on both axes).
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { Tensor } from '../../src/tensor/tensor.js';
import type { Padding } from '../../src/kernels/conv-info.js';
import { depthwiseConv2d, depthwiseConv2dBackward } from '../../src/kernels/ops.js';
import { gradcheckOp } from '../../src/gradcheck.js';
import { assertClose } from '../helpers/assert-close.js';
import { randomConvConfig, convTitle, convOpts, tryConvInfo, randInt, type ConvConfig } from '../helpers/configs.js';
import { rng, randTensor } from '../helpers/tensors.js';

await tf.setBackend('cpu');
await tf.ready();

type TfPad = 'same' | 'valid' | [[number, number], [number, number], [number, number], [number, number]];

function tfPad(p: Padding): TfPad {
  if (p === 'same' || p === 'valid') return p;
  const [t, b, l, r] = typeof p === 'number' ? [p, p, p, p] : p.length === 2 ? [p[0], p[0], p[1], p[1]] : p;
  return [[0, 0], [t, b], [l, r], [0, 0]];
}

const toTf = (t: Tensor): tf.Tensor4D => tf.tensor4d(t.data, t.shape as [number, number, number, number]);
const fromTf = (t: tf.Tensor): Tensor => new Tensor(Float32Array.from(t.dataSync()), t.shape);
const tol = { atol: 1e-4, rtol: 1e-4 };

/** A valid config for tf, wShape read as [fh, fw, C, M]: M up to 3, C forced to 1 or N to 1 now and then. */
function tfConfig(r: ReturnType<typeof rng>, i: number, allowDilation: boolean): ConvConfig {
  for (;;) {
    const cfg = randomConvConfig(r, { maxDilation: allowDilation ? 3 : 1, maxSize: 9 });
    if (cfg.dilation[0] > 1 || cfg.dilation[1] > 1) cfg.stride = [1, 1];
    cfg.wShape[3] = randInt(r, 1, 3);
    if (i % 4 === 0) {
      cfg.xShape[3] = 1;
      cfg.wShape[2] = 1;
      cfg.wShape[3] = 2 + (i % 3 === 0 ? 1 : 0);
    }
    if (i % 3 === 1) cfg.xShape[0] = 1;
    if (tryConvInfo(cfg) !== null) return cfg;
  }
}

const r = rng(5150);
const cfgs = [...Array.from({ length: 28 }, (_, i) => tfConfig(r, i, false)), ...Array.from({ length: 10 }, (_, i) => tfConfig(r, i, true))];

describe('depthwiseConv2d vs tf.depthwiseConv2d', () => {
  cfgs.forEach((cfg, i) => {
    const dilated = cfg.dilation[0] > 1 || cfg.dilation[1] > 1;
    test(`${convTitle(cfg)}${dilated ? ' (forward vs tf, backward by gradcheck)' : ''}`, () => {
      const tr = rng(51500 + i);
      const x = randTensor(cfg.xShape, tr);
      const w = randTensor(cfg.wShape, tr);
      const outC = cfg.xShape[3] * cfg.wShape[3];
      const b = cfg.bias ? randTensor([outC], tr) : null;
      const o = convOpts(cfg);
      const pad = tfPad(cfg.padding);
      const y = depthwiseConv2d(x, w, b, o);
      tf.tidy(() => {
        let ty: tf.Tensor = tf.depthwiseConv2d(toTf(x), toTf(w), cfg.stride, pad, 'NHWC', cfg.dilation);
        if (b) ty = tf.add(ty, tf.tensor1d(b.data));
        assertClose(y, fromTf(ty), { ...tol, label: 'forward' });
      });
      if (dilated) {
        const rep = gradcheckOp(() => depthwiseConv2d(x, w, b, o), (g) => depthwiseConv2dBackward(g, x, w, o), b ? { x, w, b } : { x, w }, { seed: i });
        assert.ok(rep.ok, rep.message);
        return;
      }
      const dy = randTensor(y.shape, tr);
      const ours = depthwiseConv2dBackward(dy, x, w, o);
      tf.tidy(() => {
        const grads = tf.grads((a: tf.Tensor, f: tf.Tensor) => tf.depthwiseConv2d(a as tf.Tensor4D, f as tf.Tensor4D, cfg.stride, pad));
        const [tdx, tdw] = grads([toTf(x), toTf(w)], toTf(dy));
        assertClose(ours.dx, fromTf(tdx), { ...tol, label: 'dx' });
        assertClose(ours.dw, fromTf(tdw), { ...tol, label: 'dw' });
        assertClose(ours.db, fromTf(tf.sum(toTf(dy), [0, 1, 2])), { ...tol, label: 'db' });
      });
    });
  });

  test('the configs cover strides, dilations, padding forms, odd sizes, N = 1, C = 1 and M > 1', () => {
    const has = (f: (c: ConvConfig) => boolean) => cfgs.some(f);
    assert.ok(has((c) => c.stride[0] > 1 && c.stride[1] > 1), 'stride > 1 on both axes');
    assert.ok(has((c) => c.dilation[0] > 1 || c.dilation[1] > 1), 'dilation');
    for (const kind of ['same', 'valid']) assert.ok(has((c) => c.padding === kind), kind);
    assert.ok(has((c) => typeof c.padding === 'number' && c.padding > 0), 'a number');
    assert.ok(has((c) => Array.isArray(c.padding) && c.padding.length === 4 && c.padding[0] !== c.padding[1]), 'asymmetric [t, b, l, r]');
    assert.ok(has((c) => c.xShape[1] % 2 === 1 && c.xShape[2] % 2 === 1), 'odd H and W');
    assert.ok(has((c) => c.xShape[0] === 1), 'N = 1');
    assert.ok(has((c) => c.xShape[3] === 1 && c.wShape[3] > 1), 'C = 1, M > 1');
    assert.ok(has((c) => c.xShape[3] > 1 && c.wShape[3] > 1), 'C > 1, M > 1');
  });
});
