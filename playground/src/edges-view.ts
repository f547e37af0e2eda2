/** Item 5, edge detection: controls, the formula with its numbers, the original and the result side by side. */
import { h, fill, num, selectField } from './dom.js';
import { formula, rgbaToGray, runEdges, sampleImage, toGrayBytes, type EdgeFilter, type EdgePart, type EdgeSettings, type Gray } from './edge-math.js';

/** Uploaded pictures are scaled to at most this many pixels on the long side (the conv runs in the page). */
const MAX_SIDE = 320;

function drawGray(canvas: HTMLCanvasElement, width: number, height: number, bytes: Uint8ClampedArray | Float32Array, fromUnit: boolean): void {
  canvas.width = width;
  canvas.height = height;
  const ctx = canvas.getContext('2d')!;
  const img = ctx.createImageData(width, height);
  for (let i = 0; i < width * height; i++) {
    const v = fromUnit ? Math.round(bytes[i] * 255) : bytes[i];
    img.data[4 * i] = v;
    img.data[4 * i + 1] = v;
    img.data[4 * i + 2] = v;
    img.data[4 * i + 3] = 255;
  }
  ctx.putImageData(img, 0, 0);
}

function kernelTable(name: string, k: number[][]): HTMLElement {
  return h('figure', { class: 'kernel' }, h('table', { class: 'grid' }, h('tbody', {}, ...k.map((row) => h('tr', {}, ...row.map((v) => h('td', { class: v > 0 ? 'pos' : v < 0 ? 'neg' : '' }, num(v))))))), h('figcaption', {}, name));
}

