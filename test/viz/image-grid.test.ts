/**
 * Filter and feature-map grids: sizes and tile positions follow the documented formula
 * (x0 = sep + c·(tileW + sep)), one weight lights exactly its upscaled block in its tile with the
 * documented colour, separators and empty cells have the separator colour, normalisation handles
 * all-zero and constant inputs, and featureMaps returns one output per layer.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Tensor } from '../../src/tensor/tensor.js';
import { Sequential, Conv2D, ReLU, MaxPool2D, Flatten, Dense } from '../../src/index.js';
import { filterGrid, featureMapGrid, featureMaps, toRgba, defaultColumns, type PixelGrid } from '../../src/viz/image-grid.js';
import { divergingColor, viridisColor } from '../../src/viz/colormap.js';

// The documented end and middle colours (hex values written in the docs, not computed).
const RED = [0xb2, 0x18, 0x2b, 255];
const BLUE = [0x21, 0x66, 0xac, 255];
const ZERO = [0xf7, 0xf7, 0xf7, 255];
const SEP = [64, 64, 64, 255];
const VIRIDIS_LO = [0x44, 0x01, 0x54, 255];
const VIRIDIS_HI = [0xfd, 0xe7, 0x25, 255];

function px(g: PixelGrid, x: number, y: number): number[] {
  assert.ok(x >= 0 && x < g.width && y >= 0 && y < g.height, `(${x}, ${y}) inside ${g.width}×${g.height}`);
  const o = (y * g.width + x) * g.channels;
  return Array.from(g.data.subarray(o, o + g.channels));
}

/** Every pixel of the rectangle [x0, x0+w) × [y0, y0+h) has colour c. */
function assertBlock(g: PixelGrid, x0: number, y0: number, w: number, h: number, c: number[], what: string): void {
  for (let y = y0; y < y0 + h; y++) for (let x = x0; x < x0 + w; x++) assert.deepEqual(px(g, x, y), c, `${what} at (${x}, ${y})`);
}

/** Counts pixels of colour c. */
function count(g: PixelGrid, c: number[]): number {
  let n = 0;
  for (let i = 0; i < g.width * g.height; i++) if (c.every((v, k) => g.data[i * g.channels + k] === v)) n++;
  return n;
}

const hwio = (kH: number, kW: number, inC: number, outC: number, set: [number, number, number, number, number][]) => {
  const t = Tensor.zeros([kH, kW, inC, outC]);
  for (const [ky, kx, ic, oc, v] of set) t.data[((ky * kW + kx) * inC + ic) * outC + oc] = v;
  return t;
};

test('defaultColumns: a full grid when a divisor in [⌈√n⌉, 2√n] exists, else ⌈√n⌉', () => {
  assert.deepEqual([1, 2, 3, 4, 5, 6, 7, 8, 10, 12, 16, 32, 64].map(defaultColumns), [1, 2, 3, 2, 3, 3, 3, 4, 5, 4, 4, 8, 8]);
});

test('filterGrid [3,3,1,5] scale 4: 3×2 grid of 12 px tiles; one positive weight lights its 4×4 block in tile 4 red', () => {
  // Tile 4 → row 1, column 1 (3 columns). Its weight (ky=1, kx=2) covers x ∈ [x0+8, x0+12), y ∈ [y0+4, y0+8).
  const g = filterGrid(hwio(3, 3, 1, 5, [[1, 2, 0, 4, 0.7]]), { scale: 4 });
  assert.equal(g.channels, 4);
  assert.equal(g.width, 3 * 12 + 4 * 1);
  assert.equal(g.height, 2 * 12 + 3 * 1);
  assert.equal(g.data.length, g.width * g.height * 4);
  const x0 = 1 + 1 * (12 + 1);
  const y0 = 1 + 1 * (12 + 1);
  assertBlock(g, x0 + 8, y0 + 4, 4, 4, RED, 'the weight');
  assert.equal(count(g, RED), 16, 'nothing else is red');
  // Its neighbours in the same tile, and every other tile (all-zero filters, M = 0), are the zero colour.
  assert.deepEqual(px(g, x0 + 7, y0 + 4), ZERO);
  assert.deepEqual(px(g, x0 + 8, y0 + 3), ZERO);
  assertBlock(g, 1, 1, 12, 12, ZERO, 'tile 0');
  assertBlock(g, 1 + 2 * 13, 1, 12, 12, ZERO, 'tile 2');
  // Separators: the frame, the lines between tiles, and the empty sixth cell (row 1, column 2).
  for (let x = 0; x < g.width; x++) for (const y of [0, 13, 26]) assert.deepEqual(px(g, x, y), SEP, `row line at (${x}, ${y})`);
  for (let y = 0; y < g.height; y++) for (const x of [0, 13, 26, 39]) assert.deepEqual(px(g, x, y), SEP, `column line at (${x}, ${y})`);
  assertBlock(g, 1 + 2 * 13, 1 + 13, 12, 12, SEP, 'empty cell');
  assert.equal(count(g, SEP), g.width * g.height - 5 * 144);
});

