/**
 * Item 2, train it live, and item 7, save and load: the builder's network trained in a Web Worker
 * (stride-cnn/worker's TrainerClient) on the digits shipped with the page, with live charts of
 * training and test loss and accuracy. The main thread only draws: every batch runs in the worker.
 */
import { TrainerClient, type BatchProgress, type TrainResult } from 'stride-cnn/worker';
import { Rng, createOptimizer, createPreset, presetNames, type BackendInfo, type SequentialSpec } from 'stride-cnn';
import { h, numberField, selectField } from './dom.js';
import { LineChart } from './chart.js';

/** How often (in batches) the test digits are evaluated while training. */
const EVAL_EVERY = 20;
const DIGITS_URL = './digits.bin.gz';
const DRAW_MS = 250;
/** At most this many points per chart line (every k-th batch beyond it). */
const MAX_POINTS = 300;
const thin = (pts: [number, number][]): [number, number][] => {
  const k = Math.ceil(pts.length / MAX_POINTS);
  return k <= 1 ? pts : pts.filter((_, i) => i % k === 0 || i === pts.length - 1);
};

type Optim = 'sgd' | 'adam' | 'adamw' | 'rmsprop';

/**
 * The shuffling generator of `stride train --seed N`: the command line forks `new Rng(N)` twice (the
 * validation split's generator, then the training one) and shuffles with the second.
 */
export function cliShuffleState(seed: number): number[] {
  const root = new Rng(seed);
  root.fork();
  return root.fork().getState();
}

/** Each preset's spec as JSON, per input shape: built once (building a preset initialises its weights). */
const presetSpecs = new Map<string, [string, string][]>();
/** The preset whose network is `spec` (its weights then follow from the seed alone), or null. */
function presetOf(spec: SequentialSpec): string | null {
  const key = JSON.stringify(spec.config.inputShape);
  let specs = presetSpecs.get(key);
  if (specs === undefined) {
    specs = [];
    for (const name of presetNames()) {
      try {
        specs.push([name, JSON.stringify(createPreset(name, { inputShape: spec.config.inputShape, numClasses: 10 }).toSpec())]);
      } catch {
        // a preset that does not take this input shape
      }
    }
    presetSpecs.set(key, specs);
  }
  const text = JSON.stringify(spec);
  return specs.find(([, t]) => t === text)?.[0] ?? null;
}

/**
 * The `stride train` command that runs what the page runs: the same data file, network, initial
 * weights, batches and optimizer (docs/playground.md says what is equal and what is not).
 */
export function cliCommand(spec: SequentialSpec, o: { lr: number; batchSize: number; optimizer: Optim; seed: number; epochs: number }, modelFile?: string): string {
  const hyper = createOptimizer(o.optimizer, { lr: o.lr }).toSpec().hyper as Record<string, number | boolean>;
  const preset = modelFile === undefined ? presetOf(spec) : null;
  const args = ['stride train', '-m', modelFile ?? preset ?? 'untrained.safetensors', '--data digits.bin.gz', `--epochs ${o.epochs}`, `--batch-size ${o.batchSize}`, `--optimizer ${o.optimizer}`, `--lr ${o.lr}`];
  if (typeof hyper.momentum === 'number') args.push(`--momentum ${hyper.momentum}`);
  if (typeof hyper.weightDecay === 'number') args.push(`--weight-decay ${hyper.weightDecay}`);
  args.push('--schedule constant', '--no-augment', `--seed ${o.seed}`);
  return args.join(' ');
}
const DEFAULT_LR: Record<Optim, number> = { sgd: 0.05, adam: 0.002, adamw: 0.002, rmsprop: 0.001 };

export interface TrainView {
  element: HTMLElement;
  /** Starts training (building the model and loading the digits first if needed). */
  start(): Promise<void>;
  /** The trainer, for the views that look inside the model. */
  trainer: TrainerClient;
  /** Loads the digits and builds the builder's network in the worker if it is not there yet. */
  prepare(): Promise<void>;
  /** Optimizer steps taken by the model in the worker (0: untrained, unless a model file was loaded). */
  steps(): number;
  loaded(): boolean;
  /** Called after the charts are redrawn (at most once a frame while training). */
  onProgress(fn: () => void): void;
}

