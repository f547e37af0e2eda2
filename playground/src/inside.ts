/**
 * Item 3, look inside: the filters of every conv layer as images (redrawn as training goes), the
 * feature maps of every layer for a chosen test digit, and the confusion matrix on the test digits,
 * where a cell lists the digits it counts. Works for whatever network the builder made: it walks
 * the model's parameters and layer outputs as the worker reports them.
 */
import { Tensor, filterGrid } from 'stride-cnn';
import { h, fill, nextTask, numberField } from './dom.js';
import { mapFiguresInTasks, pixelCanvas } from './maps.js';
import type { TrainView } from './train.js';

const REFRESH_MS = 1000;

/**
 * The test digits as the worker holds them (`samples`): the page never loads or decodes the data
 * file on its main thread, which would be one long task while the worker trains.
 */
interface TestDigits {
  length: number;
  height: number;
  width: number;
  channels: number;
  images: Float32Array;
  labels: Int32Array;
}
const label = (t: TestDigits, i: number) => t.labels[i];

function digitCanvas(test: TestDigits, i: number, text: string): HTMLCanvasElement {
  const [hh, w, ch] = [test.height, test.width, test.channels];
  const img = test.images.subarray(i * hh * w * ch, (i + 1) * hh * w * ch);
  const c = h('canvas', { width: w, height: hh, class: 'digit', role: 'img', 'aria-label': text });
  const data = c.getContext('2d')!.createImageData(w, hh);
  for (let p = 0; p < hh * w; p++) {
    const v = Math.round(255 * img[p * ch]);
    data.data.set([v, v, v, 255], 4 * p);
  }
  c.getContext('2d')!.putImageData(data, 0, 0);
  return c;
}