test('filterGrid: negative weight is blue; per-filter vs global normalisation; separator 0 and colour options', () => {
  // Filter 0 has +1 at (0,0); filter 1 has -0.5 at (0,1), +0.25 at (1,0) and +0.125 at (1,1).
  const w = hwio(2, 2, 1, 2, [[0, 0, 0, 0, 1], [0, 1, 0, 1, -0.5], [1, 0, 0, 1, 0.25], [1, 1, 0, 1, 0.125]]);
  const per = filterGrid(w, { scale: 1, separator: 0 });
  assert.equal(per.width, 4);
  assert.equal(per.height, 2);
  assert.deepEqual(px(per, 0, 0), RED);
  assert.deepEqual(px(per, 3, 0), BLUE, 'per filter: -0.5 is the most negative of filter 1 → full blue');
  // t = 0.25 / 0.5 = 0.5 → u = 0.75 → the 7th of the 9 RdBu anchors, #F4A582.
  assert.deepEqual(px(per, 2, 1), [0xf4, 0xa5, 0x82, 255]);
  const glob = filterGrid(w, { scale: 1, separator: 0, normalize: 'global' });
  // Global M = 1, u = (t + 1) / 2 over 9 anchors 1/8 apart: -0.5 → u = 0.25 → the 3rd anchor #92C5DE;
  // 0.25 → u = 0.625 → the 6th anchor #FDDBC7; 0.125 → u = 0.5625 → halfway between #F7F7F7 and #FDDBC7.
  assert.deepEqual(px(glob, 3, 0), [0x92, 0xc5, 0xde, 255]);
  assert.deepEqual(px(glob, 2, 1), [0xfd, 0xdb, 0xc7, 255]);
  assert.deepEqual(px(glob, 3, 1), [Math.round((0xf7 + 0xfd) / 2), Math.round((0xf7 + 0xdb) / 2), Math.round((0xf7 + 0xc7) / 2), 255]);
  assert.deepEqual(px(per, 3, 1), [0xfd, 0xdb, 0xc7, 255], 'per filter: 0.125 / 0.5 = 0.25');
  const framed = filterGrid(w, { scale: 1, separator: 2, separatorColor: [10, 200, 30] });
  assert.equal(framed.width, 2 * 2 + 3 * 2);
  assert.deepEqual(px(framed, 1, 1), [10, 200, 30, 255]);
  assert.deepEqual(px(framed, 2, 2), RED);
});

test('filterGrid gray: one channel, -M black, 0 grey 128, +M white, black separators', () => {
  const g = filterGrid(hwio(1, 3, 1, 1, [[0, 0, 0, 0, -2], [0, 2, 0, 0, 2]]), { colormap: 'gray', scale: 2 });
  assert.equal(g.channels, 1);
  assert.equal(g.width, 3 * 2 + 2);
  assert.equal(g.height, 1 * 2 + 2);
  assert.deepEqual([px(g, 1, 1), px(g, 3, 1), px(g, 5, 2), px(g, 0, 0)], [[0], [128], [255], [0]]);
  assert.deepEqual(toRgba(g).data.subarray((1 * g.width + 5) * 4, (1 * g.width + 5) * 4 + 4), Uint8Array.of(255, 255, 255, 255));
  assert.equal(toRgba(g).channels, 4);
});

test('filterGrid Cin = 3: RGB tiles, input channels 0/1/2 → red/green/blue around mid-grey', () => {
  const g = filterGrid(hwio(1, 2, 3, 2, [[0, 0, 1, 0, 1], [0, 0, 2, 0, -1], [0, 1, 0, 1, 0.3]]), { scale: 1 });
  assert.equal(g.channels, 4);
  assert.equal(g.width, 2 * 2 + 3);
  assert.deepEqual(px(g, 1, 1), [128, 255, 0, 255], 'filter 0, pixel 0: R=0 → 128, G=+M → 255, B=-M → 0');
  assert.deepEqual(px(g, 2, 1), [128, 128, 128, 255], 'filter 0, pixel 1: all zero → mid-grey');
  assert.deepEqual(px(g, 5, 1), [255, 128, 128, 255], 'filter 1, pixel 1: R = +M');
  assert.throws(() => filterGrid(Tensor.zeros([3, 3, 2, 4]), { channels: 'rgb' }), /filterGrid: opts\.channels 'rgb' needs Cin = 3, got weight \[3, 3, 2, 4\] with Cin = 2/);
});

