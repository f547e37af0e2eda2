/**
 * An independent oracle: TensorFlow.js (cpu backend, a devDependency used only in tests) must agree
 * with conv2d, conv2dBackward, maxPool2d(+Backward) and avgPool2d(+Backward) on seeded random shapes.
 *
 * Mapping: our 'same' / 'valid' are tf's; a number p, [p, q] and [t, b, l, r] become tf's explicit
 * form [[0, 0], [t, b], [l, r], [0, 0]] (tf's own numeric pad is wrong for non-square windows, see
 * tfPad). tf.grads gives conv2dBackpropInput/Filter.
 *
 * Where tfjs cannot be an oracle we check against gradcheck instead:
 * - tfjs has no gradient for dilated convolutions ("dilation rates greater than 1 are not yet
 *   supported in gradients"), and its dilated forward needs stride 1: dilated configs compare the
 *   forward only (at stride 1) and gradcheck the backward.
 * - tfjs's avg-pool gradient divides by the full window (filterHeight * filterWidth) while its
 *   forward divides by the number of real cells, so at padded borders tf's gradient is not the
 *   gradient of tf's own forward. Padded avg-pool configs are gradchecked, and the last test below
 *   demonstrates the discrepancy.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { Tensor } from '../../src/tensor/tensor.js';
import type { Padding } from '../../src/kernels/conv-info.js';
import { conv2d, conv2dBackward, maxPool2d, maxPool2dBackward, avgPool2d, avgPool2dBackward } from '../../src/kernels/ops.js';
import { gradcheck, gradcheckOp } from '../../src/gradcheck.js';
import { assertClose } from '../helpers/assert-close.js';
import { randomConvConfig, randomPoolConfig, convTitle, poolTitle, convOpts, poolOpts, tryConvInfo, tryPoolInfo, type ConvConfig } from '../helpers/configs.js';
import { rng, randTensor, distinctTensor } from '../helpers/tensors.js';

await tf.setBackend('cpu');
await tf.ready();

type TfPad = 'same' | 'valid' | number | [[number, number], [number, number], [number, number], [number, number]];

function tfPad(p: Padding): TfPad {
  if (p === 'same' || p === 'valid') return p;
  // Not tf's own number form: tfjs 4.22 sizes the output of a numeric pad with the filter HEIGHT and
  // stride HEIGHT on both axes (conv_util computeOutputShape2D), wrong for non-square windows.
  const [t, b, l, r] = typeof p === 'number' ? [p, p, p, p] : p.length === 2 ? [p[0], p[0], p[1], p[1]] : p;
  return [[0, 0], [t, b], [l, r], [0, 0]];
}

const toTf = (t: Tensor): tf.Tensor4D => tf.tensor4d(t.data, t.shape as [number, number, number, number]);
const fromTf = (t: tf.Tensor): Tensor => new Tensor(Float32Array.from(t.dataSync()), t.shape);
/** Runs tf code in a tidy scope and returns its result as one of our Tensors. */
function runTf(fn: () => tf.Tensor): Tensor {
  let shape: number[] = [];
  const data = tf.tidy(() => {
    const t = fn();
    shape = t.shape;
    return Float32Array.from(t.dataSync());
  }) as Float32Array;
  return new Tensor(data, shape);
}
const tol = { atol: 1e-4, rtol: 1e-4 };

/** Configs for tfjs: dilated ones get stride 1 (tfjs requires it). */
function tfConvConfig(r: ReturnType<typeof rng>, allowDilation: boolean): ConvConfig {
  for (;;) {
    const cfg = randomConvConfig(r, { maxDilation: allowDilation ? 3 : 1 });
    if (cfg.dilation[0] > 1 || cfg.dilation[1] > 1) cfg.stride = [1, 1];
    if (tryConvInfo(cfg) !== null) return cfg;
  }
}

