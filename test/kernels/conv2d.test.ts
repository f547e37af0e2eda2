/**
 * conv2d / conv2dBackward: hand-computed cases (inputs 1..n), the seed 001 full-convolution identity,
 * and numeric gradient checks over seeded random configurations (titles are the configs).
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { Tensor } from '../../src/tensor/tensor.js';
import { conv2d, conv2dBackward } from '../../src/kernels/ops.js';
import { gradcheckOp } from '../../src/gradcheck.js';
import { assertClose } from '../helpers/assert-close.js';
import { randomConvConfig, convTitle, convOpts, tryConvInfo, type ConvConfig } from '../helpers/configs.js';
import { rng, randTensor } from '../helpers/tensors.js';

/** 1, 2, ..., n in the given shape (tfjs conv2d_test style). */
const iota = (shape: number[]): Tensor => Tensor.fromArray(Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, i) => i + 1), shape);

describe('conv2d forward, hand-computed', () => {
  test('x=[1,3,3,1] (1..9) w=[2,2,1,1] (1..4) valid: each output is a 2x2 window dotted with w', () => {
    const y = conv2d(iota([1, 3, 3, 1]), iota([2, 2, 1, 1]), null);
    assert.deepEqual(y.shape, [1, 2, 2, 1]);
    // x = [[1,2,3],[4,5,6],[7,8,9]], w = [[1,2],[3,4]]
    assertClose(y, [1 * 1 + 2 * 2 + 4 * 3 + 5 * 4, 2 * 1 + 3 * 2 + 5 * 3 + 6 * 4, 4 * 1 + 5 * 2 + 7 * 3 + 8 * 4, 5 * 1 + 6 * 2 + 8 * 3 + 9 * 4], {
      atol: 0,
      rtol: 0,
    });
  });

  test('x=[1,2,2,2] (1..8) w=[1,1,2,3] (1..6) with bias: y[p,oc] = b[oc] + x[p,0]·w[0,oc] + x[p,1]·w[1,oc]', () => {
    const b = Tensor.fromArray([0.5, -1, 2]);
    const y = conv2d(iota([1, 2, 2, 2]), iota([1, 1, 2, 3]), b);
    // pixels (x0, x1): (1,2) (3,4) (5,6) (7,8); w rows: ic0 = [1,2,3], ic1 = [4,5,6]
    const expected: number[] = [];
    for (const [a, c] of [[1, 2], [3, 4], [5, 6], [7, 8]]) expected.push(0.5 + a * 1 + c * 4, -1 + a * 2 + c * 5, 2 + a * 3 + c * 6);
    assert.deepEqual(y.shape, [1, 2, 2, 3]);
    assertClose(y, expected, { atol: 0, rtol: 0 });
  });

  test("x=[1,3,3,1] (1..9) w=[2,2,1,1] ones p=same: the odd total padding (1) goes bottom/right", () => {
    const y = conv2d(iota([1, 3, 3, 1]), Tensor.ones([2, 2, 1, 1]), null, { padding: 'same' });
    assert.deepEqual(y.shape, [1, 3, 3, 1]);
    // out[i][j] = x[i][j] + x[i][j+1] + x[i+1][j] + x[i+1][j+1], zero beyond the bottom/right edge
    assertClose(y, [1 + 2 + 4 + 5, 2 + 3 + 5 + 6, 3 + 6, 4 + 5 + 7 + 8, 5 + 6 + 8 + 9, 6 + 9, 7 + 8, 8 + 9, 9], { atol: 0, rtol: 0 });
  });

  test('x=[1,4,4,1] (1..16) w=[3,3,1,1] ones s=2 p=same: total padding (3-1)*2+3-4 = 1, top 0 bottom 1', () => {
    const y = conv2d(iota([1, 4, 4, 1]), Tensor.ones([3, 3, 1, 1]), null, { stride: 2, padding: 'same' });
    assert.deepEqual(y.shape, [1, 2, 2, 1]);
    // x rows: [1..4], [5..8], [9..12], [13..16]; windows start at rows/cols 0 and 2
    const expected = [1 + 2 + 3 + 5 + 6 + 7 + 9 + 10 + 11, 3 + 4 + 7 + 8 + 11 + 12, 9 + 10 + 11 + 13 + 14 + 15, 11 + 12 + 15 + 16];
    assertClose(y, expected, { atol: 0, rtol: 0 });
  });

  test('x=[1,5,5,1] (1..25) w=[3,3,1,1] ones s=2 p=same: even total padding 2 splits 1/1', () => {
    const y = conv2d(iota([1, 5, 5, 1]), Tensor.ones([3, 3, 1, 1]), null, { stride: 2, padding: 'same' });
    assert.deepEqual(y.shape, [1, 3, 3, 1]);
    // x[i][j] = 5i + j + 1; output (oy, ox) is centred on input (2oy, 2ox)
    const at = (i: number, j: number): number => (i >= 0 && i < 5 && j >= 0 && j < 5 ? 5 * i + j + 1 : 0);
    const expected: number[] = [];
    for (let oy = 0; oy < 3; oy++)
      for (let ox = 0; ox < 3; ox++) {
        let s = 0;
        for (let dy = -1; dy <= 1; dy++) for (let dx = -1; dx <= 1; dx++) s += at(2 * oy + dy, 2 * ox + dx);
        expected.push(s);
      }
    assertClose(y, expected, { atol: 0, rtol: 0 });
    assert.equal(y.get(0, 0, 0, 0), 1 + 2 + 6 + 7); // corner: only 4 real cells
  });

  test('x=[1,2,3,1] (1..6) w=[1,1,1,1]=2 p=[1,0,0,2]: one zero row on top, two zero columns on the right', () => {
    const y = conv2d(iota([1, 2, 3, 1]), Tensor.full([1, 1, 1, 1], 2), null, { padding: [1, 0, 0, 2] });
    assert.deepEqual(y.shape, [1, 3, 5, 1]);
    assertClose(y, [0, 0, 0, 0, 0, 2, 4, 6, 0, 0, 8, 10, 12, 0, 0], { atol: 0, rtol: 0 });
  });

  test('x=[1,1,5,1] (1..5) w=[1,2,1,1]=[1,10] d=[1,2]: taps two columns apart', () => {
    const y = conv2d(iota([1, 1, 5, 1]), Tensor.fromArray([1, 10], [1, 2, 1, 1]), null, { dilation: [1, 2] });
    assert.deepEqual(y.shape, [1, 1, 3, 1]);
    assertClose(y, [1 + 3 * 10, 2 + 4 * 10, 3 + 5 * 10], { atol: 0, rtol: 0 });
  });

  test('x=[1,1,7,1] (1..7) w=[1,2,1,1]=[1,10] s=[1,3] p=[0,0,1,0]: stride 3 from column -1', () => {
    const y = conv2d(iota([1, 1, 7, 1]), Tensor.fromArray([1, 10], [1, 2, 1, 1]), null, { stride: [1, 3], padding: [0, 0, 1, 0] });
    // padded row: 0 1 2 3 4 5 6 7; windows start at padded columns 0, 3, 6 → (0,1), (3,4), (6,7)
    assert.deepEqual(y.shape, [1, 1, 3, 1]);
    assertClose(y, [0 + 1 * 10, 3 + 4 * 10, 6 + 7 * 10], { atol: 0, rtol: 0 });
  });
});