test('filterGrid Cin = 2: rows mode puts (ic, oc) at row ic, column oc; mean mode averages', () => {
  const w = hwio(2, 2, 2, 3, [[1, 1, 1, 2, 0.4], [0, 0, 0, 2, 0.4]]);
  const rows = filterGrid(w, { scale: 2, columns: 1 }); // columns is ignored in rows mode
  assert.equal(rows.width, 3 * 4 + 4);
  assert.equal(rows.height, 2 * 4 + 3);
  // (ic=1, oc=2): tile at x0 = 1 + 2·5 = 11, y0 = 1 + 1·5 = 6; pixel (1,1) → [x0+2, x0+4) × [y0+2, y0+4).
  assertBlock(rows, 11 + 2, 6 + 2, 2, 2, RED, 'ic=1 oc=2 (1,1)');
  // (ic=0, oc=2): pixel (0,0) at x0 = 11, y0 = 1.
  assertBlock(rows, 11, 1, 2, 2, RED, 'ic=0 oc=2 (0,0)');
  assert.equal(count(rows, RED), 8);
  const mean = filterGrid(w, { scale: 1, channels: 'mean', separator: 0 });
  assert.equal(mean.width, 3 * 2);
  assert.equal(mean.height, 2);
  // Filter 2's mean at (0,0) is 0.2 with M = 0.4: t = 0.5 → #F4A582.
  assert.deepEqual(px(mean, 4, 0), [0xf4, 0xa5, 0x82, 255]);
  assert.deepEqual(px(mean, 0, 0), ZERO);
});

test('filterGrid rejects bad input with the argument named', () => {
  assert.throws(() => filterGrid(Tensor.zeros([3, 3, 4])), /filterGrid: weight must have shape \[kH, kW, Cin, Cout\] \(HWIO\), got \[3, 3, 4\]/);
  assert.throws(() => filterGrid(Tensor.zeros([3, 3, 1, 4]), { scale: 1.5 }), /filterGrid: opts\.scale must be an integer >= 1, got 1\.5/);
  assert.throws(() => filterGrid(Tensor.zeros([3, 3, 1, 4]), { normalize: 'max' as 'global' }), /filterGrid: opts\.normalize must be one of 'per-filter', 'global', got "max"/);
  assert.throws(() => filterGrid(Tensor.zeros([3, 3, 1, 4]), { separatorColor: [0, 0, 300] }), /filterGrid: opts\.separatorColor must be \[r, g, b\] with integers 0\.\.255, got \[0,0,300\]/);
});

test('featureMapGrid [1,2,3,4] scale 2: 2×2 tiles in channel order, per-channel min → #440154, max → #FDE725', () => {
  const a = Tensor.zeros([1, 2, 3, 4]);
  const set = (y: number, x: number, c: number, v: number) => (a.data[(y * 3 + x) * 4 + c] = v);
  // Channel c: value c+1 at (y=1, x=2), else -c. Channel 3 has max at (0, 0) instead.
  for (let y = 0; y < 2; y++) for (let x = 0; x < 3; x++) for (let c = 0; c < 4; c++) set(y, x, c, -c);
  for (let c = 0; c < 3; c++) set(1, 2, c, c + 1);
  set(0, 0, 3, 10);
  const g = featureMapGrid(a, { scale: 2 });
  assert.equal(g.channels, 4);
  assert.equal(g.width, 2 * 6 + 3);
  assert.equal(g.height, 2 * 4 + 3);
  const origin = (c: number) => [1 + (c % 2) * 7, 1 + Math.floor(c / 2) * 5];
  for (let c = 0; c < 3; c++) {
    const [x0, y0] = origin(c);
    assertBlock(g, x0 + 4, y0 + 2, 2, 2, VIRIDIS_HI, `channel ${c} max`);
    assertBlock(g, x0, y0, 4, 2, VIRIDIS_LO, `channel ${c} row 0`);
  }
  const [x3, y3] = origin(3);
  assertBlock(g, x3, y3, 2, 2, VIRIDIS_HI, 'channel 3 max');
  assertBlock(g, x3 + 2, y3, 4, 4, VIRIDIS_LO, 'channel 3 rest');
  assert.deepEqual(px(g, 0, 0), [255, 255, 255, 255], 'white separators');
  assert.deepEqual(px(g, 7, 5), [255, 255, 255, 255]);
  // Global: channel 0's max (1) is low on the shared [-3, 10] scale.
  const glob = featureMapGrid(a, { scale: 1, normalize: 'global', separator: 0 });
  assert.deepEqual(px(glob, 2, 1), [...viridisColor(4 / 13), 255]);
});

