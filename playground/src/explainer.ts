/**
 * Item 6, backprop step by step: the sliding window forward, then seed 000's three accumulations
 * cell by cell, then seed 001's shortcut (dA as a full convolution with the filter rotated 180
 * degrees, dW as a convolution of the input with dZ), the pools' backward, and a gradient check.
 * All final numbers come from Stride (explainer-math.ts); the page only replays the loops.
 */
import { h, fill, num, numberField } from './dom.js';
import {
  DEFAULT_PARAMS,
  POOL,
  assertFinal,
  backwardPartials,
  checkGradients,
  cropPadded,
  finalChecks,
  forwardSum,
  makeProblem,
  paddedSize,
  poolDemo,
  type ExplainerParams,
  type Problem,
} from './explainer-math.js';

interface GridOpts {
  name: string;
  caption?: string;
  /** Cell classes by "y,x" (coordinates of the grid as drawn). */
  classes?: Map<string, string>;
  /** The grid's top-left, in the data's coordinates (negative for a padding ring). */
  origin?: number;
  /** Which cells are padding (drawn hatched). */
  isPad?: (y: number, x: number) => boolean;
  /** Blank cells (not computed yet). */
  blank?: (y: number, x: number) => boolean;
  channel?: number;
}

/** One channel of a row-major grid as a table; cells carry their data coordinates for the tests. */
function grid(rows: number, cols: number, value: (y: number, x: number) => number, o: GridOpts): HTMLElement {
  const origin = o.origin ?? 0;
  const body = h('tbody', {});
  for (let r = 0; r < rows; r++) {
    const tr = h('tr', {});
    for (let c = 0; c < cols; c++) {
      const y = r + origin;
      const x = c + origin;
      const blank = o.blank?.(y, x) ?? false;
      const cls = [o.isPad?.(y, x) ? 'pad' : '', o.classes?.get(`${r},${c}`) ?? '', blank ? 'blank' : ''].filter(Boolean).join(' ');
      tr.append(h('td', { class: cls || undefined, 'data-y': y, 'data-x': x }, blank ? '·' : num(value(y, x))));
    }
    body.append(tr);
  }
  return h(
    'figure',
    { class: 'grid-fig' },
    h('table', { class: 'grid', 'data-name': o.name, 'data-c': o.channel ?? 0 }, body),
    o.caption ? h('figcaption', {}, o.caption) : null,
  );
}

/** A [.., C] NHWC/HWIO-ordered array, one grid per channel. */
function channels(c: number, make: (ic: number) => HTMLElement): HTMLElement {
  return h('div', { class: 'channels' }, ...Array.from({ length: c }, (_, ic) => make(ic)));
}

/** A factor in a sum: negative numbers in parentheses. */
const paren = (v: number): string => (v < 0 ? `(${num(v)})` : num(v));

const cap = (base: string, c: number, ic: number): string => (c > 1 ? `${base}, channel ${ic}` : base);