/**
 * Seed 001, written independently of conv2d: plain loops over 2-D arrays.
 * full convolution: slide the 180°-rotated filter over dH zero-padded by (f - 1) on every side.
 */
function fullConvRot180(dH: number[][], F: number[][]): number[][] {
  const fh = F.length;
  const fw = F[0].length;
  const hh = dH.length;
  const hw = dH[0].length;
  const padded: number[][] = [];
  for (let i = 0; i < hh + 2 * (fh - 1); i++) {
    padded.push([]);
    for (let j = 0; j < hw + 2 * (fw - 1); j++) {
      const si = i - (fh - 1);
      const sj = j - (fw - 1);
      padded[i].push(si >= 0 && si < hh && sj >= 0 && sj < hw ? dH[si][sj] : 0);
    }
  }
  const rot = F.map((_, a) => F[0].map((__, b) => F[fh - 1 - a][fw - 1 - b]));
  const out: number[][] = [];
  for (let i = 0; i < hh + fh - 1; i++) {
    out.push([]);
    for (let j = 0; j < hw + fw - 1; j++) {
      let s = 0;
      for (let a = 0; a < fh; a++) for (let b = 0; b < fw; b++) s += padded[i + a][j + b] * rot[a][b];
      out[i].push(s);
    }
  }
  return out;
}

/** valid cross-correlation of X with K (the seed's conv_forward). */
function validConv(X: number[][], K: number[][]): number[][] {
  const out: number[][] = [];
  for (let h = 0; h <= X.length - K.length; h++) {
    out.push([]);
    for (let w = 0; w <= X[0].length - K[0].length; w++) {
      let s = 0;
      for (let a = 0; a < K.length; a++) for (let b = 0; b < K[0].length; b++) s += X[h + a][w + b] * K[a][b];
      out[h].push(s);
    }
  }
  return out;
}

