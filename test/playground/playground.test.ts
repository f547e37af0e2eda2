/**
 * Issue 8: the playground page, built with Vite's API exactly as `npm run playground:build` does,
 * served from 127.0.0.1 with COOP/COEP, and driven in Debian's Chromium through playwright-core.
 *
 * Every expected number is computed here, in Node, with the library (Sequential, edges, conv2d,
 * conv2dBackward, the pools), from what the page displays as its inputs: the test never asks the
 * page's own code what the answer should be. Each page must produce no console error, no page
 * error, no failed request and no request that leaves its origin.
 *
 * Screenshots at laptop (1280 x 800) and phone (390 x 844) widths: see harness.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import {
  Sequential,
  Tensor,
  avgPool2dBackward,
  conv2d,
  conv2dBackward,
  createPreset,
  edges,
  maxPool2dBackward,
  type LayerSpec,
  type SequentialSpec,
} from '../../src/index.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { LAPTOP, PHONE, open, shoot, site } from './harness.js';

const expectedRows = (spec: SequentialSpec) => {
  const m = Sequential.fromSpec(spec);
  return m.layers.map((l, i) => ({ shape: m.shapes[i].join(' × '), params: l.params().reduce((n, p) => n + p.value.size, 0).toLocaleString('en-US') }));
};

async function shownRows(page: Page): Promise<{ shape: string; params: string }[]> {
  return page.$$eval('li.layer', (lis) => lis.map((li) => ({ shape: li.querySelector('.shape')!.textContent!, params: li.querySelector('.params')!.textContent! })));
}

test('first screen: the builder shows the small preset with the library’s shapes, parameters and FLOPs; time to interactive', async () => {
  console.log(`# playground: vite build ${site.buildMs.toFixed(0)} ms; page weight ${(site.bytes / 1024).toFixed(1)} KB (${(site.gzipBytes / 1024).toFixed(1)} KB gzipped, digits included)`);
  const { page, problems, close } = await open('build');
  await page.waitForSelector('li.layer .shape:not(:empty)');
  const timing = await page.evaluate(() => {
    const n = performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming;
    return { interactive: performance.getEntriesByName('playground-interactive')[0].startTime, load: n.loadEventEnd };
  });
  console.log(`# playground: time to interactive ${timing.interactive.toFixed(0)} ms after navigation start (load event ${timing.load.toFixed(0)} ms)`);
  const model = createPreset('small', { inputShape: [28, 28, 1], numClasses: 10 });
  assert.deepEqual(await shownRows(page), expectedRows(model.toSpec()));
  assert.equal(await page.textContent('[data-stat="params"]'), model.paramCount().toLocaleString('en-US'));
  assert.equal(await page.textContent('[data-stat="flops"]'), `${(model.flops() / 1e6).toFixed(2)} M`);
  await page.waitForFunction(() => !document.getElementById('backend')!.textContent!.includes('…'));
  assert.match((await page.textContent('#backend'))!, /WebAssembly \w+, 2 threads/);
  await shoot(page, 'build-laptop');
  await page.setViewportSize(PHONE);
  await shoot(page, 'build-phone');
  assert.deepEqual(problems, []);
  await close();
});

test('first screen: one click on “Train this network”, in view at laptop and phone widths, trains the default net', async () => {
  for (const viewport of [LAPTOP, PHONE]) {
    const { page, problems, close } = await open('build', { viewport });
    const button = page.locator('#train-this');
    const box = (await button.boundingBox())!;
    assert.ok(box.y >= 0 && box.y + box.height <= viewport.height, `the button is on the first screen at ${viewport.width} px: ${JSON.stringify(box)}`);
    await button.click();
    await page.waitForSelector('#view-train', { state: 'visible' });
    await page.waitForFunction(() => Number(document.getElementById('view-train')!.dataset.steps) >= 5, null, { timeout: 30_000 });
    assert.equal(await page.getAttribute('#view-train', 'data-state'), 'training');
    assert.match((await page.textContent('#train-model'))!, new RegExp(`${createPreset('small', { inputShape: [28, 28, 1], numClasses: 10 }).paramCount().toLocaleString('en-US')} parameters`));
    assert.deepEqual(problems, []);
    await close();
  }
});

test('builder: adding a conv layer and editing it updates shapes and parameters to the library’s; an impossible shape shows the library’s reason', async () => {
  const { page, problems, close } = await open('build');
  await page.waitForSelector('li.layer .shape:not(:empty)');
  const base = createPreset('small', { inputShape: [28, 28, 1], numClasses: 10 }).toSpec();
  // Insert a conv before the Flatten (#6), as a user would: pick the type and position, press Add.
  await page.selectOption('select[name="add-type"]', 'Conv2D');
  await page.selectOption('select[name="add-pos"]', '6');
  await page.click('text=Add layer');
  const conv: LayerSpec = { type: 'Conv2D', config: { outChannels: 8, kernelSize: 3, stride: 1, padding: 'same', dilation: 1 } };
  const layers = [...base.config.layers];
  layers.splice(6, 0, conv);
  let spec: SequentialSpec = { ...base, config: { ...base.config, layers } };
  assert.deepEqual(await shownRows(page), expectedRows(spec));
  assert.equal(await page.textContent('li.layer[data-index="6"] .shape'), '4 × 4 × 8');
  // More filters: the parameter counts follow as the user types.
  await page.fill('input[name="6-outChannels"]', '12');
  layers[6] = { type: 'Conv2D', config: { ...conv.config, outChannels: 12 } };
  spec = { ...base, config: { ...base.config, layers } };
  assert.deepEqual(await shownRows(page), expectedRows(spec));
  assert.equal(await page.textContent('[data-stat="params"]'), Sequential.fromSpec(spec).paramCount().toLocaleString('en-US'));
  assert.equal(await page.isVisible('.build-error'), false);

  // A 20 x 20 pool on a 14 x 14 map cannot be built: the page says which layer and why, in the library's words.
  await page.fill('input[name="5-kernelSize"]', '20');
  layers[5] = { type: 'MaxPool2D', config: { kernelSize: 20 } };
  let reason = '';
  try {
    Sequential.fromSpec({ ...base, config: { ...base.config, layers } });
  } catch (e) {
    reason = (e as Error).message;
  }
  const detail = reason.split('cannot take input [14, 14, 16]: ')[1];
  assert.ok(detail, `the library should refuse the pool: ${reason}`);
  await page.waitForSelector('.build-error', { state: 'visible' });
  const shown = (await page.textContent('.build-error'))!;
  assert.ok(shown.includes('Layer 5 (MaxPool2D) cannot take an input of 14 × 14 × 16'), shown);
  assert.ok(shown.includes(detail), `expected the library's reason "${detail}" in "${shown}"`);
  assert.equal(await page.getAttribute('li.layer[data-index="5"]', 'class'), 'layer bad');
  assert.equal(await page.textContent('[data-stat="params"]'), '—');
  await shoot(page, 'build-error-laptop');
  await page.setViewportSize(PHONE);
  await shoot(page, 'build-error-phone');
  assert.deepEqual(problems, []);
  await close();
});

/** A canvas's pixels as gray bytes (its red channel; the page draws gray). */
async function canvasGray(page: Page, selector: string): Promise<{ width: number; height: number; gray: number[] }> {
  return page.$eval(selector, (c) => {
    const canvas = c as HTMLCanvasElement;
    const d = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
    const gray: number[] = [];
    for (let i = 0; i < d.length; i += 4) gray.push(d[i]);
    return { width: canvas.width, height: canvas.height, gray };
  });
}