export function createExplainer(): HTMLElement {
  let params: ExplainerParams = { ...DEFAULT_PARAMS };
  let prob: Problem = makeProblem(params);
  let phase: 'forward' | 'backward' = 'forward';
  let k = 0;

  const message = h('p', { class: 'build-error', role: 'alert', hidden: true });
  const stage = h('div', { class: 'stage', 'aria-live': 'polite' });
  const status = h('p', { class: 'step-status', id: 'step-status' });
  const shortcut = h('div', { class: 'shortcut' });
  const pools = h('div', { class: 'pools' });
  const checkOut = h('p', { class: 'check-out', id: 'check-result', 'aria-live': 'polite' }, 'Perturbs every input, weight and the bias by ±0.01 and compares (L₊ − L₋) / 0.02 with the analytic gradient.');

  const total = (): number => prob.windows.length;
  const pos = (i: number): [number, number] => [Math.floor(i / prob.info.outW), i % prob.info.outW];

  function inputGrids(hit: Set<string>, ic: number): HTMLElement {
    const { n, channels: c, padding: p } = params;
    const classes = new Map<string, string>();
    for (const key of hit) {
      const [y, x, ch] = key.split(',').map(Number);
      if (ch === ic) classes.set(`${y + p},${x + p}`, 'hit');
    }
    return grid(n + 2 * p, n + 2 * p, (y, x) => (y < 0 || x < 0 || y >= n || x >= n ? 0 : prob.x.data[(y * n + x) * c + ic]), {
      name: 'A',
      channel: ic,
      origin: -p,
      classes,
      isPad: (y, x) => y < 0 || x < 0 || y >= n || x >= n,
      caption: cap(p > 0 ? `A_prev, padded by ${p}` : 'A_prev', c, ic),
    });
  }

  function filterGrids(name: string, values: ArrayLike<number>, caption: string, allHit = false): HTMLElement {
    const { f, channels: c } = params;
    const classes = new Map<string, string>();
    if (allHit) for (let y = 0; y < f; y++) for (let x = 0; x < f; x++) classes.set(`${y},${x}`, 'hit');
    return channels(c, (ic) => grid(f, f, (y, x) => values[(y * f + x) * c + ic], { name, channel: ic, classes, caption: cap(caption, c, ic) }));
  }

  function outGrid(name: string, values: ArrayLike<number>, caption: string, upTo: number, cur: number): HTMLElement {
    const { outH, outW } = prob.info;
    const classes = new Map<string, string>();
    if (cur >= 0) classes.set(`${Math.floor(cur / outW)},${cur % outW}`, 'cur');
    return grid(outH, outW, (y, x) => values[y * outW + x], { name, classes, caption, blank: (y, x) => y * outW + x > upTo });
  }

  function renderForward(): void {
    const [oh, ow] = pos(k);
    const taps = prob.windows[k];
    const hit = new Set(taps.map((t) => `${t.iy},${t.ix},${t.ic}`));
    const sum = forwardSum(prob, k);
    const lib = prob.z.data[k];
    if (Math.abs(sum - lib) > 1e-4) throw new Error(`explainer: the window sum ${sum} differs from conv2d's Z[${oh}, ${ow}] = ${lib}`);
    const terms = taps.map((t) => h('span', { class: t.inside ? 'term' : 'term padterm' }, `${paren(t.a)}·${paren(t.w)}`));
    const eq = h('p', { class: 'eq', id: 'forward-eq' }, `Z[${oh}, ${ow}] = Σ a_slice ⊙ W + b = `);
    terms.forEach((t, i) => {
      if (i > 0) eq.append(' + ');
      eq.append(t);
    });
    eq.append(` + ${num(prob.b.data[0])} = `, h('strong', { 'data-value': lib, id: 'forward-value' }, num(lib)));
    fill(
      stage,
      h('div', { class: 'row' },
        channels(params.channels, (ic) => inputGrids(hit, ic)),
        h('span', { class: 'op' }, '⊛'),
        filterGrids('W', prob.w.data, 'W (filter)', true),
        h('span', { class: 'op' }, '+'),
        h('figure', { class: 'grid-fig' }, h('table', { class: 'grid', 'data-name': 'b' }, h('tbody', {}, h('tr', {}, h('td', {}, num(prob.b.data[0]))))), h('figcaption', {}, 'b')),
        h('span', { class: 'op' }, '→'),
        outGrid('Z', prob.z.data, 'Z = conv2d(A_prev, W, b)', k, k),
      ),
      eq,
      h('p', { class: 'note' }, `The window starts at row ${oh}·${params.stride} − ${params.padding} and column ${ow}·${params.stride} − ${params.padding}; its taps are ${params.dilation} apart (dilation). Padding cells read 0. The value in bold is conv2d’s own output.`),
    );
    status.textContent = `Forward · window ${k + 1} of ${total()}`;
  }

  function renderBackward(): void {
    const [oh, ow] = pos(k);
    const { n, channels: c, padding: p } = params;
    const np = paddedSize(prob);
    const g = prob.dZ.data[k];
    const part = backwardPartials(prob, k + 1);
    const taps = prob.windows[k];
    const hit = new Set(taps.map((t) => `${t.iy},${t.ix},${t.ic}`));
    const done = k === total() - 1;
    const dAGrids = channels(c, (ic) => {
      const classes = new Map<string, string>();
      for (const key of hit) {
        const [y, x, ch] = key.split(',').map(Number);
        if (ch === ic) classes.set(`${y + p},${x + p}`, 'hit');
      }
      return grid(np, np, (y, x) => part.dApad[((y + p) * np + x + p) * c + ic], {
        name: 'dA',
        channel: ic,
        origin: -p,
        classes,
        isPad: (y, x) => y < 0 || x < 0 || y >= n || x >= n,
        caption: cap(p > 0 ? 'dA (padded; the ring is dropped)' : 'dA', c, ic),
      });
    });
    const children: (HTMLElement | null)[] = [
      h('div', { class: 'row' },
        outGrid('dZ', prob.dZ.data, 'dZ (from the next layer)', total(), k),
        h('span', { class: 'op' }, '→'),
        dAGrids,
        filterGrids('dW', part.dW, 'dW', true),
        h('figure', { class: 'grid-fig' }, h('table', { class: 'grid', 'data-name': 'db' }, h('tbody', {}, h('tr', {}, h('td', { class: 'hit' }, num(part.db))))), h('figcaption', {}, 'db')),
      ),
      h('div', { class: 'row small' }, channels(c, (ic) => inputGrids(hit, ic)), filterGrids('W2', prob.w.data, 'W')),
      h('ol', { class: 'eqs' },
        h('li', {}, h('span', { class: 'tag' }, 'eq. 1'), ` dA[window] += W × dZ[${oh}, ${ow}] = W × ${paren(g)}`),
        h('li', {}, h('span', { class: 'tag' }, 'eq. 2'), ` dW += a_slice × dZ[${oh}, ${ow}] = a_slice × ${paren(g)}`),
        h('li', {}, h('span', { class: 'tag' }, 'eq. 3'), ` db += dZ[${oh}, ${ow}] → db = ${num(part.db)}`),
      ),
    ];
    if (done) {
      const dx = cropPadded(prob, part.dApad);
      let diff = 0;
      for (let i = 0; i < dx.length; i++) diff = Math.max(diff, Math.abs(dx[i] - prob.grads.dx.data[i]));
      for (let i = 0; i < part.dW.length; i++) diff = Math.max(diff, Math.abs(part.dW[i] - prob.grads.dw.data[i]));
      diff = Math.max(diff, Math.abs(part.db - prob.grads.db.data[0]));
      children.push(h('p', { class: 'ok', id: 'backward-done', 'data-diff': diff }, `Done: these sums equal conv2dBackward’s dA, dW and db exactly (largest difference ${num(diff)}).`));
    }
    fill(stage, ...children);
    status.textContent = `Backward · dZ[${oh}, ${ow}], step ${k + 1} of ${total()}`;
  }

  function renderShortcut(): void {
    const fc = finalChecks(prob);
    assertFinal(fc);
    const { n, channels: c, f } = params;
    const up = fc.dZUp.shape[1];
    fill(
      shortcut,
      h('h3', {}, 'The shortcut (seed 001): both gradients are convolutions'),
      h('p', {}, 'dA is the full convolution of dZ with W rotated 180°; with a stride, dZ first gets (stride − 1) zeros between its values. dW is the convolution of the input with dZ (stride and dilation swap roles). Both computed here with conv2d:'),
      h('div', { class: 'row' },
        grid(up, up, (y, x) => fc.dZUp.data[y * up + x], { name: 'dZup', caption: params.stride > 1 ? 'dZ, spread by the stride' : 'dZ' }),
        h('span', { class: 'op' }, '⊛ full'),
        channels(c, (ic) => grid(f, f, (y, x) => fc.wRot.data[(y * f + x) * c + ic], { name: 'Wrot', channel: ic, caption: cap('W rotated 180°', c, ic) })),
        h('span', { class: 'op' }, '='),
        channels(c, (ic) => grid(n, n, (y, x) => fc.dAFull.data[(y * n + x) * c + ic], { name: 'dAfull', channel: ic, caption: cap('dA', c, ic) })),
      ),
      h('div', { class: 'row' },
        channels(c, (ic) => grid(n, n, (y, x) => prob.x.data[(y * n + x) * c + ic], { name: 'Aplain', channel: ic, caption: cap('A_prev', c, ic) })),
        h('span', { class: 'op' }, '⊛'),
        outGrid('dZ2', prob.dZ.data, 'dZ', total(), -1),
        h('span', { class: 'op' }, '='),
        filterGrids('dWconv', fc.dWConv.data, 'dW'),
      ),
      h('p', { class: 'ok', id: 'shortcut-ok' }, `Both equal conv2dBackward: largest difference ${num(Math.max(fc.diff.fullDA, fc.diff.convDW))} for dA and dW.`),
    );
  }

  function renderPools(): void {
    const d = poolDemo(params.seed);
    const maxCls = new Map<string, string>(d.argmax.map((i) => [`${Math.floor(i / POOL.n)},${i % POOL.n}`, 'max']));
    const g4 = (name: string, v: ArrayLike<number>, caption: string, classes?: Map<string, string>) => grid(4, 4, (y, x) => v[y * 4 + x], { name, caption, classes });
    const g2 = (name: string, v: ArrayLike<number>, caption: string) => grid(2, 2, (y, x) => v[y * 2 + x], { name, caption });
    fill(
      pools,
      h('h3', {}, 'Pooling has no weights, only routing'),
      h('div', { class: 'pool-cols' },
        h('div', {},
          h('h4', {}, 'Max pool 2 × 2: the mask'),
          h('div', { class: 'row' }, g4('poolX', d.x.data, 'input (maxima marked)', maxCls), h('span', { class: 'op' }, '→'), g2('maxY', d.maxY.data, 'max'), g2('poolDy', d.dy.data, 'dY')),
          h('div', { class: 'row' }, g4('maxDx', d.maxDx.data, 'dX = maxPool2dBackward', maxCls)),
          h('p', { class: 'note' }, 'Each gradient goes to the one input that won its window; the other three get 0.'),
        ),
        h('div', {},
          h('h4', {}, 'Average pool 2 × 2: the even split'),
          h('div', { class: 'row' }, g2('avgY', d.avgY.data, 'average'), g2('poolDy2', d.dy.data, 'dY')),
          h('div', { class: 'row' }, g4('avgDx', d.avgDx.data, 'dX = avgPool2dBackward')),
          h('p', { class: 'note' }, 'Every input of a window contributed ¼ of its average, so it gets ¼ of its gradient.'),
        ),
      ),
    );
  }

  function render(): void {
    try {
      if (phase === 'forward') renderForward();
      else renderBackward();
      message.hidden = true;
    } catch (e) {
      message.textContent = (e as Error).message;
      message.hidden = false;
      console.error(e);
    }
    back.disabled = phase === 'forward' && k === 0;
    next.disabled = phase === 'backward' && k === total() - 1;
    fwdTab.setAttribute('aria-pressed', String(phase === 'forward'));
    bwdTab.setAttribute('aria-pressed', String(phase === 'backward'));
  }

  function rebuild(next: Partial<ExplainerParams>): void {
    const candidate = { ...params, ...next };
    if (Object.values(candidate).some((v) => !Number.isInteger(v))) return; // half-typed number: wait
    try {
      prob = makeProblem(candidate);
      params = candidate;
    } catch (e) {
      message.textContent = `These settings cannot be convolved: ${(e as Error).message.replace(/^explainer: /, '')}`;
      message.hidden = false;
      return;
    }
    phase = 'forward';
    k = 0;
    render();
    try {
      // Both assert that the page's loops end where the library's kernels are (explainer-math.ts).
      renderShortcut();
      renderPools();
    } catch (e) {
      message.textContent = (e as Error).message;
      message.hidden = false;
      console.error(e);
    }
    checkOut.textContent = 'Press the button to check these gradients.';
    delete checkOut.dataset.maxRel;
  }

  const back = h('button', { type: 'button', id: 'step-back', onclick: () => {
    if (k > 0) k--;
    else if (phase === 'backward') {
      phase = 'forward';
      k = total() - 1;
    }
    render();
  } }, '◀ Back');
  const next = h('button', { type: 'button', class: 'primary', id: 'step-next', onclick: () => {
    if (k < total() - 1) k++;
    else if (phase === 'forward') {
      phase = 'backward';
      k = 0;
    }
    render();
  } }, 'Step ▶');
  const fwdTab = h('button', { type: 'button', class: 'seg', id: 'phase-forward', onclick: () => { phase = 'forward'; k = 0; render(); } }, 'Forward');
  const bwdTab = h('button', { type: 'button', class: 'seg', id: 'phase-backward', onclick: () => { phase = 'backward'; k = 0; render(); } }, 'Backward');
  const toEnd = h('button', { type: 'button', id: 'step-end', onclick: () => { phase = 'backward'; k = total() - 1; render(); } }, 'Skip to the end');
  const checkButton = h('button', { type: 'button', class: 'primary', id: 'check', onclick: () => {
    const r = checkGradients(prob);
    checkOut.dataset.maxRel = String(r.maxRelError);
    checkOut.dataset.ok = String(r.report.ok);
    fill(
      checkOut,
      h('strong', {}, r.report.ok ? 'Passed. ' : 'FAILED. '),
      `${r.report.checked} numbers checked; largest relative error ${r.maxRelError.toExponential(1)}`,
      r.maxAbsErrorAtZero > 0 ? `; where the true gradient is 0, largest absolute error ${r.maxAbsErrorAtZero.toExponential(1)} (float32 rounding)` : '',
      '.',
    );
  } }, 'Check the gradients');

  const p = params;
  const controls = h(
    'div',
    { class: 'controls' },
    numberField('Input n', p.n, { min: 1, max: 8, name: 'x-n', onInput: (v) => rebuild({ n: v }) }),
    numberField('Channels', p.channels, { min: 1, max: 3, name: 'x-c', onInput: (v) => rebuild({ channels: v }) }),
    numberField('Filter f', p.f, { min: 1, max: 5, name: 'x-f', onInput: (v) => rebuild({ f: v }) }),
    numberField('Stride s', p.stride, { min: 1, max: 4, name: 'x-s', onInput: (v) => rebuild({ stride: v }) }),
    numberField('Padding p', p.padding, { min: 0, max: 3, name: 'x-p', onInput: (v) => rebuild({ padding: v }) }),
    numberField('Dilation d', p.dilation, { min: 1, max: 3, name: 'x-d', onInput: (v) => rebuild({ dilation: v }) }),
    h('button', { type: 'button', onclick: () => rebuild({ seed: params.seed + 1 }) }, 'New numbers'),
  );

  const section = h(
    'section',
    { class: 'panel', id: 'view-backprop', 'aria-labelledby': 'backprop-title' },
    h('header', { class: 'panel-head' },
      h('h2', { id: 'backprop-title' }, 'Backprop, step by step'),
      h('p', { class: 'lede' }, 'Slide the filter forward, then walk the gradient back: each dZ[h, w] adds W × dZ into dA (eq. 1), a_slice × dZ into dW (eq. 2) and dZ into db (eq. 3). Every number is computed by Stride’s conv2d and conv2dBackward.'),
    ),
    controls,
    message,
    h('div', { class: 'stepper' }, h('div', { class: 'segs', role: 'group', 'aria-label': 'Pass' }, fwdTab, bwdTab), back, next, toEnd, status),
    stage,
    shortcut,
    pools,
    h('div', { class: 'check' }, h('h3', {}, 'Gradient check'), checkButton, checkOut),
  );
  rebuild({});
  return section;
}