export function createEdges(): HTMLElement {
  let image: Gray = sampleImage();
  let source = 'sample scene (generated, 160 × 120)';
  const settings: EdgeSettings = { filter: 'sobel', part: 'magnitude', padding: 0, stride: 1, kernel: [[1, 0, -1], [1, 0, -1], [1, 0, -1]] };

  const original = h('canvas', { class: 'pic', 'aria-label': 'Original image', role: 'img' });
  const result = h('canvas', { class: 'pic', id: 'edges-result', 'aria-label': 'Filtered image', role: 'img' });
  const origCaption = h('figcaption', {});
  const resCaption = h('figcaption', { id: 'edges-caption' });
  const formulaBox = h('div', { class: 'formula', id: 'edges-formula', 'aria-live': 'polite' });
  const kernelsBox = h('div', { class: 'kernels' });
  const message = h('p', { class: 'build-error', role: 'alert', hidden: true });

  const custom = h('fieldset', { class: 'custom-kernel', hidden: true }, h('legend', {}, 'Your 3 × 3 kernel'));
  const cells: HTMLInputElement[] = [];
  const cellGrid = h('div', { class: 'cells' });
  for (let i = 0; i < 9; i++) {
    const input = h('input', { type: 'number', step: 0.5, value: settings.kernel[Math.floor(i / 3)][i % 3], 'aria-label': `kernel row ${Math.floor(i / 3) + 1} column ${(i % 3) + 1}`, name: `k${i}` });
    input.addEventListener('input', () => {
      settings.kernel[Math.floor(i / 3)][i % 3] = input.value.trim() === '' ? NaN : Number(input.value);
      run();
    });
    cells.push(input);
    cellGrid.append(input);
  }
  custom.append(cellGrid);

  const upload = h('input', { type: 'file', accept: 'image/*', id: 'edges-upload', class: 'visually-hidden' });
  upload.addEventListener('change', async () => {
    const file = upload.files?.[0];
    if (!file) return;
    try {
      const bitmap = await createImageBitmap(file);
      const scale = Math.min(1, MAX_SIDE / Math.max(bitmap.width, bitmap.height));
      const w = Math.max(3, Math.round(bitmap.width * scale));
      const hh = Math.max(3, Math.round(bitmap.height * scale));
      const c = new OffscreenCanvas(w, hh);
      const ctx = c.getContext('2d')!;
      ctx.drawImage(bitmap, 0, 0, w, hh);
      image = rgbaToGray(ctx.getImageData(0, 0, w, hh).data, w, hh);
      source = `${file.name} (${w} × ${hh}, gray)`;
      run();
    } catch (e) {
      message.textContent = `Could not read that image: ${(e as Error).message}`;
      message.hidden = false;
    }
  });

  function run(): void {
    drawGray(original, image.width, image.height, image.data, true);
    origCaption.textContent = source;
    custom.hidden = settings.filter !== 'custom';
    try {
      const out = runEdges(image, settings);
      const fh = formula(image.height, settings.padding, 3, settings.stride);
      const fw = formula(image.width, settings.padding, 3, settings.stride);
      if (fh.value !== out.height || fw.value !== out.width) {
        throw new Error(`output ${out.height} × ${out.width} does not match the formula ${fh.value} × ${fw.value}`);
      }
      drawGray(result, out.width, out.height, toGrayBytes(out), false);
      let max = 0;
      for (const v of out.values) max = Math.max(max, Math.abs(v));
      const what = settings.filter === 'custom' ? 'your kernel' : `${settings.filter === 'sobel' ? 'Sobel' : 'Scharr'} ${settings.part === 'magnitude' ? '|G| = √(Gx² + Gy²)' : settings.part === 'x' ? 'Gx (vertical edges)' : 'Gy (horizontal edges)'}`;
      resCaption.textContent = `${what}: ${out.width} × ${out.height}, max |value| ${num(max)}`;
      result.dataset.width = String(out.width);
      result.dataset.height = String(out.height);
      fill(
        formulaBox,
        h('p', { class: 'eq' }, 'output = ⌊(n + 2p − f) / s⌋ + 1'),
        h('p', {}, h('span', { class: 'axis' }, 'height'), h('code', { 'data-axis': 'h' }, fh.text)),
        h('p', {}, h('span', { class: 'axis' }, 'width'), h('code', { 'data-axis': 'w' }, fw.text)),
      );
      fill(kernelsBox, ...out.kernels.map((k) => kernelTable(k.name, k.k)));
      message.hidden = true;
    } catch (e) {
      message.textContent = (e as Error).message;
      message.hidden = false;
    }
  }

  const controls = h(
    'div',
    { class: 'controls' },
    selectField('Filter', [['sobel', 'Sobel (1-2-1)'], ['scharr', 'Scharr (3-10-3)'], ['custom', 'Type a 3 × 3 kernel']], settings.filter, (v) => {
      settings.filter = v as EdgeFilter;
      run();
    }, 'edge-filter'),
    selectField('Show', [['magnitude', 'magnitude'], ['x', 'x (Gx)'], ['y', 'y (Gy)']], settings.part, (v) => {
      settings.part = v as EdgePart;
      run();
    }, 'edge-part'),
    selectField('Padding p', [['0', '0 (valid)'], ['1', '1 (same)'], ['2', '2']], '0', (v) => {
      settings.padding = Number(v);
      run();
    }, 'edge-padding'),
    selectField('Stride s', [['1', '1'], ['2', '2'], ['3', '3']], '1', (v) => {
      settings.stride = Number(v);
      run();
    }, 'edge-stride'),
    h('div', { class: 'upload' },
      upload,
      h('label', { for: 'edges-upload', class: 'button' }, 'Upload an image…'),
      h('button', { type: 'button', onclick: () => {
        image = sampleImage();
        source = 'sample scene (generated, 160 × 120)';
        upload.value = '';
        run();
      } }, 'Sample'),
    ),
  );

  const section = h(
    'section',
    { class: 'panel', id: 'view-edges', 'aria-labelledby': 'edges-title' },
    h('header', { class: 'panel-head' },
      h('h2', { id: 'edges-title' }, 'Edge detection'),
      h('p', { class: 'lede' }, 'A convolution with a hand-made 3 × 3 filter finds edges. Sobel weights the middle row 2, Scharr 10: a CNN learns filters like these by itself. Every pixel here is computed by Stride’s conv2d.'),
    ),
    controls,
    custom,
    message,
    h('div', { class: 'edges-body' },
      h('div', { class: 'pics' }, h('figure', {}, original, origCaption), h('figure', {}, result, resCaption)),
      h('aside', { class: 'side' }, formulaBox, kernelsBox),
    ),
  );
  queueMicrotask(run);
  return section;
}