test('edges: Sobel on the sample gives the pixels of edges() in Node; the formula and the stride follow conv2d', async () => {
  const { page, problems, close } = await open('edges');
  await page.waitForSelector('#edges-formula code');
  const orig = await canvasGray(page, 'canvas[aria-label="Original image"]');
  const img = new Tensor(Float32Array.from(orig.gray, (v) => v / 255), [1, orig.height, orig.width, 1]);
  const { magnitude } = edges(img, { operator: 'sobel' });
  let max = 0;
  for (const v of magnitude.data) max = Math.max(max, v);
  const res = await canvasGray(page, '#edges-result');
  assert.deepEqual([res.height, res.width], [magnitude.shape[1], magnitude.shape[2]]);
  let worst = 0;
  for (let i = 0; i < res.gray.length; i++) worst = Math.max(worst, Math.abs(res.gray[i] - Math.round((255 * magnitude.data[i]) / max)));
  assert.ok(worst <= 1, `edge pixels differ from edges() in Node by up to ${worst} gray levels`);
  assert.equal(await page.textContent('code[data-axis="h"]'), `⌊(${orig.height} + 2·0 − 3) / 1⌋ + 1 = ${orig.height - 2}`);
  await shoot(page, 'edges-laptop');
  await page.setViewportSize(PHONE);
  await shoot(page, 'edges-phone');
  await page.setViewportSize(LAPTOP);

  // Scharr x with padding 1 and stride 2: the output size is conv2d's, and the formula says so.
  await page.selectOption('select[name="edge-filter"]', 'scharr');
  await page.selectOption('select[name="edge-part"]', 'x');
  await page.selectOption('select[name="edge-padding"]', '1');
  await page.selectOption('select[name="edge-stride"]', '2');
  const w = new Tensor(Float32Array.from([-3, 0, 3, -10, 0, 10, -3, 0, 3]), [3, 3, 1, 1]);
  const gx = conv2d(img, w, null, { padding: 1, stride: 2 });
  const res2 = await canvasGray(page, '#edges-result');
  assert.deepEqual([res2.height, res2.width], [gx.shape[1], gx.shape[2]]);
  assert.equal(await page.textContent('code[data-axis="w"]'), `⌊(${orig.width} + 2·1 − 3) / 2⌋ + 1 = ${gx.shape[2]}`);
  let maxAbs = 0;
  for (const v of gx.data) maxAbs = Math.max(maxAbs, Math.abs(v));
  worst = 0;
  for (let i = 0; i < res2.gray.length; i++) worst = Math.max(worst, Math.abs(res2.gray[i] - Math.round(128 + (127 * gx.data[i]) / maxAbs)));
  assert.ok(worst <= 1, `Scharr x pixels differ from conv2d in Node by up to ${worst} gray levels`);
  assert.deepEqual(problems, []);
  await close();
});