test('featureMapGrid: constant, all-zero and NaN maps give the low colour, no garbage; gray maps span 0..255', () => {
  const a = Tensor.zeros([1, 3, 3, 3]);
  for (let p = 0; p < 9; p++) {
    a.data[p * 3] = 5; // channel 0: constant 5
    a.data[p * 3 + 1] = 0; // channel 1: dead ReLU
    a.data[p * 3 + 2] = p; // channel 2: 0..8
  }
  a.data[4 * 3 + 2] = NaN;
  const g = featureMapGrid(a, { scale: 1, separator: 0, columns: 3 });
  assertBlock(g, 0, 0, 6, 3, VIRIDIS_LO, 'constant and zero maps');
  assert.deepEqual(px(g, 6 + 1, 1), VIRIDIS_LO, 'NaN pixel');
  assert.deepEqual(px(g, 6 + 2, 2), VIRIDIS_HI, 'max of channel 2');
  assert.deepEqual(px(g, 6 + 1, 0), [...viridisColor(1 / 8), 255]);
  const gray = featureMapGrid(a, { scale: 1, separator: 0, columns: 3, colormap: 'gray' });
  assert.equal(gray.channels, 1);
  assert.deepEqual([px(gray, 6, 0), px(gray, 8, 2), px(gray, 7, 0), px(gray, 0, 0)], [[0], [255], [Math.round(255 / 8)], [0]]);
});

test('featureMapGrid: example picks the batch element; rank-2 outputs are refused', () => {
  const a = Tensor.zeros([2, 1, 2, 1]);
  a.data.set([0, 1, 1, 0]); // example 0: [0, 1]; example 1: [1, 0]
  const g0 = featureMapGrid(a, { scale: 1, separator: 0 });
  const g1 = featureMapGrid(a, { scale: 1, separator: 0, example: 1 });
  assert.deepEqual([px(g0, 0, 0), px(g0, 1, 0)], [VIRIDIS_LO, VIRIDIS_HI]);
  assert.deepEqual([px(g1, 0, 0), px(g1, 1, 0)], [VIRIDIS_HI, VIRIDIS_LO]);
  assert.throws(() => featureMapGrid(a, { example: 2 }), /featureMapGrid: opts\.example must be < N = 2, got 2/);
  assert.throws(() => featureMapGrid(Tensor.zeros([1, 10])), /featureMapGrid: activation must have shape \[N, H, W, C\] \(NHWC\), got \[1, 10\]/);
});

test('featureMaps: one entry per layer, in order, with names and the shapes Sequential inferred', () => {
  const model = new Sequential(
    [new Conv2D({ outChannels: 3, kernelSize: 3, padding: 'same' }), new ReLU(), new MaxPool2D({ kernelSize: 2 }), new Flatten(), new Dense({ units: 2 })],
    { inputShape: [6, 6, 1], seed: 5 },
  );
  const x = Tensor.randn([1, 6, 6, 1], { seed: 1 });
  const maps = featureMaps(model, x);
  assert.equal(maps.length, 5);
  assert.deepEqual(maps.map((m) => m.name), ['0-conv2d', '1-relu', '2-maxpool2d', '3-flatten', '4-dense']);
  assert.deepEqual(maps.map((m) => m.index), [0, 1, 2, 3, 4]);
  assert.equal(maps[0].label, model.layers[0].toString());
  maps.forEach((m, i) => assert.deepEqual(m.output.shape, [1, ...model.shapes[i]], m.name));
  // Each output is the layer applied to the previous one: ReLU of the conv output, and the last is the model's output.
  maps[1].output.data.forEach((v, k) => assert.equal(v, Math.max(0, maps[0].output.data[k])));
  assert.ok(maps[0].output.data.some((v) => v < 0), 'the conv output has negatives for ReLU to remove');
  assert.deepEqual(maps[4].output.data, model.forward(x, false).data);
  assert.throws(() => featureMaps(model, Tensor.zeros([1, 5, 6, 1])), /featureMaps: x must have shape \[N, 6, 6, 1\], got \[1, 5, 6, 1\]/);
  // Every image-shaped output can be drawn.
  for (const m of maps.filter((e) => e.output.rank === 4)) assert.ok(featureMapGrid(m.output).width > 0);
});

test('colormaps: zero is near-white, sign decides blue/red, viridis gets steadily lighter', () => {
  assert.deepEqual(divergingColor(0), [0xf7, 0xf7, 0xf7]);
  for (let k = 1; k <= 10; k++) {
    const [r, , b] = divergingColor(k / 10);
    const [r2, , b2] = divergingColor(-k / 10);
    assert.ok(r > b && b2 > r2, `t = ±${k / 10}`);
  }
  assert.deepEqual(divergingColor(5), divergingColor(1), 'clamped');
  const luma = (c: readonly number[]) => 0.299 * c[0] + 0.587 * c[1] + 0.114 * c[2];
  for (let k = 1; k <= 100; k++) assert.ok(luma(viridisColor(k / 100)) > luma(viridisColor((k - 1) / 100)), `viridis lighter at ${k / 100}`);
  assert.deepEqual(viridisColor(NaN), viridisColor(0));
});