export function createInside(train: TrainView): { element: HTMLElement; refresh: () => void } {
  let test: TestDigits | null = null;
  let index = 0;
  let lastRefresh = 0;
  let busy = false;
  let refreshes = 0;
  let again = false;
  const filters = h('div', { class: 'maps-row', id: 'inside-filters' });
  const maps = h('div', { class: 'maps-row', id: 'inside-maps' });
  const digitBox = h('div', { class: 'seen' });
  const confusion = h('div', { class: 'confusion-wrap', id: 'inside-confusion' });
  const cellDigits = h('div', { class: 'cell-digits', id: 'inside-cell', 'aria-live': 'polite' });
  const message = h('p', { class: 'build-error', role: 'alert', hidden: true });
  const status = h('p', { class: 'note' });

  async function drawFilters(): Promise<void> {
    const { params } = await train.trainer.parameters();
    const convs = params.filter((p) => p.shape.length === 4 && p.name.endsWith('.weight'));
    // One conv layer's grid per task, so a deep network's filters never make one long task.
    const figures: HTMLElement[] = [];
    for (const p of convs) {
      await nextTask();
      const grid = filterGrid(new Tensor(p.data, p.shape), { channels: 'mean' });
      figures.push(h('figure', { class: 'maps' }, pixelCanvas(grid, `filters of layer ${p.name}`), h('figcaption', {}, `#${p.name.split('.')[0]} · ${p.shape[3]} filters ${p.shape[0]} × ${p.shape[1]} (mean over ${p.shape[2]} input channel${p.shape[2] === 1 ? '' : 's'}); red +, blue −`)));
    }
    fill(filters, ...figures);
    if (convs.length === 0) fill(filters, h('p', { class: 'note' }, 'This network has no convolution layer.'));
  }

  async function drawMaps(): Promise<void> {
    if (test === null) return;
    const [act, pred] = await Promise.all([train.trainer.activations({ split: 'test', index }), train.trainer.predict({ split: 'test', index })]);
    const p = pred.predictions[0];
    fill(digitBox, digitCanvas(test, index, `test digit ${index}`), h('span', {}, `test digit #${index}: label ${label(test, index)}, predicted ${p} (${(100 * pred.probabilities[p]).toFixed(1)} %)`));
    fill(maps, ...(await mapFiguresInTasks(act.layers, 16)));
  }

  function showCell(t: number, p: number, predictions: Int32Array): void {
    if (test === null) return;
    const which: number[] = [];
    for (let i = 0; i < test.length && which.length < 24; i++) if (label(test, i) === t && predictions[i] === p) which.push(i);
    fill(
      cellDigits,
      h('h4', {}, `${t === p ? 'Correct' : 'Mistaken'}: label ${t}, predicted ${p} (${which.length === 24 ? 'first 24' : which.length})`),
      h('div', { class: 'digits' }, ...which.map((i) => h('button', { type: 'button', class: 'digit-btn', 'aria-label': `Show the feature maps of test digit ${i}`, onclick: () => {
        index = i;
        (indexField.querySelector('input') as HTMLInputElement).value = String(i);
        void drawMaps().catch(fail);
      } }, digitCanvas(test!, i, `test digit ${i}`)))),
    );
  }

  async function drawConfusion(): Promise<void> {
    const r = await train.trainer.evaluate({ split: 'test' });
    const k = Math.round(Math.sqrt(r.confusion.length));
    let max = 1;
    for (let t = 0; t < k; t++) for (let p = 0; p < k; p++) if (t !== p) max = Math.max(max, r.confusion[t * k + p]);
    const head = h('tr', {}, h('th', { scope: 'col', class: 'corner' }, 'label ↓ / predicted →'), ...Array.from({ length: k }, (_, p) => h('th', { scope: 'col' }, String(p))));
    const rows = Array.from({ length: k }, (_, t) =>
      h('tr', {}, h('th', { scope: 'row' }, String(t)), ...Array.from({ length: k }, (_, p) => {
        const n = r.confusion[t * k + p];
        const alpha = t === p ? 0 : Math.min(1, n / max);
        return h('td', { class: t === p ? 'diag' : undefined, style: t === p ? undefined : `background: rgba(232, 89, 12, ${(0.08 + 0.8 * alpha).toFixed(2)})` },
          h('button', { type: 'button', 'data-t': t, 'data-p': p, 'aria-label': `${n} test digits labelled ${t} predicted ${p}`, onclick: () => showCell(t, p, r.predictions) }, String(n)));
      })),
    );
    fill(confusion, h('p', { class: 'note' }, `Test accuracy ${(100 * r.accuracy).toFixed(1)} % on ${r.count.toLocaleString('en-US')} digits, test loss ${r.loss.toFixed(3)}. Click a cell to see its digits.`), h('table', { class: 'confusion', 'data-accuracy': r.accuracy }, h('thead', {}, head), h('tbody', {}, ...rows)));
  }

  function fail(e: unknown): void {
    message.textContent = (e as Error).message;
    message.hidden = false;
  }

  /** Redraws everything (at most once a second while training); the worker answers between batches. */
  async function refresh(force = false): Promise<void> {
    if (busy && force) again = true; // asked for while drawing: once more when this one is done
    if (section.hidden || !section.isConnected || busy || (!force && performance.now() - lastRefresh < REFRESH_MS)) return;
    busy = true;
    try {
      await train.prepare();
      if (test === null) {
        const n = (await train.trainer.info()).data?.test ?? 0;
        const s = await train.trainer.samples(Array.from({ length: n }, (_, i) => i));
        test = { length: n, height: s.shape[1], width: s.shape[2], channels: s.shape[3], images: s.images, labels: s.labels };
      }
      await drawFilters();
      await drawMaps();
      await nextTask();
      await drawConfusion();
      status.textContent = train.steps() === 0 && !train.loaded() ? 'The network is untrained: start training and watch the filters change.' : `After ${train.steps().toLocaleString('en-US')} training steps.`;
      lastRefresh = performance.now();
      section.dataset.ready = 'true';
      section.dataset.refreshes = String(++refreshes);
      message.hidden = true;
    } catch (e) {
      fail(e);
    } finally {
      busy = false;
      if (again) {
        again = false;
        void refresh(true);
      }
    }
  }
  train.onProgress(() => void refresh());

  const indexField = numberField('Test digit #', 0, { min: 0, max: 999, name: 'inside-index', onInput: (v) => {
    if (test && Number.isInteger(v) && v >= 0 && v < test.length) {
      index = v;
      void drawMaps().catch(fail);
    }
  } });

  const section = h(
    'section',
    { class: 'panel', id: 'view-inside', 'aria-labelledby': 'inside-title' },
    h('header', { class: 'panel-head' },
      h('h2', { id: 'inside-title' }, 'Look inside'),
      h('p', { class: 'lede' }, 'The filters every conv layer has learnt, what each layer makes of one test digit, and where the network gets confused. Redrawn every second while it trains.'),
    ),
    h('div', { class: 'controls' }, h('button', { type: 'button', class: 'primary', onclick: () => void refresh(true) }, 'Refresh'), status),
    message,
    h('h3', {}, 'Filters'),
    filters,
    h('h3', {}, 'Feature maps'),
    h('div', { class: 'controls' }, indexField),
    digitBox,
    maps,
    h('h3', {}, 'Confusion matrix (test digits)'),
    confusion,
    cellDigits,
  );
  return {
    element: section,
    refresh: () => void refresh(true),
  };
}