/** Reads every channel of a named grid: cells in row-major order per channel, as numbers; padding cells skipped. */
async function readGrid(page: Page, name: string): Promise<{ channels: number; values: number[][] }> {
  const per = await page.$$eval(`table.grid[data-name="${name}"]`, (tables) =>
    tables.map((t) => Array.from(t.querySelectorAll('td:not(.pad)'), (td) => td.textContent!)),
  );
  return { channels: per.length, values: per.map((cells) => cells.map(Number)) };
}

/** Per-channel grids back to one NHWC/HWIO-ordered array. */
function interleave(g: { channels: number; values: number[][] }): Float32Array {
  const n = g.values[0].length;
  const out = new Float32Array(n * g.channels);
  for (let c = 0; c < g.channels; c++) for (let i = 0; i < n; i++) out[i * g.channels + c] = g.values[c][i];
  return out;
}

async function checkBackprop(page: Page, o: { n: number; c: number; f: number; stride: number; padding: number; dilation: number }): Promise<void> {
  const opts = { stride: o.stride, padding: o.padding, dilation: o.dilation };
  await page.click('#phase-forward');
  const x = new Tensor(interleave(await readGrid(page, 'A')), [1, o.n, o.n, o.c]);
  const w = new Tensor(interleave(await readGrid(page, 'W')), [o.f, o.f, o.c, 1]);
  const b = new Tensor(Float32Array.from((await readGrid(page, 'b')).values[0]), [1]);
  const z = conv2d(x, w, b, opts);
  const steps = Math.min(3, z.size);
  for (let k = 0; k < steps; k++) {
    assert.equal(Number(await page.getAttribute('#forward-value', 'data-value')), z.data[k], `forward window ${k}`);
    if (k < steps - 1) await page.click('#step-next');
  }
  const zShown = (await readGrid(page, 'Z')).values[0];
  for (let k = 0; k < steps; k++) assert.equal(zShown[k], z.data[k], `Z[${k}] as shown`);

  await page.click('#phase-backward');
  const dz = new Tensor(Float32Array.from((await readGrid(page, 'dZ')).values[0]), z.shape);
  const g = conv2dBackward(dz, x, w, opts);
  // Partial sums: after k steps, db is the sum of the first k values of dZ (eq. 3).
  let db = 0;
  for (let k = 0; k < Math.min(3, dz.size); k++) {
    db += dz.data[k];
    assert.equal((await readGrid(page, 'db')).values[0][0], db, `db after ${k + 1} steps`);
    if (k < dz.size - 1) await page.click('#step-next');
  }
  await page.click('#step-end');
  await page.waitForSelector('#backward-done');
  assert.deepEqual(Array.from(interleave(await readGrid(page, 'dA'))), Array.from(g.dx.data), 'dA after the last step = conv2dBackward dx');
  assert.deepEqual(Array.from(interleave(await readGrid(page, 'dW'))), Array.from(g.dw.data), 'dW after the last step = conv2dBackward dw');
  assert.equal((await readGrid(page, 'db')).values[0][0], g.db.data[0], 'db = conv2dBackward db');
  // Seed 001's shortcut, as displayed, is the same dA and dW.
  assert.deepEqual(Array.from(interleave(await readGrid(page, 'dAfull'))), Array.from(g.dx.data), 'full convolution with the rotated filter = dx');
  assert.deepEqual(Array.from(interleave(await readGrid(page, 'dWconv'))), Array.from(g.dw.data), 'input convolved with dZ = dw');
}

