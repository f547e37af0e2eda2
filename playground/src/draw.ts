/**
 * Item 4, draw a digit: a canvas for mouse, pen and touch (Pointer Events), the drawing turned into
 * a 28 x 28 digit exactly as the training digits are (draw-math.ts), classified live by the model in
 * the worker, with the class probabilities as bars and the feature maps of the drawing.
 */
import { h, fill } from './dom.js';
import { SIZE, toDigit } from './draw-math.js';
import { mapFiguresInTasks } from './maps.js';
import type { TrainView } from './train.js';

const PAD = 280;

export function createDraw(train: TrainView): HTMLElement {
  const pad = h('canvas', {
    width: PAD,
    height: PAD,
    class: 'pad',
    id: 'draw-pad',
    tabindex: 0,
    role: 'application',
    'aria-roledescription': 'drawing pad',
    'aria-label': 'Drawing pad: draw a digit with the mouse, a pen or a finger; or with the keyboard: arrow keys move the pen, Space puts it down or lifts it, Delete clears',
    'aria-describedby': 'draw-keys',
  });
  // The keyboard pen: a ring over the canvas (not drawn into it, so the digit's pixels stay ink only).
  const pen = h('span', { class: 'pen', id: 'draw-pen', 'aria-hidden': 'true', hidden: true });
  const keys = h('p', { class: 'note', id: 'draw-keys' }, 'Keyboard: focus the pad, then the arrow keys move the pen (Shift for small steps), Space puts it down or lifts it, Delete clears.');
  const penState = h('p', { class: 'visually-hidden', id: 'draw-pen-state', 'aria-live': 'polite' });
  const ctx = pad.getContext('2d', { willReadFrequently: true })!;
  const preview = h('canvas', { width: SIZE, height: SIZE, class: 'digit-preview', id: 'draw-input', role: 'img', 'aria-label': 'The drawing as the network sees it, 28 × 28' });
  const bars = h('ol', { class: 'bars', id: 'draw-bars', 'aria-label': 'Class probabilities' });
  const verdict = h('p', { class: 'verdict', id: 'draw-verdict', 'aria-live': 'polite' }, 'Draw a digit from 0 to 9.');
  const hint = h('p', { class: 'note', id: 'draw-hint' });
  const maps = h('div', { class: 'maps-row' });
  const message = h('p', { class: 'build-error', role: 'alert', hidden: true });
  let drawing = false;
  let lastPt: [number, number] | null = null;
  let pending = false;
  let again = false;

  function clear(): void {
    delete verdict.dataset.prediction;
    ctx.fillStyle = '#000';
    ctx.fillRect(0, 0, PAD, PAD);
    preview.getContext('2d')!.clearRect(0, 0, SIZE, SIZE);
    fill(bars);
    fill(maps);
    verdict.textContent = 'Draw a digit from 0 to 9.';
    delete pad.dataset.pixels;
  }

  const point = (e: PointerEvent): [number, number] => {
    const r = pad.getBoundingClientRect();
    return [((e.clientX - r.left) / r.width) * PAD, ((e.clientY - r.top) / r.height) * PAD];
  };
  function stroke(to: [number, number]): void {
    ctx.strokeStyle = '#fff';
    ctx.lineWidth = 20;
    ctx.lineCap = 'round';
    ctx.lineJoin = 'round';
    ctx.beginPath();
    const from = lastPt ?? to;
    ctx.moveTo(from[0], from[1]);
    ctx.lineTo(to[0], to[1]);
    ctx.stroke();
    lastPt = to;
  }
  pad.addEventListener('pointerdown', (e) => {
    drawing = true;
    lastPt = null;
    pad.setPointerCapture(e.pointerId);
    stroke(point(e));
    e.preventDefault();
  });
  pad.addEventListener('pointermove', (e) => {
    if (!drawing) return;
    stroke(point(e));
    void classify();
  });
  const end = () => {
    if (!drawing) return;
    drawing = false;
    lastPt = null;
    void classify();
  };
  pad.addEventListener('pointerup', end);
  pad.addEventListener('pointercancel', end);

  // The keyboard pen, at the centre to start with; its moves draw while it is down.
  let penAt: [number, number] = [PAD / 2, PAD / 2];
  let penDown = false;
  const STEP = 14;
  function placePen(): void {
    pen.hidden = false;
    pen.style.left = `${(100 * penAt[0]) / PAD}%`;
    pen.style.top = `${(100 * penAt[1]) / PAD}%`;
    pen.classList.toggle('down', penDown);
    pad.dataset.pen = `${Math.round(penAt[0])},${Math.round(penAt[1])},${penDown ? 'down' : 'up'}`;
  }
  pad.addEventListener('focus', placePen);
  pad.addEventListener('blur', () => {
    pen.hidden = true;
    if (penDown) {
      penDown = false;
      lastPt = null;
    }
  });
  pad.addEventListener('keydown', (e) => {
    const step = e.shiftKey ? STEP / 4 : STEP;
    const move: Record<string, [number, number]> = { ArrowLeft: [-step, 0], ArrowRight: [step, 0], ArrowUp: [0, -step], ArrowDown: [0, step] };
    if (e.key in move) {
      const [dx, dy] = move[e.key];
      penAt = [Math.min(PAD - 1, Math.max(0, penAt[0] + dx)), Math.min(PAD - 1, Math.max(0, penAt[1] + dy))];
      if (penDown) {
        stroke(penAt);
        void classify();
      }
    } else if (e.key === ' ' || e.key === 'Enter') {
      penDown = !penDown;
      lastPt = null;
      if (penDown) stroke(penAt);
      else void classify();
      penState.textContent = penDown ? 'Pen down: the arrow keys draw.' : 'Pen up: the arrow keys move without drawing.';
    } else if (e.key === 'Delete' || e.key === 'Backspace') {
      clear();
      penDown = false;
      lastPt = null;
      penState.textContent = 'Cleared.';
    } else {
      return;
    }
    e.preventDefault();
    placePen();
  });

  /** Preprocesses and classifies the drawing; at most one request in flight, the latest drawing wins. */
  async function classify(): Promise<void> {
    if (pending) {
      again = true;
      return;
    }
    pending = true;
    try {
      const rgba = ctx.getImageData(0, 0, PAD, PAD).data;
      const ink = new Float32Array(PAD * PAD);
      for (let i = 0; i < ink.length; i++) ink[i] = rgba[4 * i] / 255;
      const digit = toDigit(ink, PAD, PAD);
      if (digit === null) return;
      const img = preview.getContext('2d')!.createImageData(SIZE, SIZE);
      digit.forEach((v, i) => img.data.set([v, v, v, 255], 4 * i));
      preview.getContext('2d')!.putImageData(img, 0, 0);
      pad.dataset.pixels = Array.from(digit).join(',');
      await train.prepare();
      const untrained = train.steps() === 0 && !train.loaded();
      hint.textContent = untrained ? 'This network has not been trained yet, so its answer is a guess: train it first (Train it live) or load a model file.' : '';
      const [pred, act] = await Promise.all([train.trainer.predict({ pixels: digit }), train.trainer.activations({ pixels: digit })]);
      const p = pred.probabilities;
      const best = pred.predictions[0];
      fill(bars, ...Array.from(p, (v, k) => h('li', { class: k === best ? 'best' : undefined, 'data-p': v },
        h('span', { class: 'cls' }, String(k)),
        h('span', { class: 'bar' }, h('span', { style: `width:${(100 * v).toFixed(1)}%` })),
        h('span', { class: 'pct' }, `${(100 * v).toFixed(1)} %`))));
      verdict.textContent = `It looks like a ${best} (${(100 * p[best]).toFixed(1)} %).`;
      verdict.dataset.prediction = String(best);
      fill(maps, ...(await mapFiguresInTasks(act.layers, 8)));
      message.hidden = true;
    } catch (e) {
      message.textContent = (e as Error).message;
      message.hidden = false;
    } finally {
      pending = false;
      if (again) {
        again = false;
        void classify();
      }
    }
  }

  const section = h(
    'section',
    { class: 'panel', id: 'view-draw', 'aria-labelledby': 'draw-title' },
    h('header', { class: 'panel-head' },
      h('h2', { id: 'draw-title' }, 'Draw a digit'),
      h('p', { class: 'lede' }, 'Your drawing is cropped, scaled into a 20 × 20 box and centred by its centre of mass in 28 × 28, as the MNIST digits were, then classified by the network you trained, live.'),
    ),
    message,
    h('div', { class: 'draw-body' },
      h('div', { class: 'pad-wrap' }, h('div', { class: 'pad-box' }, pad, pen), h('div', { class: 'controls' }, h('button', { type: 'button', id: 'draw-clear', onclick: clear }, 'Clear')), keys, penState),
      h('div', { class: 'draw-out' },
        verdict,
        hint,
        h('div', { class: 'seen' }, preview, h('span', { class: 'note' }, 'what the network sees (28 × 28)')),
        bars,
      ),
    ),
    h('h3', {}, 'Feature maps of your drawing'),
    maps,
  );
  clear();
  return section;
}
