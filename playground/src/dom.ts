/** A few DOM helpers, so the views read as markup without a UI framework. */

type Attrs = Record<string, string | number | boolean | undefined | ((e: Event) => void)>;
type Child = Node | string | number | null | undefined | false;

/** `h('button', { class: 'x', onclick: f }, 'Label')`: attributes, `on*` listeners, children. */
export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Attrs = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === false) continue;
    if (typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (v === true) el.setAttribute(k, '');
    else el.setAttribute(k, String(v));
  }
  append(el, children);
  return el;
}

export function append(el: Element, children: Child[]): void {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    el.append(typeof c === 'number' ? String(c) : c);
  }
}

/** Replaces an element's children. */
export function fill(el: Element, ...children: Child[]): void {
  el.replaceChildren();
  append(el, children);
}

let nextId = 0;
/** A unique id for label/for pairs. */
export const uid = (prefix: string): string => `${prefix}-${++nextId}`;

/** A labelled number input; `onInput` gets the parsed value (NaN when the box is empty or invalid). */
export function numberField(label: string, value: number, opts: { min?: number; max?: number; step?: number; onInput: (v: number) => void; name?: string }): HTMLLabelElement {
  const input = h('input', { type: 'number', value, min: opts.min, max: opts.max, step: opts.step ?? 1, name: opts.name, inputmode: 'decimal' });
  input.addEventListener('input', () => opts.onInput(input.value.trim() === '' ? NaN : Number(input.value)));
  return h('label', { class: 'field' }, h('span', {}, label), input);
}

/** A labelled select. */
export function selectField(label: string, options: [string, string][], value: string, onChange: (v: string) => void, name?: string): HTMLLabelElement {
  const select = h('select', { name });
  for (const [v, text] of options) select.append(h('option', { value: v, selected: v === value }, text));
  select.addEventListener('change', () => onChange(select.value));
  return h('label', { class: 'field' }, h('span', {}, label), select);
}

/** Numbers as a learner reads them: integers plain, others with up to 3 decimals, -0 as 0. */
export function num(v: number): string {
  if (Object.is(v, -0) || Math.abs(v) < 5e-7) return '0';
  if (Number.isInteger(v)) return String(v);
  return String(Number(v.toFixed(3)));
}

/**
 * Resolves in a new task, so the work after it is not part of the current one. The views split
 * their drawing at these points: every task stays short and the main thread never has a long task
 * while the worker trains (docs/playground.md).
 */
export function nextTask(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}