test('backprop: stepping shows conv2d’s Z and sums that end at conv2dBackward’s dA, dW, db; pools route as the library; the check passes', async () => {
  const { page, problems, close } = await open('backprop');
  await page.click('#step-next');
  await page.click('#step-next');
  await shoot(page, 'backprop-forward-laptop');
  await page.setViewportSize(PHONE);
  await shoot(page, 'backprop-forward-phone');
  await page.setViewportSize(LAPTOP);
  await checkBackprop(page, { n: 4, c: 1, f: 2, stride: 1, padding: 0, dilation: 1 });
  await page.click('#phase-backward');
  await page.click('#step-next');
  await shoot(page, 'backprop-backward-laptop');
  await page.setViewportSize(PHONE);
  await shoot(page, 'backprop-backward-phone');
  await page.setViewportSize(LAPTOP);

  // Max pool: the gradient goes to each window's maximum; average pool: a quarter to each cell.
  const px = new Tensor(Float32Array.from((await readGrid(page, 'poolX')).values[0]), [1, 4, 4, 1]);
  const pdy = new Tensor(Float32Array.from((await readGrid(page, 'poolDy')).values[0]), [1, 2, 2, 1]);
  assert.deepEqual((await readGrid(page, 'maxDx')).values[0], Array.from(maxPool2dBackward(pdy, px, { kernelSize: 2 }).data));
  assert.deepEqual((await readGrid(page, 'avgDx')).values[0], Array.from(avgPool2dBackward(pdy, px, { kernelSize: 2 }).data));

  // Two channels, a 3x3 filter, stride 2, padding 1, then dilation 2: same checks.
  await page.fill('input[name="x-n"]', '5');
  await page.fill('input[name="x-c"]', '2');
  await page.fill('input[name="x-f"]', '3');
  await page.fill('input[name="x-s"]', '2');
  await page.fill('input[name="x-p"]', '1');
  await checkBackprop(page, { n: 5, c: 2, f: 3, stride: 2, padding: 1, dilation: 1 });
  await page.fill('input[name="x-d"]', '2');
  await checkBackprop(page, { n: 5, c: 2, f: 3, stride: 2, padding: 1, dilation: 2 });

  await page.click('#check');
  await page.waitForSelector('#check-result[data-max-rel]');
  const rel = Number(await page.getAttribute('#check-result', 'data-max-rel'));
  assert.ok(rel >= 0 && rel < 1e-3, `largest relative error ${rel}`);
  assert.match((await page.textContent('#check-result'))!, /^Passed\./);
  assert.deepEqual(problems, []);
  await close();
});