describe('conv2d vs tfjs', () => {
  const r = rng(7007);
  const configs = [...Array.from({ length: 24 }, () => tfConvConfig(r, false)), ...Array.from({ length: 12 }, () => tfConvConfig(r, true))];
  configs.forEach((cfg, i) => {
    const dilated = cfg.dilation[0] > 1 || cfg.dilation[1] > 1;
    test(`${convTitle(cfg)}${dilated ? ' (forward vs tf, backward by gradcheck)' : ''}`, () => {
      const tr = rng(70070 + i);
      const x = randTensor(cfg.xShape, tr);
      const w = randTensor(cfg.wShape, tr);
      const b = cfg.bias ? randTensor([cfg.wShape[3]], tr) : null;
      const o = convOpts(cfg);
      const y = conv2d(x, w, b, o);
      const strides = cfg.stride;
      const pad = tfPad(cfg.padding);
      tf.tidy(() => {
        let ty: tf.Tensor = tf.conv2d(toTf(x), toTf(w), strides, pad, 'NHWC', cfg.dilation);
        if (b) ty = tf.add(ty, tf.tensor1d(b.data));
        assertClose(y, fromTf(ty), { ...tol, label: 'forward' });
      });
      const dy = randTensor(y.shape, tr);
      const ours = conv2dBackward(dy, x, w, o);
      if (dilated) {
        // tfjs: "dilation rates greater than 1 are not yet supported in gradients" → gradcheck instead
        const rep = gradcheckOp(() => conv2d(x, w, b, o), (g) => conv2dBackward(g, x, w, o), b ? { x, w, b } : { x, w }, { seed: i });
        assert.ok(rep.ok, rep.message);
        return;
      }
      tf.tidy(() => {
        const grads = tf.grads((a: tf.Tensor, f: tf.Tensor) => tf.conv2d(a as tf.Tensor4D, f as tf.Tensor4D, strides, pad));
        const [tdx, tdw] = grads([toTf(x), toTf(w)], toTf(dy));
        assertClose(ours.dx, fromTf(tdx), { ...tol, label: 'dx' });
        assertClose(ours.dw, fromTf(tdw), { ...tol, label: 'dw' });
        assertClose(ours.db, fromTf(tf.sum(toTf(dy), [0, 1, 2])), { ...tol, label: 'db' });
      });
    });
  });
});

describe('maxPool2d vs tfjs (inputs without ties)', () => {
  const r = rng(8008);
  Array.from({ length: 32 }, () => randomPoolConfig(r)).forEach((cfg, i) => {
    test(poolTitle(cfg), () => {
      const x = distinctTensor(cfg.xShape, rng(80080 + i), 0.05);
      const o = poolOpts(cfg);
      const y = maxPool2d(x, o);
      const dy = randTensor(y.shape, rng(80180 + i));
      tf.tidy(() => {
        const f = (a: tf.Tensor): tf.Tensor => tf.maxPool(a as tf.Tensor4D, cfg.kernelSize, cfg.stride, tfPad(cfg.padding));
        assertClose(y, fromTf(f(toTf(x))), { atol: 0, rtol: 0, label: 'forward' });
        assertClose(maxPool2dBackward(dy, x, o), fromTf(tf.grad(f)(toTf(x), toTf(dy))), { ...tol, label: 'dx' });
      });
    });
  });
});

