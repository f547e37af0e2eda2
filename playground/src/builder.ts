/**
 * Item 1, build a network: the layer list with live shapes, parameters and FLOPs from the library.
 * Structural changes (add, remove, move, preset) re-render the list; typing in an option only
 * refreshes the figures, so the focused input keeps its focus and caret.
 */
import { h, fill, uid, numberField, selectField } from './dom.js';
import {
  FIELDS,
  LAYER_TYPES,
  STARTERS,
  analyze,
  compact,
  insertLayer,
  moveLayer,
  removeLayer,
  setOption,
  starterSpec,
  type Analysis,
  type Field,
  type NetSpec,
  type Starter,
} from './builder-model.js';

const shapeText = (s: number[] | null): string => (s === null ? '—' : s.join(' × '));

export interface Builder {
  element: HTMLElement;
  /** The current network, as the Sequential spec JSON. */
  spec(): NetSpec;
}

export function createBuilder(onTrain: () => void): Builder {
  let spec = starterSpec('small');
  let starter: Starter = 'small';

  const list = h('ol', { class: 'layers', 'aria-label': 'Layers' });
  const error = h('div', { class: 'build-error', role: 'alert', hidden: true });
  const totals = h('div', { class: 'totals', 'aria-live': 'polite' });
  const json = h('pre', { class: 'spec-json' });

  const typeSelect = h('select', { id: uid('add-type'), name: 'add-type' });
  for (const t of LAYER_TYPES) typeSelect.append(h('option', { value: t }, t));
  const posSelect = h('select', { id: uid('add-pos'), name: 'add-pos' });
  const addButton = h('button', { type: 'button', class: 'primary', onclick: () => {
    const at = posSelect.value === 'end' ? spec.config.layers.length : Number(posSelect.value);
    update(insertLayer(spec, typeSelect.value, at), true);
  } }, 'Add layer');

  const starterField = selectField('Start from', STARTERS.map((s) => [s, s === 'small' ? 'small (ConvNetJS demo)' : s === 'lenet' ? 'LeNet' : 'tiny']), starter, (v) => {
    starter = v as Starter;
    update(starterSpec(starter), true);
  }, 'starter');

  function renderPositions(): void {
    const n = spec.config.layers.length;
    fill(posSelect, h('option', { value: 'end' }, 'at the end'), ...Array.from({ length: n }, (_, i) => h('option', { value: i }, `before #${i} ${spec.config.layers[i].type}`)));
  }

  function fieldInput(at: number, f: Field, config: Record<string, unknown>): HTMLElement {
    const value = config[f.key];
    if (f.kind === 'padding') {
      const cur = value === undefined ? 'valid' : String(value);
      const opts: [string, string][] = [['valid', 'valid'], ['same', 'same']];
      for (let p = 0; p <= 3; p++) opts.push([String(p), String(p)]);
      if (!opts.some(([v]) => v === cur)) opts.push([cur, cur]);
      return selectField(f.label, opts, cur, (v) => update(setOption(spec, at, f.key, v === 'valid' || v === 'same' ? v : Number(v)), false), `${at}-${f.key}`);
    }
    const shown = typeof value === 'number' ? value : Array.isArray(value) ? Number(value[0]) : NaN;
    const field = numberField(f.label, shown, {
      min: f.min,
      max: f.max,
      step: f.step,
      name: `${at}-${f.key}`,
      onInput: (v) => update(setOption(spec, at, f.key, Number.isNaN(v) ? (f.optionalDefault ? undefined : v) : v), false),
    });
    if (f.optionalDefault && value === undefined) field.querySelector('input')!.placeholder = f.optionalDefault;
    return field;
  }

  function renderList(): void {
    fill(
      list,
      ...spec.config.layers.map((l, i) => {
        const fields = (FIELDS[l.type] ?? []).map((f) => fieldInput(i, f, l.config));
        const n = spec.config.layers.length;
        return h(
          'li',
          { class: 'layer', 'data-index': i, 'data-type': l.type },
          h('span', { class: 'idx', 'aria-hidden': 'true' }, String(i)),
          h('div', { class: 'what' }, h('span', { class: `badge t-${l.type}` }, l.type), h('span', { class: 'desc' })),
          h('div', { class: 'opts' }, ...fields),
          h(
            'dl',
            { class: 'figures' },
            h('div', {}, h('dt', {}, 'output'), h('dd', { class: 'shape' })),
            h('div', {}, h('dt', {}, 'params'), h('dd', { class: 'params' })),
            h('div', {}, h('dt', {}, 'FLOPs'), h('dd', { class: 'flops' })),
          ),
          h(
            'div',
            { class: 'row-actions' },
            h('button', { type: 'button', class: 'icon', 'aria-label': `Move layer ${i} up`, disabled: i === 0, onclick: () => update(moveLayer(spec, i, -1), true) }, '↑'),
            h('button', { type: 'button', class: 'icon', 'aria-label': `Move layer ${i} down`, disabled: i === n - 1, onclick: () => update(moveLayer(spec, i, 1), true) }, '↓'),
            h('button', { type: 'button', class: 'icon danger', 'aria-label': `Remove layer ${i}`, onclick: () => update(removeLayer(spec, i), true) }, '×'),
          ),
        );
      }),
    );
    renderPositions();
  }

  function renderFigures(a: Analysis): void {
    list.querySelectorAll<HTMLElement>('li.layer').forEach((li, i) => {
      const r = a.rows[i];
      li.querySelector('.desc')!.textContent = r.label === r.type ? '' : r.label.replace(/^\w+\(|\)$/g, '');
      li.querySelector('.shape')!.textContent = shapeText(r.shape);
      li.querySelector('.params')!.textContent = r.shape === null ? '—' : r.params.toLocaleString('en-US');
      li.querySelector('.flops')!.textContent = r.shape === null ? '—' : compact(r.flops);
      li.classList.toggle('bad', a.error?.index === i);
      li.classList.toggle('after-bad', a.error !== null && i > a.error.index);
    });
    if (a.error) {
      fill(error, h('strong', {}, a.error.title), h('p', {}, a.error.detail));
      error.hidden = false;
    } else {
      error.hidden = true;
      fill(error);
    }
    fill(
      totals,
      h('div', { class: 'stat' }, h('span', { class: 'k' }, 'input'), h('span', { class: 'v', 'data-stat': 'input' }, spec.config.inputShape.join(' × '))),
      h('div', { class: 'stat' }, h('span', { class: 'k' }, 'output'), h('span', { class: 'v', 'data-stat': 'output' }, shapeText(a.outputShape))),
      h('div', { class: 'stat' }, h('span', { class: 'k' }, 'parameters'), h('span', { class: 'v', 'data-stat': 'params' }, a.ok ? a.totalParams.toLocaleString('en-US') : '—')),
      h('div', { class: 'stat' }, h('span', { class: 'k' }, 'FLOPs / image'), h('span', { class: 'v', 'data-stat': 'flops' }, a.ok ? compact(a.totalFlops) : '—')),
    );
    json.textContent = JSON.stringify(spec, null, 1);
  }

  function update(next: NetSpec, structural: boolean): void {
    spec = next;
    if (structural) renderList();
    renderFigures(analyze(spec));
  }

  const element = h(
    'section',
    { class: 'panel', id: 'view-build', 'aria-labelledby': 'build-title' },
    h('header', { class: 'panel-head' },
      h('h2', { id: 'build-title' }, 'Build a network'),
      h('p', { class: 'lede' }, 'Start from a preset, then add, remove, reorder and edit layers. Shapes, parameters and FLOPs are Stride’s own shape inference, recomputed as you type.'),
    ),
    h('div', { class: 'toolbar' },
      h('div', { class: 'start' }, starterField, h('button', { type: 'button', class: 'primary big', id: 'train-this', onclick: onTrain }, 'Train this network ▶')),
      h('div', { class: 'add' },
        h('label', { class: 'field' }, h('span', {}, 'Layer'), typeSelect),
        h('label', { class: 'field' }, h('span', {}, 'Position'), posSelect),
        addButton,
      ),
    ),
    totals,
    error,
    list,
    h('details', { class: 'spec' }, h('summary', {}, 'Model spec (the JSON Stride saves in a model file)'), json),
  );
  update(spec, true);
  return { element, spec: () => spec };
}