test('edges: an uploaded PNG goes through the file input and gives the pixels of edges() in Node', async () => {
  // A 90 x 60 gray picture made here (R = G = B, so its gray levels are the bytes): a bright
  // rectangle, a diagonal ramp and a disc, with a seeded speckle.
  const [w, hh] = [90, 60];
  const gray = new Uint8Array(w * hh);
  let seed = 7;
  for (let y = 0; y < hh; y++) {
    for (let x = 0; x < w; x++) {
      seed = (seed * 1103515245 + 12345) >>> 0;
      let v = (x + 2 * y) % 64;
      if (x > 10 && x < 40 && y > 8 && y < 30) v = 220;
      if ((x - 65) ** 2 + (y - 38) ** 2 < 144) v = 150;
      gray[y * w + x] = v + (seed >>> 29);
    }
  }
  const dir = mkdtempSync(join(tmpdir(), 'stride-playground-upload-'));
  const file = join(dir, 'upload.png');
  const rgb = new Uint8Array(w * hh * 3);
  gray.forEach((v, i) => rgb.set([v, v, v], 3 * i));
  await sharp(Buffer.from(rgb), { raw: { width: w, height: hh, channels: 3 } }).png().toFile(file);
  const { page, problems, close } = await open('edges');
  try {
    await page.waitForSelector('#edges-formula code');
    await page.setInputFiles('#edges-upload', file);
    await page.waitForFunction(() => document.querySelector('canvas[aria-label="Original image"]')!.getAttribute('width') === '90');
    const orig = await canvasGray(page, 'canvas[aria-label="Original image"]');
    assert.deepEqual(orig.gray, Array.from(gray), 'the page shows the uploaded picture as it is');
    const img = new Tensor(Float32Array.from(gray, (v) => v / 255), [1, hh, w, 1]);
    const { magnitude } = edges(img, { operator: 'sobel' });
    let max = 0;
    for (const v of magnitude.data) max = Math.max(max, v);
    const res = await canvasGray(page, '#edges-result');
    assert.deepEqual([res.height, res.width], [hh - 2, w - 2]);
    let worst = 0;
    for (let i = 0; i < res.gray.length; i++) worst = Math.max(worst, Math.abs(res.gray[i] - Math.round((255 * magnitude.data[i]) / max)));
    assert.ok(worst <= 1, `edge pixels of the upload differ from edges() in Node by up to ${worst} gray levels`);
    assert.equal(await page.textContent('code[data-axis="w"]'), `⌊(${w} + 2·0 − 3) / 1⌋ + 1 = ${w - 2}`);
    await shoot(page, 'edges-upload-laptop');
    assert.deepEqual(problems, []);
  } finally {
    await close();
    rmSync(dir, { recursive: true, force: true });
  }
});

/** The focused element: its id (or tag and name), and whether its focus is visible (an outline, on it or on the label it stands for). */
async function focused(page: Page): Promise<{ key: string; visible: boolean; view: string | null }> {
  return page.evaluate(() => {
    const el = document.activeElement as HTMLElement;
    const shown = el instanceof HTMLInputElement && el.type === 'file' ? (document.querySelector(`label[for="${el.id}"]`) as HTMLElement) : el;
    const st = getComputedStyle(shown);
    return {
      key: el.id || `${el.tagName.toLowerCase()}${el.getAttribute('name') ? `[name=${el.getAttribute('name')}]` : ''}:${el.textContent!.trim().slice(0, 20)}`,
      visible: st.outlineStyle !== 'none' && parseFloat(st.outlineWidth) >= 2,
      view: el.closest('[role="tabpanel"]')?.id ?? null,
    };
  });
}