const to2d = (t: Tensor): number[][] => (t.toArray() as number[][][][])[0].map((row) => row.map((px) => px[0]));
const from2d = (a: number[][]): Tensor => Tensor.fromArray(a.flat(), [1, a.length, a[0].length, 1]);

describe('seed 001: dX = full conv of dH with F rotated 180°, dF = valid conv of X with dH', () => {
  test('X 3x3, F 2x2 (the seed example)', () => {
    const X = [
      [1, 2, 3],
      [4, 5, 6],
      [7, 8, 9],
    ];
    const F = [
      [1, -2],
      [3, 0.5],
    ];
    const dH = [
      [0.5, -1],
      [2, 3],
    ];
    const x = from2d(X);
    const w = Tensor.fromArray(F.flat(), [2, 2, 1, 1]);
    assertClose(conv2d(x, w, null), validConv(X, F).flat(), { atol: 1e-6, label: 'H' });
    const { dx, dw, db } = conv2dBackward(from2d(dH), x, w);
    const dX = fullConvRot180(dH, F);
    // spot check of the identity by hand: dX[0][0] = dH[0][0]·F[0][0]; dX[2][2] = dH[1][1]·F[1][1]
    assert.equal(dX[0][0], 0.5 * 1);
    assert.equal(dX[2][2], 3 * 0.5);
    assertClose(to2d(dx).flat(), dX.flat(), { atol: 1e-6, label: 'dX' });
    assertClose(to2d(dw.reshape([1, 2, 2, 1])).flat(), validConv(X, dH).flat(), { atol: 1e-6, label: 'dF' });
    assertClose(db, [0.5 - 1 + 2 + 3], { atol: 1e-6, label: 'db' });
  });

  const r = rng(1001);
  for (let k = 0; k < 6; k++) {
    const xh = 2 + r.int(5);
    const xw = 2 + r.int(5);
    const fh = 1 + r.int(xh);
    const fw = 1 + r.int(xw);
    const X = Array.from({ length: xh }, () => Array.from({ length: xw }, () => Math.fround(r.uniform(-1, 1))));
    const F = Array.from({ length: fh }, () => Array.from({ length: fw }, () => Math.fround(r.uniform(-1, 1))));
    const dH = Array.from({ length: xh - fh + 1 }, () => Array.from({ length: xw - fw + 1 }, () => Math.fround(r.uniform(-1, 1))));
    test(`x=[1,${xh},${xw},1] w=[${fh},${fw},1,1] s=[1,1] d=[1,1] p=valid`, () => {
      const { dx, dw } = conv2dBackward(from2d(dH), from2d(X), Tensor.fromArray(F.flat(), [fh, fw, 1, 1]));
      assertClose(to2d(dx).flat(), fullConvRot180(dH, F).flat(), { atol: 1e-5, label: 'dX' });
      assertClose(dw.data, validConv(X, dH).flat(), { atol: 1e-5, label: 'dF' });
    });
  }
});

/** Configs that force every feature the random ones must cover (the coverage test below checks it). */
const forced: ConvConfig[] = [
  { xShape: [1, 5, 7, 1], wShape: [3, 2, 1, 4], stride: [2, 1], dilation: [1, 2], padding: [1, 0, 2, 1], bias: true },
  { xShape: [2, 6, 5, 2], wShape: [2, 2, 2, 3], stride: [1, 1], dilation: [1, 1], padding: 'same', bias: true }, // odd totals
  { xShape: [1, 6, 6, 3], wShape: [3, 3, 3, 2], stride: [1, 1], dilation: [1, 1], padding: 'same', bias: true }, // even totals
  { xShape: [1, 7, 8, 2], wShape: [4, 1, 2, 2], stride: [3, 2], dilation: [1, 1], padding: 'same', bias: false },
  { xShape: [2, 9, 8, 1], wShape: [3, 2, 1, 2], stride: [1, 1], dilation: [3, 3], padding: 'valid', bias: true },
  { xShape: [1, 7, 7, 2], wShape: [2, 3, 2, 1], stride: [2, 3], dilation: [2, 2], padding: 'same', bias: true },
  { xShape: [1, 5, 4, 3], wShape: [1, 1, 3, 2], stride: [2, 2], dilation: [1, 1], padding: 'valid', bias: true }, // 1x1 kernel
  { xShape: [2, 3, 4, 2], wShape: [1, 1, 2, 3], stride: [1, 1], dilation: [1, 1], padding: [0, 1, 2, 0], bias: true },
  { xShape: [1, 1, 1, 1], wShape: [1, 1, 1, 1], stride: [1, 1], dilation: [1, 1], padding: 'valid', bias: true }, // 1x1 image
  { xShape: [1, 2, 3, 1], wShape: [3, 3, 1, 1], stride: [3, 3], dilation: [1, 1], padding: 1, bias: true }, // window over every edge
];
const r = rng(20240);
const randomConfigs = Array.from({ length: 40 }, () => randomConvConfig(r));
const configs = [...forced, ...randomConfigs];

