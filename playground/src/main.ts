/**
 * The Stride playground: one page, six views (build a network, train it, look inside, draw a digit,
 * edge detection, backprop step by step), switched by the URL hash so each view can be linked. Stride is imported as a user
 * would (`stride-cnn`, `stride-cnn/worker`); nothing is fetched from another origin.
 */
import './style.css';
import { ready, type BackendInfo } from 'stride-cnn';
import { h } from './dom.js';
import { createBuilder } from './builder.js';
import { createEdges } from './edges-view.js';
import { createExplainer } from './explainer.js';
import { createTrain, type TrainView } from './train.js';
import { createDraw } from './draw.js';
import { createInside } from './inside.js';

const builder = createBuilder(() => {
  location.hash = 'train';
  void trainView().start();
});
let train: TrainView | null = null;
const trainView = (): TrainView => (train ??= createTrain(() => builder.spec()));
let inside: ReturnType<typeof createInside> | null = null;
const insideView = () => (inside ??= createInside(trainView()));

const VIEWS = [
  { id: 'build', label: 'Build a network', make: () => builder.element },
  { id: 'train', label: 'Train it live', make: () => trainView().element },
  { id: 'inside', label: 'Look inside', make: () => insideView().element },
  { id: 'draw', label: 'Draw a digit', make: () => createDraw(trainView()) },
  { id: 'edges', label: 'Edge detection', make: createEdges },
  { id: 'backprop', label: 'Backprop, step by step', make: createExplainer },
] as const;

const main = document.getElementById('main')!;
const nav = document.getElementById('views')!;
const made = new Map<string, HTMLElement>();
// The views are a tablist (WAI-ARIA tabs): Tab reaches the current tab, the arrow keys, Home and End
// move between tabs and show each view at once (the hash changes, so every view keeps its address).
nav.setAttribute('role', 'tablist');
const links = VIEWS.map((v) => {
  const a = h('a', { href: `#${v.id}`, class: 'tab', 'data-view': v.id, role: 'tab', id: `tab-${v.id}`, 'aria-controls': `view-${v.id}` }, v.label);
  nav.append(a);
  return a;
});
nav.addEventListener('keydown', (e) => {
  const at = links.indexOf(e.target as HTMLAnchorElement);
  if (at < 0) return;
  const to = { ArrowRight: at + 1, ArrowLeft: at - 1, Home: 0, End: links.length - 1 }[e.key];
  if (to === undefined) {
    // Space activates a tab as Enter does for a link.
    if (e.key === ' ') {
      e.preventDefault();
      links[at].click();
    }
    return;
  }
  e.preventDefault();
  const next = links[(to + links.length) % links.length];
  next.focus();
  location.hash = next.dataset.view!;
});

/** Shows the view named by the hash (default: the builder), making it on first visit. */
function show(): void {
  const id = VIEWS.some((v) => v.id === location.hash.slice(1)) ? location.hash.slice(1) : 'build';
  for (const v of VIEWS) {
    let el = made.get(v.id);
    if (v.id === id && el === undefined) {
      el = v.make();
      el.setAttribute('role', 'tabpanel');
      el.setAttribute('aria-labelledby', `tab-${v.id}`);
      made.set(v.id, el);
      main.append(el);
    }
    if (el) el.hidden = v.id !== id;
  }
  if (id === 'inside') insideView().refresh();
  for (const a of links) {
    const on = a.dataset.view === id;
    a.setAttribute('aria-selected', String(on));
    a.tabIndex = on ? 0 : -1;
    if (on) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  // On a phone the tabs scroll sideways: keep the current one in view.
  const current = links.find((a) => a.dataset.view === id)!;
  nav.scrollTo({ left: current.offsetLeft - (nav.clientWidth - current.offsetWidth) / 2 });
}

window.addEventListener('hashchange', show);
show();
// The first view is drawn and its controls work: what docs/playground.md calls time to interactive.
performance.mark('playground-interactive');

// The kernels that computed every number on this page, in the footer (ready() never rejects for a fallback).
void ready().then((info: BackendInfo) => {
  const kernels = info.backend === 'wasm' ? `WebAssembly ${info.build ?? ''}, ${info.threads} thread${info.threads === 1 ? '' : 's'}` : 'reference kernels';
  document.getElementById('backend')!.textContent = info.reason ? `${kernels} (${info.reason})` : kernels;
});