describe('avgPool2d vs tfjs', () => {
  const r = rng(9009);
  const configs = Array.from({ length: 32 }, () => randomPoolConfig(r));
  configs.forEach((cfg, i) => {
    const info = tryPoolInfo(cfg)!;
    const padded = info.padTop + info.padBottom + info.padLeft + info.padRight > 0;
    test(`${poolTitle(cfg)}${padded ? ' (forward vs tf, backward by gradcheck)' : ''}`, () => {
      const x = randTensor(cfg.xShape, rng(90090 + i));
      const o = poolOpts(cfg);
      const y = avgPool2d(x, o);
      const dy = randTensor(y.shape, rng(90190 + i));
      const f = (a: tf.Tensor): tf.Tensor => tf.avgPool(a as tf.Tensor4D, cfg.kernelSize, cfg.stride, tfPad(cfg.padding));
      tf.tidy(() => assertClose(y, fromTf(f(toTf(x))), { ...tol, label: 'forward' }));
      if (padded) {
        // tf's avg-pool gradient divides by the full window at padded borders (see the file comment)
        const rep = gradcheckOp(() => avgPool2d(x, o), (g) => ({ x: avgPool2dBackward(g, x, o) }), { x }, { seed: i });
        assert.ok(rep.ok, rep.message);
        return;
      }
      tf.tidy(() => assertClose(avgPool2dBackward(dy, x, o), fromTf(tf.grad(f)(toTf(x), toTf(dy))), { ...tol, label: 'dx' }));
    });
  });

  test('the avg-pool configs include both padded and unpadded ones', () => {
    const padded = configs.filter((c) => {
      const inf = tryPoolInfo(c)!;
      return inf.padTop + inf.padBottom + inf.padLeft + inf.padRight > 0;
    }).length;
    assert.ok(padded >= 8 && configs.length - padded >= 8, `padded ${padded} of ${configs.length}`);
  });

  test("tfjs's avg-pool gradient at 'same' borders is not the gradient of its own forward; ours is", () => {
    const cfg = { kernelSize: [3, 3] as [number, number], stride: [1, 1] as [number, number], padding: 'same' as const };
    const x = randTensor([1, 4, 4, 1], rng(99));
    const r = randTensor([1, 4, 4, 1], rng(100)); // dy, and the loss L = Σ avgPool(x)·r
    const tfForwardLoss = (): number =>
      tf.tidy(() => {
        const yt = tf.avgPool(tf.tensor4d(x.data, [1, 4, 4, 1]), cfg.kernelSize, cfg.stride, 'same').dataSync();
        let s = 0;
        for (let i = 0; i < yt.length; i++) s += yt[i] * r.data[i];
        return s;
      });
    const tfGrad = runTf(() => tf.grad((a: tf.Tensor) => tf.avgPool(a as tf.Tensor4D, cfg.kernelSize, cfg.stride, 'same'))(toTf(x), toTf(r)));
    const ours = avgPool2dBackward(r, x, cfg);

    // tf's gradient fails a gradient check against tf's OWN forward...
    const tfRep = gradcheck(tfForwardLoss, [{ name: 'x', value: x, grad: tfGrad }]);
    assert.equal(tfRep.ok, false, `expected tf's avg-pool gradient to be inconsistent: ${tfRep.message}`);
    // ...while ours passes against tf's forward and our own.
    const oursVsTf = gradcheck(tfForwardLoss, [{ name: 'x', value: x, grad: ours }]);
    assert.ok(oursVsTf.ok, oursVsTf.message);
    const oursVsOurs = gradcheckOp(() => avgPool2d(x, cfg), (g) => ({ x: avgPool2dBackward(g, x, cfg) }), { x }, { dy: r });
    assert.ok(oursVsOurs.ok, oursVsOurs.message);

    // The difference is exactly the border count: at the corner (0,0) tf sends r/9 from each of the
    // four covering windows, whose forward divides by 4, 6, 6 and 9 real cells.
    const rr = (oy: number, ox: number): number => r.get(0, oy, ox, 0);
    const exactCorner = rr(0, 0) / 4 + rr(0, 1) / 6 + rr(1, 0) / 6 + rr(1, 1) / 9;
    const tfCorner = (rr(0, 0) + rr(0, 1) + rr(1, 0) + rr(1, 1)) / 9;
    assert.ok(Math.abs(ours.get(0, 0, 0, 0) - exactCorner) < 1e-6, `ours ${ours.get(0, 0, 0, 0)} vs ${exactCorner}`);
    assert.ok(Math.abs(tfGrad.get(0, 0, 0, 0) - tfCorner) < 1e-6, `tf ${tfGrad.get(0, 0, 0, 0)} vs ${tfCorner}`);
    // Without padded cells the two conventions coincide: a 'valid' pooling's gradients agree.
    const validOurs = avgPool2dBackward(Tensor.ones([1, 2, 2, 1]), x, { kernelSize: 3, stride: 1 });
    const validTf = runTf(() => tf.grad((a: tf.Tensor) => tf.avgPool(a as tf.Tensor4D, 3, 1, 'valid'))(toTf(x), tf.ones([1, 2, 2, 1])));
    assertClose(validOurs, validTf, { ...tol, label: 'valid avg-pool gradient agrees' });
  });
});