describe('conv2d gradient check (dx, dw, db) against central differences', () => {
  configs.forEach((cfg, i) => {
    test(convTitle(cfg), () => {
      const cr = rng(5000 + i);
      const x = randTensor(cfg.xShape, cr);
      const w = randTensor(cfg.wShape, cr);
      const b = cfg.bias ? randTensor([cfg.wShape[3]], cr) : null;
      const o = convOpts(cfg);
      const inputs: Record<string, Tensor> = b ? { x, w, b } : { x, w };
      const rep = gradcheckOp(
        () => conv2d(x, w, b, o),
        (dy) => conv2dBackward(dy, x, w, o),
        inputs,
        { seed: i },
      );
      assert.ok(rep.ok, `seed 20240 config #${i}: ${rep.message}`);
      assert.equal(rep.checked, x.size + w.size + (b ? b.size : 0));
    });
  });

  test('the configurations cover every required feature', () => {
    const has = (pred: (c: ConvConfig) => boolean): boolean => configs.some(pred);
    const info = (c: ConvConfig) => tryConvInfo(c)!;
    const features: Record<string, (c: ConvConfig) => boolean> = {
      'stride 1': (c) => c.stride.includes(1),
      'stride 2': (c) => c.stride.includes(2),
      'stride 3': (c) => c.stride.includes(3),
      "'same' with an odd total": (c) => c.padding === 'same' && ((info(c).padTop + info(c).padBottom) % 2 === 1 || (info(c).padLeft + info(c).padRight) % 2 === 1),
      "'same' with an even non-zero total": (c) => c.padding === 'same' && info(c).padTop + info(c).padBottom > 0 && (info(c).padTop + info(c).padBottom) % 2 === 0,
      'explicit asymmetric [t,b,l,r]': (c) => Array.isArray(c.padding) && c.padding.length === 4 && (c.padding[0] !== c.padding[1] || c.padding[2] !== c.padding[3]),
      'dilation 2': (c) => c.dilation.includes(2),
      'dilation 3': (c) => c.dilation.includes(3),
      'non-square input': (c) => c.xShape[1] !== c.xShape[2],
      'non-square kernel': (c) => c.wShape[0] !== c.wShape[1],
      '1x1 kernel': (c) => c.wShape[0] === 1 && c.wShape[1] === 1,
      'N=1': (c) => c.xShape[0] === 1,
      'N>1': (c) => c.xShape[0] > 1,
      'Cin=1': (c) => c.xShape[3] === 1,
      'Cin>1 and Cout>1': (c) => c.xShape[3] > 1 && c.wShape[3] > 1,
      'no bias': (c) => !c.bias,
      'random configs hit dilation > 1': () => randomConfigs.some((c) => c.dilation[0] > 1 || c.dilation[1] > 1),
      "random configs hit 'same'": () => randomConfigs.some((c) => c.padding === 'same'),
    };
    const missing = Object.entries(features).filter(([, pred]) => !has(pred)).map(([name]) => name);
    assert.deepEqual(missing, []);
  });

  test('a broken backward is caught: dx scaled by 1.05 fails with the worst element named', () => {
    const cfg = forced[0];
    const cr = rng(77);
    const x = randTensor(cfg.xShape, cr);
    const w = randTensor(cfg.wShape, cr);
    const o = convOpts(cfg);
    const rep = gradcheckOp(
      () => conv2d(x, w, null, o),
      (dy) => {
        const g = conv2dBackward(dy, x, w, o);
        return { x: new Tensor(g.dx.data.map((v) => v * 1.05), g.dx.shape), w: g.dw };
      },
      { x, w },
    );
    assert.equal(rep.ok, false);
    assert.equal(rep.worst?.tensor, 'x');
    assert.match(rep.message, /FAILED.*tensor 'x' index \d+ \(coords \[0, \d, \d, 0\]\)/);
  });
});