test('keyboard only: the tabs are a tablist (arrow keys, Home, End), every control of a view is reached by Tab with a visible focus, and a digit drawn with the keys gets a prediction', async () => {
  const { page, problems, close } = await open('build');
  await page.waitForSelector('li.layer .shape:not(:empty)');
  // Skip link, then the current tab (the only tab in the Tab order).
  await page.keyboard.press('Tab');
  await page.keyboard.press('Tab');
  let f = await focused(page);
  assert.equal(f.key, 'tab-build');
  assert.ok(f.visible, 'the focused tab shows its focus');
  assert.equal(await page.getAttribute('#views', 'role'), 'tablist');
  assert.deepEqual(await page.$$eval('#views [role="tab"]', (as) => as.map((a) => [a.getAttribute('aria-selected'), (a as HTMLElement).tabIndex])), [['true', 0], ...Array(5).fill(['false', -1])]);
  const moves: [string, string][] = [['ArrowRight', 'train'], ['ArrowRight', 'inside'], ['End', 'backprop'], ['ArrowRight', 'build'], ['ArrowLeft', 'backprop'], ['Home', 'build'], ['ArrowLeft', 'backprop'], ['ArrowLeft', 'edges']];
  for (const [key, view] of moves) {
    await page.keyboard.press(key);
    assert.equal((await focused(page)).key, `tab-${view}`, `${key} moves to ${view}`);
    await page.waitForSelector(`#view-${view}`, { state: 'visible' });
    assert.equal(await page.evaluate(() => location.hash), `#${view}`);
    assert.equal(await page.getAttribute(`#tab-${view}`, 'aria-selected'), 'true');
  }

  // Every control of these views is reached by Tab, each with a visible focus.
  for (const view of ['edges', 'backprop', 'train', 'build']) {
    await page.focus(`#tab-${view}`);
    await page.keyboard.press('Enter');
    await page.waitForSelector(`#view-${view}`, { state: 'visible' });
    const controls = await page.$$eval(`#view-${view} :is(button, input, select, a[href], [tabindex="0"])`, (els) =>
      els.filter((e) => !(e as HTMLButtonElement).disabled && ((e as HTMLElement).offsetParent !== null || (e as HTMLInputElement).type === 'file')).map((e) => e.id || `${e.tagName.toLowerCase()}${e.getAttribute('name') ? `[name=${e.getAttribute('name')}]` : ''}:${e.textContent!.trim().slice(0, 20)}`),
    );
    assert.ok(controls.length >= 3, `${view}: ${controls.join(', ')}`);
    const reached = new Set<string>();
    const unseen: string[] = [];
    for (let i = 0; i < controls.length + 5; i++) {
      await page.keyboard.press('Tab');
      f = await focused(page);
      if (f.view !== `view-${view}`) {
        if (reached.size > 0) break;
        continue;
      }
      reached.add(f.key);
      if (!f.visible) unseen.push(f.key);
    }
    assert.deepEqual(controls.filter((c) => !reached.has(c)), [], `${view}: every control is reached by Tab`);
    assert.deepEqual(unseen, [], `${view}: every focused control shows its focus`);
  }

  // Draw a "1" with the keys: the pen starts at the centre; up 5 steps, pen down, down 10 steps, pen up.
  await page.focus('#tab-build');
  await page.keyboard.press('End');
  await page.keyboard.press('ArrowLeft');
  await page.keyboard.press('ArrowLeft');
  await page.waitForSelector('#view-draw', { state: 'visible' });
  for (let i = 0; i < 10 && (await focused(page)).key !== 'draw-pad'; i++) await page.keyboard.press('Tab');
  f = await focused(page);
  assert.equal(f.key, 'draw-pad', 'the drawing pad is in the Tab order');
  assert.ok(f.visible, 'the pad shows its focus');
  assert.ok((await page.getAttribute('#draw-pad', 'aria-label'))!.includes('keyboard'));
  assert.equal(await page.getAttribute('#draw-pad', 'data-pen'), '140,140,up');
  for (let i = 0; i < 5; i++) await page.keyboard.press('ArrowUp');
  await page.keyboard.press('Space');
  for (let i = 0; i < 10; i++) await page.keyboard.press('ArrowDown');
  assert.equal(await page.getAttribute('#draw-pad', 'data-pen'), '140,210,down');
  await page.keyboard.press('Space');
  await page.waitForSelector('#draw-verdict[data-prediction]');
  await page.waitForFunction(() => document.querySelectorAll('#draw-bars li').length === 10);
  const pixels = (await page.getAttribute('#draw-pad', 'data-pixels'))!.split(',').map(Number);
  let cols = 0;
  for (let x = 0; x < 28; x++) if (pixels.some((v, i) => v > 0 && i % 28 === x)) cols++;
  let rows = 0;
  for (let y = 0; y < 28; y++) if (pixels.slice(y * 28, y * 28 + 28).some((v) => v > 0)) rows++;
  assert.ok(rows === 20 && cols < rows, `a vertical stroke, scaled to 20 rows: ${rows} rows, ${cols} columns`);
  const probs = await page.$$eval('#draw-bars li', (lis) => lis.map((li) => Number((li as HTMLElement).dataset.p)));
  assert.ok(Math.abs(probs.reduce((a, b) => a + b, 0) - 1) < 1e-4, `ten probabilities: ${probs.join(', ')}`);
  await shoot(page, 'draw-keyboard-laptop');
  // Delete clears the pad.
  await page.keyboard.press('Delete');
  assert.equal(await page.getAttribute('#draw-pad', 'data-pixels'), null);
  assert.equal(await page.getAttribute('#draw-verdict', 'data-prediction'), null);
  assert.deepEqual(problems, []);
  await close();
});