export function createTrain(getSpec: () => SequentialSpec): TrainView {
  const trainer = new TrainerClient(new Worker(new URL('./trainer.ts', import.meta.url), { type: 'module' }));
  let state: 'idle' | 'training' | 'paused' = 'idle';
  let builtSpec: string | null = null;
  /** The name of the model file loaded (when builtSpec is 'loaded'), for the command line shown. */
  let loadedName = '';
  let dataLoaded = false;
  let run: Promise<TrainResult | void> | null = null;
  let seen = 0;
  let ema: { loss: number; acc: number } | null = null;
  let evaluating = false;
  let evalAgain = false;
  /** Counts the times the charts were cleared, so a late evaluation of an earlier model is dropped. */
  let generation = 0;
  let drawQueued = false;
  const listeners = new Set<() => void>();
  let opts = { lr: DEFAULT_LR.sgd, batchSize: 32, optimizer: 'sgd' as Optim, seed: 1, epochs: 3 };
  const trainLoss: [number, number][] = [];
  const trainAcc: [number, number][] = [];
  const testLoss: [number, number][] = [];
  const testAcc: [number, number][] = [];

  const lossSvg = document.createElementNS('http://www.w3.org/2000/svg', 'svg');
  lossSvg.setAttribute('role', 'img');
  lossSvg.setAttribute('aria-label', 'Loss against images seen');
  lossSvg.id = 'loss-chart';
  const accSvg = document.createElementNS('http://www.w3.org/2000/svg', 'svg');
  accSvg.setAttribute('role', 'img');
  accSvg.setAttribute('aria-label', 'Accuracy against images seen');
  const stats = h('dl', { class: 'train-stats', 'aria-live': 'off' });
  const backendLine = h('p', { class: 'note', id: 'train-backend' }, 'Starting the worker…');
  const message = h('p', { class: 'build-error', role: 'alert', hidden: true });
  const modelLine = h('p', { class: 'note', id: 'train-model' });
  const statusText = h('span', { class: 'train-state', id: 'train-state' }, 'ready');

  const statCells = new Map<string, HTMLElement>();
  for (const [k, id] of [['epoch', ''], ['batch', ''], ['images / s', 'train-ips'], ['train loss', ''], ['test loss', 'test-loss'], ['test accuracy', 'test-acc']]) {
    const dd = h('dd', { id: id || undefined }, '—');
    statCells.set(k, dd);
    stats.append(h('div', {}, h('dt', {}, k), dd));
  }
  const setStat = (k: string, v: string) => {
    const dd = statCells.get(k)!;
    if (dd.textContent !== v) dd.textContent = v;
  };
  let last: BatchProgress | null = null;
  function drawStats(): void {
    const tl = testLoss.at(-1);
    const ta = testAcc.at(-1);
    setStat('epoch', last ? `${last.epoch} / ${last.epochs}` : '—');
    setStat('batch', last ? `${last.batch + 1} / ${last.batches}` : '—');
    setStat('images / s', last ? Math.round(last.imagesPerSecond).toLocaleString('en-US') : '—');
    setStat('train loss', ema ? ema.loss.toFixed(3) : '—');
    setStat('test loss', tl ? tl[1].toFixed(3) : '—');
    setStat('test accuracy', ta ? `${ta[1].toFixed(1)} %` : '—');
  }
  const lossChart = new LineChart(lossSvg, { xLabel: 'images seen', yLabel: 'loss (cross-entropy)', yMin: 0 });
  const accChart = new LineChart(accSvg, { xLabel: 'images seen', yLabel: 'accuracy (%)', yMin: 0, yMax: 100 });
  function draw(): void {
    drawQueued = false;
    lossChart.update([
      { name: 'train', color: '#3b5bdb', points: thin(trainLoss) },
      { name: 'test', color: '#e8590c', points: testLoss, dots: true },
    ]);
    accChart.update([
      { name: 'train', color: '#3b5bdb', points: thin(trainAcc) },
      { name: 'test', color: '#e8590c', points: testAcc, dots: true },
    ]);
    drawStats();
    lossSvg.dataset.testLoss = testLoss.map((p) => p[1].toFixed(4)).join(',');
    lossSvg.dataset.testPoints = String(testLoss.length);
    for (const fn of listeners) fn();
  }
  /** Redraws at most every DRAW_MS: the main thread stays nearly idle while the worker trains. */
  let lastDraw = 0;
  const queueDraw = () => {
    if (drawQueued) return;
    drawQueued = true;
    setTimeout(() => requestAnimationFrame(() => {
      lastDraw = performance.now();
      draw();
    }), Math.max(0, lastDraw + DRAW_MS - performance.now()));
  };

  /** Evaluates the test digits; asked while an evaluation runs, it runs once more after it (for the current model). */
  async function evaluateTest(): Promise<void> {
    if (evaluating) {
      evalAgain = true;
      return;
    }
    evaluating = true;
    try {
      do {
        evalAgain = false;
        const at = seen;
        const of = generation;
        const r = await trainer.evaluate({ split: 'test' });
        // A Reset or a new model while the worker evaluated: the figure belongs to the old charts.
        if (of !== generation) continue;
        testLoss.push([at, r.loss]);
        testAcc.push([at, 100 * r.accuracy]);
        queueDraw();
      } while (evalAgain);
    } finally {
      evaluating = false;
    }
  }

  function onBatch(p: BatchProgress): void {
    last = p;
    // The raw numbers of the last batch, for anyone comparing with the command line (and the tests).
    section.dataset.lastLoss = String(p.loss);
    section.dataset.steps = String(p.step);
    seen += p.size;
    ema = ema === null ? { loss: p.loss, acc: p.accuracy } : { loss: 0.9 * ema.loss + 0.1 * p.loss, acc: 0.9 * ema.acc + 0.1 * p.accuracy };
    trainLoss.push([seen, ema.loss]);
    trainAcc.push([seen, 100 * ema.acc]);
    if (p.step % EVAL_EVERY === 0 || state === 'paused') void evaluateTest().catch(fail);
    queueDraw();
  }

  function fail(e: unknown): void {
    message.textContent = (e as Error).message;
    message.hidden = false;
  }

  function setState(s: typeof state, text?: string): void {
    state = s;
    statusText.textContent = text ?? s;
    section.dataset.state = s;
    startBtn.textContent = s === 'training' ? 'Pause' : s === 'paused' ? 'Resume' : 'Start training';
    stepBtn.disabled = s === 'training';
  }

  function clearCharts(): void {
    generation++;
    seen = 0;
    ema = null;
    last = null;
    for (const a of [trainLoss, trainAcc, testLoss, testAcc]) a.length = 0;
    // The figures read by scripts (and the tests) are cleared now, not at the next redraw.
    lossSvg.dataset.testLoss = '';
    lossSvg.dataset.testPoints = '0';
    queueDraw();
  }

  /** Loads the digits once and (re)builds the model when the builder's network changed. */
  async function prepare(): Promise<void> {
    if (!dataLoaded) {
      statusText.textContent = 'loading digits…';
      const d = await trainer.loadData({ url: new URL(DIGITS_URL, location.href).href });
      dataLoaded = true;
      dataLine.textContent = `${d.train.toLocaleString('en-US')} training and ${d.test.toLocaleString('en-US')} test digits (${d.height} × ${d.width}), shipped with the page.`;
    }
    const spec = JSON.stringify(getSpec());
    // While a run goes on the worker refuses a new model: the change waits for the next start or Reset.
    showCli();
    if (builtSpec !== spec && builtSpec !== 'loaded' && state === 'idle') {
      const info = await trainer.build(getSpec(), opts.seed);
      builtSpec = spec;
      modelLine.textContent = `The network from “Build a network”: ${info.params.toLocaleString('en-US')} parameters, ${(info.flops / 1e6).toFixed(2)} MFLOPs per image.`;
      clearCharts();
    }
  }

  async function begin(startPaused: boolean): Promise<void> {
    message.hidden = true;
    await prepare();
    setState(startPaused ? 'paused' : 'training');
    run = trainer
      .train({ epochs: opts.epochs, batchSize: opts.batchSize, optimizer: { name: opts.optimizer, lr: opts.lr }, seed: opts.seed, rngState: cliShuffleState(opts.seed), startPaused }, { onBatch })
      .then((r) => {
        setState('idle', r.stopReason === 'completed' ? `done: ${r.epochsDone} epochs` : 'stopped');
        return evaluateTest().then(() => r);
      })
      .catch((e) => {
        setState('idle', 'error');
        fail(e);
      });
  }

  async function start(): Promise<void> {
    if (state === 'idle') await begin(false);
  }

  const startBtn = h('button', { type: 'button', class: 'primary big', id: 'train-start', onclick: () => {
    const act = state === 'idle' ? begin(false) : state === 'training' ? trainer.pause().then(() => setState('paused')) : trainer.resume().then(() => setState('training'));
    act.catch(fail);
  } }, 'Start training');
  const stepBtn = h('button', { type: 'button', id: 'train-step', onclick: () => {
    const act = state === 'idle' ? begin(true).then(() => trainer.step()) : trainer.step();
    act.catch(fail);
  } }, 'Step one batch');
  const resetBtn = h('button', { type: 'button', id: 'train-reset', onclick: async () => {
    try {
      if (state !== 'idle') {
        await trainer.stop();
        await run;
      }
      builtSpec = null;
      await prepare();
      setState('idle', 'ready');
    } catch (e) {
      fail(e);
    }
  } }, 'Reset');

  const saveBtn = h('button', { type: 'button', id: 'model-save', onclick: async () => {
    try {
      await prepare();
      const bytes = await trainer.saveModel();
      const a = h('a', { href: URL.createObjectURL(new Blob([bytes as Uint8Array<ArrayBuffer>], { type: 'application/octet-stream' })), download: 'playground-model.safetensors' });
      document.body.append(a);
      a.click();
      a.remove();
    } catch (e) {
      fail(e);
    }
  } }, 'Download the model');
  const upload = h('input', { type: 'file', accept: '.safetensors,application/octet-stream', id: 'model-upload', class: 'visually-hidden' });
  upload.addEventListener('change', async () => {
    const file = upload.files?.[0];
    if (!file) return;
    try {
      if (state !== 'idle') throw new Error('Pause and reset training before loading a model file');
      if (!dataLoaded) await prepare();
      const info = await trainer.loadModel(new Uint8Array(await file.arrayBuffer()));
      builtSpec = 'loaded';
      loadedName = file.name.replace(/\s/g, '_');
      showCli();
      clearCharts();
      modelLine.textContent = `Loaded ${file.name}: ${info.params.toLocaleString('en-US')} parameters (Reset goes back to the builder’s network).`;
      await evaluateTest();
    } catch (e) {
      fail(e);
    } finally {
      upload.value = '';
    }
  });
  const dataLine = h('p', { class: 'note' }, 'The digits load on the first start.');
  const cliCode = h('code', { id: 'train-cli' });
  const cliNote = h('p', { class: 'note', id: 'train-cli-note' });
  /** The command line that gives the same numbers, for the current network and settings. */
  function showCli(): void {
    const spec = getSpec();
    cliCode.textContent = cliCommand(spec, opts, builtSpec === 'loaded' ? loadedName : undefined);
    cliNote.textContent = builtSpec === 'loaded'
      ? `The model file you loaded (${loadedName}) goes on training from its weights, as here.`
      : presetOf(spec) === null
      ? 'Your network is no preset: download the model before training (“Download the model”) and save it as untrained.safetensors; `stride train -m` starts from its weights. digits.bin.gz is this page’s data file (next to index.html).'
      : 'digits.bin.gz is this page’s data file (next to index.html): with it, the command line’s first batches have the page’s losses.';
  }

  const lrField = numberField('Learning rate', opts.lr, { min: 0.0001, max: 1, step: 0.001, name: 'train-lr', onInput: (v) => {
    if (!(v > 0)) return;
    opts.lr = v;
    if (state !== 'idle') void trainer.setLearningRate(v).catch(fail);
  } });
  const controls = h(
    'div',
    { class: 'controls' },
    startBtn,
    stepBtn,
    resetBtn,
    h('span', { class: 'state-wrap' }, 'State: ', statusText),
  );
  const settings = h(
    'div',
    { class: 'controls' },
    selectField('Optimizer', [['sgd', 'SGD'], ['adam', 'Adam'], ['adamw', 'AdamW'], ['rmsprop', 'RMSProp']], opts.optimizer, (v) => {
      opts.optimizer = v as Optim;
      opts.lr = DEFAULT_LR[opts.optimizer];
      lrField.querySelector('input')!.value = String(opts.lr);
    }, 'train-optimizer'),
    lrField,
    selectField('Batch size', [['16', '16'], ['32', '32'], ['64', '64'], ['128', '128']], '32', (v) => (opts.batchSize = Number(v)), 'train-batch'),
    selectField('Epochs', [['1', '1'], ['3', '3'], ['5', '5'], ['10', '10']], '3', (v) => (opts.epochs = Number(v)), 'train-epochs'),
    numberField('Seed', opts.seed, { min: 0, max: 1e9, name: 'train-seed', onInput: (v) => {
      if (Number.isInteger(v) && v >= 0) {
        opts = { ...opts, seed: v };
        if (state === 'idle') builtSpec = null; // a new seed initialises a new model on the next start
      }
    } }),
  );

  const section = h(
    'section',
    { class: 'panel', id: 'view-train', 'aria-labelledby': 'train-title', 'data-state': 'idle' },
    h('header', { class: 'panel-head' },
      h('h2', { id: 'train-title' }, 'Train it live'),
      h('p', { class: 'lede' }, 'Your network trains on handwritten digits in a Web Worker, on Stride’s WebAssembly kernels, so the page never freezes. Same seed, same numbers as the command line.'),
    ),
    controls,
    settings,
    message,
    stats,
    h('div', { class: 'charts' },
      h('figure', { class: 'chart' }, lossSvg, h('figcaption', {}, h('span', { class: 'key train' }, 'train (smoothed)'), h('span', { class: 'key test' }, 'test (1,000 digits)'))),
      h('figure', { class: 'chart' }, accSvg, h('figcaption', {}, h('span', { class: 'key train' }, 'train (smoothed)'), h('span', { class: 'key test' }, 'test'))),
    ),
    h('div', { class: 'files' }, saveBtn, upload, h('label', { for: 'model-upload', class: 'button' }, 'Load a model file…'),
      h('p', { class: 'note' }, 'The same model-file format as the command line: a downloaded model loads in `stride eval`, and a model trained by `stride train` loads here.')),
    h('div', { class: 'cli' }, h('p', { class: 'note' }, 'Same seed, same numbers: this run on the command line is'), h('pre', {}, cliCode), cliNote),
    modelLine,
    dataLine,
    backendLine,
  );
  settings.addEventListener('change', showCli);
  settings.addEventListener('input', showCli);
  showCli();
  setState('idle', 'ready');
  draw();
  trainer
    .info()
    .then((i) => {
      const b = i.backend as BackendInfo;
      const kernels = b.backend === 'wasm' ? `WebAssembly ${b.build ?? ''}, ${b.threads} thread${b.threads === 1 ? '' : 's'}` : 'reference kernels';
      backendLine.textContent = `In the worker: ${kernels}${b.reason ? ` (${b.reason})` : ''}.`;
      backendLine.dataset.threads = String(b.threads);
    })
    .catch(fail);
  return { element: section, start, trainer, prepare, steps: () => last?.step ?? 0, loaded: () => builtSpec === 'loaded', onProgress: (fn) => listeners.add(fn) };
}
