/**
 * trainingCurvesSvg draws well-formed, self-contained SVG: every element closed, text escaped, one
 * polyline point per finite value, points on the axes' scales, nice ticks covering the data, the
 * same bytes for the same history; and librsvg (through sharp) renders it with the series colours
 * where the points are.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import { Rng } from '../../src/tensor/random.js';
import { trainingCurvesSvg, niceTicks, escapeXml, batchEpoch, type TrainingCurveEpoch } from '../../src/viz/plot.js';

interface Element {
  name: string;
  attrs: Record<string, string>;
  /** Text directly inside the element (entities left as written). */
  text: string;
  children: Element[];
}

/**
 * A strict little XML reader for what the plot writes: elements, attributes in double quotes, text,
 * and the entities &amp; &lt; &gt; &quot; &#39;. Throws on anything else: an unclosed or misnested tag, a raw
 * '<' or '&' in text, a '"' or '<' inside an attribute, a second root.
 */
function parseXml(src: string): Element {
  const root: Element = { name: '#document', attrs: {}, text: '', children: [] };
  const stack: Element[] = [root];
  const entity = /^&(amp|lt|gt|quot|#39);/;
  const checkText = (t: string, where: string) => {
    for (let i = 0; i < t.length; i++) {
      if (t[i] === '<' || t[i] === '>') throw new Error(`raw '${t[i]}' in ${where}: ${JSON.stringify(t)}`);
      if (t[i] === '&' && !entity.test(t.slice(i))) throw new Error(`raw '&' in ${where}: ${JSON.stringify(t)}`);
    }
  };
  let i = 0;
  while (i < src.length) {
    if (src[i] !== '<') {
      const end = src.indexOf('<', i);
      const text = src.slice(i, end === -1 ? src.length : end);
      checkText(text, `text of <${stack[stack.length - 1].name}>`);
      if (stack.length === 1 && text.trim() !== '') throw new Error(`text outside the root: ${JSON.stringify(text)}`);
      stack[stack.length - 1].text += text;
      i = end === -1 ? src.length : end;
      continue;
    }
    const close = src.indexOf('>', i);
    if (close === -1) throw new Error(`unterminated tag at ${i}`);
    const tag = src.slice(i + 1, close);
    i = close + 1;
    if (tag.startsWith('/')) {
      const top = stack.pop()!;
      if (top.name !== tag.slice(1)) throw new Error(`</${tag.slice(1)}> closes <${top.name}>`);
      continue;
    }
    const selfClosing = tag.endsWith('/');
    const body = selfClosing ? tag.slice(0, -1) : tag;
    const m = /^([a-zA-Z][\w:-]*)((?:\s+[\w:-]+="[^"<]*")*)\s*$/.exec(body);
    if (!m) throw new Error(`malformed tag <${tag}>`);
    const el: Element = { name: m[1], attrs: {}, text: '', children: [] };
    for (const a of m[2].matchAll(/([\w:-]+)="([^"]*)"/g)) {
      if (a[1] in el.attrs) throw new Error(`duplicate attribute ${a[1]} in <${el.name}>`);
      checkText(a[2], `attribute ${a[1]} of <${el.name}>`);
      el.attrs[a[1]] = a[2];
    }
    if (stack.length === 1 && root.children.length > 0) throw new Error('a second root element');
    stack[stack.length - 1].children.push(el);
    if (!selfClosing) stack.push(el);
  }
  if (stack.length !== 1) throw new Error(`unclosed <${stack[stack.length - 1].name}>`);
  return root.children[0];
}

function all(el: Element, pred: (e: Element) => boolean, out: Element[] = []): Element[] {
  if (pred(el)) out.push(el);
  for (const c of el.children) all(c, pred, out);
  return out;
}

/** The polyline of a series as [x, y] pairs. */
function seriesPoints(svg: Element, id: string): number[][] {
  const groups = all(svg, (e) => e.attrs['data-series'] === id);
  assert.equal(groups.length, 1, `one group for series ${id}`);
  const line = groups[0].children.find((c) => c.name === 'polyline');
  assert.ok(line, `series ${id} has a polyline`);
  return line.attrs.points.split(' ').map((p) => p.split(',').map(Number));
}

/** The y-axis ticks of a panel: [value as printed, y of the grid line]. */
function yTicks(svg: Element, panel: string): { label: string; y: number }[] {
  const g = all(svg, (e) => e.attrs['data-panel'] === panel)[0];
  const axis = all(g, (e) => e.attrs.class === 'y-axis')[0];
  const lines = axis.children.filter((c) => c.name === 'line');
  const texts = axis.children.filter((c) => c.name === 'text');
  assert.equal(lines.length, texts.length);
  return texts.map((t, k) => ({ label: t.text, y: Number(lines[k].attrs.y1) }));
}

const texts = (svg: Element) => all(svg, (e) => e.name === 'text' || e.name === 'tspan').map((e) => e.text);

/** A 7-epoch run with gaps: validation only on some epochs, one NaN training accuracy, one infinite validation loss. */
function history(): TrainingCurveEpoch[] {
  return [1, 2, 3, 4, 5, 6, 7].map((epoch) => ({
    epoch,
    trainLoss: 2 / epoch,
    trainAccuracy: epoch === 4 ? NaN : 0.5 + epoch * 0.06,
    valLoss: epoch % 3 === 0 ? undefined : epoch === 5 ? Infinity : 2.2 / epoch + 0.1,
    valAccuracy: epoch % 3 === 0 ? undefined : 0.45 + epoch * 0.05,
    testAccuracy: epoch === 7 ? 0.8 : undefined,
  }));
}

test('niceTicks: hand-worked ranges', () => {
  assert.deepEqual(niceTicks(0, 2.3).values, [0, 0.5, 1, 1.5, 2, 2.5]);
  // span 0.084 / 5 = 0.0168 → step 0.02; 0.9 ≤ 0.903 and 1.0 ≥ 0.987.
  assert.deepEqual(niceTicks(0.903, 0.987).values, [0.9, 0.92, 0.94, 0.96, 0.98, 1]);
  assert.deepEqual(niceTicks(-3, 7).values, [-4, -2, 0, 2, 4, 6, 8]);
  // Equal ends are widened: around 0 by 1, elsewhere by 10%.
  assert.deepEqual(niceTicks(0, 0).values, [-1, -0.5, 0, 0.5, 1]);
  const one = niceTicks(50, 50);
  assert.ok(one.min < 50 && one.max > 50, `${one.values}`);
  assert.throws(() => niceTicks(NaN, 1), /niceTicks: lo and hi must be finite numbers, got NaN and 1/);
  assert.throws(() => niceTicks(2, 1), /niceTicks: lo must be <= hi, got lo=2 > hi=1/);
});

test('niceTicks: 300 seeded ranges are covered by 3..11 ticks at a step of 1, 2 or 5 × 10^k, printed exactly', () => {
  const rng = new Rng(4);
  for (let k = 0; k < 300; k++) {
    const mag = 10 ** (rng.int(11) - 5);
    const a = rng.uniform(-1, 1) * mag;
    const b = a + rng.uniform(1e-3, 2) * mag;
    const t = niceTicks(a, b);
    const where = `case ${k}: [${a}, ${b}] → ${t.values.join(', ')}`;
    assert.ok(t.values[0] <= a && t.values[t.values.length - 1] >= b, `covers: ${where}`);
    assert.ok(t.values.length >= 3 && t.values.length <= 11, `count: ${where}`);
    const mant = t.step / 10 ** Math.floor(Math.log10(t.step) + 1e-12);
    assert.ok([1, 2, 5].some((m) => Math.abs(mant - m) < 1e-9), `step ${t.step}: ${where}`);
    for (let j = 0; j < t.values.length; j++) {
      const v = t.values[j];
      assert.ok(Math.abs(v / t.step - Math.round(v / t.step)) < 1e-6, `multiple of step: ${where}`);
      if (j > 0) assert.ok(Math.abs(v - t.values[j - 1] - t.step) < t.step * 1e-6, `even: ${where}`);
      // No 0.30000000000000004: the shortest printing has at most `decimals` digits after the point.
      const digits = (String(v).split('.')[1] ?? '').length;
      assert.ok(!String(v).includes('e') || Math.abs(v) < 1e-6 || Math.abs(v) >= 1e21, `plain: ${where}`);
      if (!String(v).includes('e')) assert.ok(digits <= t.decimals, `digits of ${v} > ${t.decimals}: ${where}`);
    }
  }
});

test('escapeXml escapes & < > " and drops control characters', () => {
  assert.equal(escapeXml(`a<b> & "c" 'd'\u0001`), 'a&lt;b&gt; &amp; &quot;c&quot; &#39;d&#39;');
});

test('the SVG is well formed, self-contained and escapes the title', () => {
  const title = 'run <1> & "best" </svg>';
  const src = trainingCurvesSvg(history(), { title });
  const svg = parseXml(src);
  assert.equal(svg.name, 'svg');
  assert.equal(svg.attrs.xmlns, 'http://www.w3.org/2000/svg');
  assert.equal(svg.attrs.width, '960');
  assert.equal(svg.attrs.viewBox, '0 0 960 420');
  assert.ok(!/<script|<image|<use|href=|@import|url\(|<style/i.test(src), 'no scripts, links, images or external styles');
  assert.ok(texts(svg).includes('run &lt;1&gt; &amp; &quot;best&quot; &lt;/svg&gt;'), 'escaped title as text');
  assert.ok(!src.includes(title));
});

test('one polyline point per finite value; axis titles, panels and legend entries', () => {
  const svg = parseXml(trainingCurvesSvg(history()));
  assert.equal(seriesPoints(svg, 'loss-train').length, 7);
  assert.equal(seriesPoints(svg, 'loss-val').length, 4); // epochs 3 and 6 have none, epoch 5 is infinite
  assert.equal(seriesPoints(svg, 'accuracy-train').length, 6); // epoch 4 is NaN
  assert.equal(seriesPoints(svg, 'accuracy-val').length, 5);
  assert.equal(seriesPoints(svg, 'accuracy-test').length, 1);
  assert.equal(all(svg, (e) => e.attrs['data-series'] === 'loss-batch').length, 0, 'no batch series without batches');
  // One marker per point.
  const markers = all(svg, (e) => e.attrs['data-series'] === 'loss-val')[0].children.filter((c) => c.name !== 'polyline');
  assert.equal(markers.length, 4);
  const t = texts(svg);
  assert.equal(t.filter((s) => s === 'epoch').length, 2);
  for (const s of ['loss', 'accuracy', 'Loss', 'Accuracy', 'train', 'validation', 'test']) assert.ok(t.includes(s), `text ${s}`);
  assert.equal(t.filter((s) => s.includes('1 NaN/infinite value not drawn')).length, 2, 'the NaN and the Infinity are reported, one per panel');
  // Epoch ticks 1..7.
  const xAxis = all(all(svg, (e) => e.attrs['data-panel'] === 'loss')[0], (e) => e.attrs.class === 'x-axis')[0];
  assert.deepEqual(xAxis.children.filter((c) => c.name === 'text').map((c) => c.text), ['1', '2', '3', '4', '5', '6', '7']);
});

test('points sit on the axes: equal epoch steps are equal x steps, values line up with their tick lines', () => {
  // Losses that are exactly tick values: 2, 1.5, 1, 0.5 → the ticks are 0, 0.5, 1, 1.5, 2.
  const h = [2, 1.5, 1, 0.5].map((trainLoss, i) => ({ epoch: i + 1, trainLoss, trainAccuracy: [0.5, 0.6, 0.7, 0.8][i] }));
  const svg = parseXml(trainingCurvesSvg(h));
  const ticks = yTicks(svg, 'loss');
  assert.deepEqual(ticks.map((t) => t.label), ['0.0', '0.5', '1.0', '1.5', '2.0']);
  const pts = seriesPoints(svg, 'loss-train');
  const yOf = (label: string) => ticks.find((t) => t.label === label)!.y;
  assert.deepEqual(pts.map((p) => p[1]), [yOf('2.0'), yOf('1.5'), yOf('1.0'), yOf('0.5')]);
  const dx = pts.slice(1).map((p, i) => p[0] - pts[i][0]);
  for (const d of dx) assert.ok(Math.abs(d - dx[0]) < 0.02 && dx[0] > 0, `x steps ${dx}`);
  // Accuracy ticks are percents covering 50%..80%.
  const acc = yTicks(svg, 'accuracy').map((t) => t.label);
  assert.ok(acc.every((l) => /^\d+(\.\d+)?%$/.test(l)), `${acc}`);
  assert.ok(parseFloat(acc[0]) <= 50 && parseFloat(acc[acc.length - 1]) >= 80, `${acc}`);
  const apts = seriesPoints(svg, 'accuracy-train');
  assert.ok(apts[0][1] > apts[3][1], 'higher accuracy is higher up');
});

test('the loss ticks start at 0 and cover the largest loss, per-batch values included', () => {
  const rng = new Rng(9);
  const h = [1, 2, 3].map((epoch) => ({ epoch, trainLoss: 1 / epoch }));
  const batches = Array.from({ length: 30 }, (_, i) => ({ epoch: batchEpoch(Math.floor(i / 10) + 1, i % 10, 10), loss: 1.5 + rng.uniform(0, 2.1) }));
  const max = Math.max(...batches.map((b) => b.loss));
  const svg = parseXml(trainingCurvesSvg(h, { batches }));
  const values = yTicks(svg, 'loss').map((t) => Number(t.label));
  assert.equal(values[0], 0);
  assert.ok(values[values.length - 1] >= max, `${values} cover ${max}`);
  assert.equal(seriesPoints(svg, 'loss-batch').length, 30);
  // Batch 10 of 10 in epoch 1 sits exactly at epoch 1's marker.
  assert.equal(batchEpoch(1, 9, 10), 1);
  assert.equal(seriesPoints(svg, 'loss-batch')[9][0], seriesPoints(svg, 'loss-train')[0][0]);
});

test('the "lowest val loss" line marks the best epoch once validation loss rises, and not before', () => {
  const rising = [1.0, 0.6, 0.5, 0.55, 0.7].map((valLoss, i) => ({ epoch: i + 1, trainLoss: 1 / (i + 1), valLoss, trainAccuracy: 0.5 + i / 10 }));
  const svg = parseXml(trainingCurvesSvg(rising));
  const lines = all(svg, (e) => e.attrs.class === 'best');
  assert.equal(lines.length, 2, 'one per panel');
  const x3 = seriesPoints(svg, 'loss-val')[2][0];
  assert.equal(Number(lines[0].attrs.x1), x3, 'at epoch 3, the lowest');
  assert.ok(texts(svg).includes('lowest val loss'), 'in the legend');
  const falling = parseXml(trainingCurvesSvg(rising.slice(0, 3)));
  assert.equal(all(falling, (e) => e.attrs.class === 'best').length, 0);
  assert.ok(!texts(falling).includes('lowest val loss'));
  assert.equal(all(parseXml(trainingCurvesSvg(rising, { markBest: false })), (e) => e.attrs.class === 'best').length, 0);
});

test('a single epoch, only batches, no accuracy: still a picture', () => {
  const one = parseXml(trainingCurvesSvg([{ epoch: 1, trainLoss: 0.7, trainAccuracy: 0.6 }]));
  assert.equal(seriesPoints(one, 'loss-train').length, 1);
  const [x, y] = seriesPoints(one, 'loss-train')[0];
  assert.ok(Number.isFinite(x) && Number.isFinite(y));
  const rect = all(all(one, (e) => e.attrs['data-panel'] === 'loss')[0], (e) => e.name === 'rect')[0];
  const mid = Number(rect.attrs.x) + Number(rect.attrs.width) / 2;
  assert.ok(Math.abs(x - mid) < 0.02, `a lone epoch is centred: ${x} vs ${mid}`);
  const batchesOnly = parseXml(trainingCurvesSvg([], { batches: [{ epoch: 0.5, loss: 2 }, { epoch: 1, loss: 1.8 }] }));
  assert.equal(seriesPoints(batchesOnly, 'loss-batch').length, 2);
  const noAcc = parseXml(trainingCurvesSvg([{ epoch: 1, trainLoss: 1 }, { epoch: 2, trainLoss: 0.5 }]));
  assert.ok(texts(noAcc).includes('no accuracy recorded'));
  assert.equal(all(noAcc, (e) => String(e.attrs['data-series']).startsWith('accuracy')).length, 0);
});

test('deterministic: same history (in any order) gives the same bytes; different history does not', () => {
  const h = history();
  const a = trainingCurvesSvg(h, { title: 't' });
  assert.equal(trainingCurvesSvg(history(), { title: 't' }), a);
  assert.equal(trainingCurvesSvg([...h].reverse(), { title: 't' }), a);
  h[2].trainLoss = 0.9;
  assert.notEqual(trainingCurvesSvg(h, { title: 't' }), a);
});

test('bad input names the argument', () => {
  assert.throws(() => trainingCurvesSvg([]), /trainingCurvesSvg: history must contain at least one epoch \(or opts\.batches at least one batch\), got 0/);
  assert.throws(() => trainingCurvesSvg([{ epoch: 1, trainLoss: 1 }, { epoch: 2 } as TrainingCurveEpoch]), /trainingCurvesSvg: history\[1\]\.trainLoss must be a number, got undefined/);
  assert.throws(() => trainingCurvesSvg([{ epoch: NaN, trainLoss: 1 }]), /history\[0\]\.epoch must be a finite number, got null/);
  assert.throws(() => trainingCurvesSvg([{ epoch: 1, trainLoss: 1, valAccuracy: '0.5' as unknown as number }]), /history\[0\]\.valAccuracy must be a number or undefined, got "0.5"/);
  assert.throws(() => trainingCurvesSvg([{ epoch: 1, trainLoss: 1 }], { width: 10 }), /trainingCurvesSvg: opts\.width must be a number >= 320, got 10/);
});

test('librsvg (sharp) renders it, with the train colour at a train marker and the validation colour at a validation marker', async () => {
  const h = [1, 2, 3, 4].map((epoch) => ({ epoch, trainLoss: 2 / epoch, valLoss: 3 / epoch, trainAccuracy: 0.2 * epoch, valAccuracy: 0.15 * epoch }));
  const src = trainingCurvesSvg(h);
  const svg = parseXml(src);
  const { data, info } = await sharp(Buffer.from(src)).raw().toBuffer({ resolveWithObject: true });
  assert.equal(info.width, 960);
  assert.equal(info.height, 420);
  const px = (x: number, y: number) => Array.from(data.subarray((Math.round(y) * info.width + Math.round(x)) * info.channels, (Math.round(y) * info.width + Math.round(x)) * info.channels + 3));
  const near = (a: number[], b: number[]) => a.every((v, k) => Math.abs(v - b[k]) <= 12);
  for (const [series, rgb] of [['loss-train', [0x00, 0x72, 0xb2]], ['loss-val', [0xd5, 0x5e, 0x00]], ['accuracy-val', [0xd5, 0x5e, 0x00]]] as const) {
    for (const [x, y] of seriesPoints(svg, series)) assert.ok(near(px(x, y), [...rgb]), `${series} at (${x}, ${y}) is ${px(x, y)}, expected ${rgb}`);
  }
  assert.deepEqual(px(3, 3), [255, 255, 255], 'white background');
});
