/**
 * Training off the main thread in a real browser (issue 7): Debian's Chromium (playwright-core)
 * loads a cross-origin-isolated page from 127.0.0.1 that trains the small model in a module worker
 * (`serveTrainer` in examples/worker/trainer.ts) on compact digits fetched from the same origin
 * (gzipped: the worker unpacks them with the browser's DecompressionStream).
 *
 * - A `PerformanceObserver` for `longtask`, started before anything else in the page, sees no main
 *   thread task over 100 ms while training; a deliberate 150 ms task after training shows that the
 *   observer works (so the check can fail).
 * - The losses equal those of the same run in Node (trainStep on the same bytes, same seeds), and
 *   the page's model file equals Node's byte for byte; images/s of both are reported.
 * - examples/worker (docs/worker.md's example) runs as a page: trains, evaluates, offers the model
 *   file, with no console error and no request outside the page's origin.
 *
 * Chromium is required: without /usr/bin/chromium these tests fail, they never skip.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';
import { chromium, type Browser, type Page } from 'playwright-core';
import { encodeCompactDataset } from '../../src/data/compact.js';
import { loadMnistSplits } from '../../src/node/mnist.js';
import { packOrder } from '../../src/cli/commands/pack-data.js';
import type { WorkerPageReport } from './page.js';
import type { BackendInfo } from '../../src/kernels/wasm/index.js';

const run = promisify(execFile);
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const CHROMIUM = '/usr/bin/chromium';
const ARGS = ['--headless=new', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const LIMIT = 3200;
const BATCH = 32;
const LONG_TASK_MS = 100;

let dir = '';
let server: Server | null = null;
let browser: Browser | null = null;
let origin = '';
let digits: Uint8Array = new Uint8Array();

before(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`worker browser tests: Chromium not found at ${CHROMIUM}; install it with \`apt-get install -y chromium\` (they do not skip)`);
  dir = mkdtempSync(join(tmpdir(), 'stride-worker-page-'));
  const { train, test: testSet } = loadMnistSplits();
  digits = encodeCompactDataset({ train: packOrder(train, LIMIT, undefined), test: packOrder(testSet, 500, undefined) });
  await build({
    entryPoints: { trainer: join(ROOT, 'examples/worker/trainer.ts'), main: join(ROOT, 'examples/worker/main.ts'), harness: join(ROOT, 'test/worker/page.ts') },
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    outdir: dir,
    logLevel: 'silent',
    // The example imports the package by name, as a user would; here it is this checkout's source.
    plugins: [
      {
        name: 'stride-cnn-from-source',
        setup(b) {
          b.onResolve({ filter: /^stride-cnn(\/worker)?$/ }, (args) => ({ path: join(ROOT, args.path === 'stride-cnn' ? 'src/index.ts' : 'src/worker/index.ts') }));
        },
      },
    ],
  });
  const harnessHtml = `<!doctype html>
<meta charset="utf-8">
<title>stride worker</title>
<link rel="icon" href="data:,">
<script>
globalThis.__longTasks = [];
globalThis.__longTaskSupported = PerformanceObserver.supportedEntryTypes.includes('longtask');
new PerformanceObserver(function (list) {
  for (const e of list.getEntries()) globalThis.__longTasks.push({ start: e.startTime, duration: e.duration });
}).observe({ type: 'longtask', buffered: true });
</script>
<script type="module" src="./harness.js"></script>
`;
  const exampleHtml = readFileSync(join(ROOT, 'examples/worker/index.html'), 'utf8').replace('<title>', '<link rel="icon" href="data:,">\n<title>');
  server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://127.0.0.1').pathname.slice(1);
    // The page AND the worker scripts need these: a worker without COEP is blocked in an isolated page.
    res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
    res.setHeader('Cross-Origin-Embedder-Policy', 'require-corp');
    res.setHeader('Cross-Origin-Resource-Policy', 'same-origin');
    res.setHeader('Cache-Control', 'no-store');
    if (path === 'harness.html' || path === 'index.html') {
      res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' }).end(path === 'index.html' ? exampleHtml : harnessHtml);
    } else if (path === 'digits.bin' || path === 'digits.bin.gz') {
      // The .gz file is sent as it is (no Content-Encoding): the page's code unpacks it.
      res.writeHead(200, { 'Content-Type': 'application/octet-stream' }).end(path === 'digits.bin' ? digits : gzipSync(digits));
    } else if (/^[\w.-]+\.js$/.test(path) && existsSync(join(dir, path))) {
      res.writeHead(200, { 'Content-Type': 'text/javascript; charset=utf-8' }).end(readFileSync(join(dir, path)));
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((ok, fail) => {
    server!.once('error', fail);
    server!.listen(0, '127.0.0.1', () => ok());
  });
  origin = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS, timeout: 30_000 });
});

after(async () => {
  await browser?.close();
  server?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Opens a page and collects everything that went wrong in it (errors, failed or foreign requests). */
async function open(path: string): Promise<{ page: Page; problems: string[] }> {
  const context = await browser!.newContext();
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`console.error: ${m.text()}`);
  });
  page.on('requestfailed', (r) => problems.push(`request failed: ${r.url()} ${r.failure()?.errorText ?? ''}`));
  page.on('request', (r) => {
    if (!r.url().startsWith(origin) && !r.url().startsWith('data:') && !r.url().startsWith('blob:')) problems.push(`request outside the origin: ${r.url()}`);
  });
  await page.goto(`${origin}/${path}`, { waitUntil: 'load' });
  return { page, problems };
}

/**
 * The page's run in Node (test/worker/node-run.ts in a child process): same bytes, spec, seeds and
 * the same wasm build as Chromium's (relaxed SIMD, which Node 20 enables with a flag).
 */
async function nodeRun(): Promise<{ backend: BackendInfo; losses: number[]; imagesPerSecond: number; model: Uint8Array }> {
  const file = join(dir, 'digits.bin');
  writeFileSync(file, digits);
  const { stdout } = await run(process.execPath, ['--experimental-wasm-relaxed-simd', '--import', 'tsx', join(ROOT, 'test/worker/node-run.ts'), file, String(LIMIT), String(BATCH)], { cwd: ROOT, timeout: 60_000 });
  const r = JSON.parse(stdout) as { backend: BackendInfo; losses: number[]; imagesPerSecond: number; model: string };
  return { ...r, model: new Uint8Array(Buffer.from(r.model, 'base64')) };
}

test('a page trains the small model in a module worker: main thread free, same numbers as Node', { timeout: 120_000 }, async (t) => {
  const { page, problems } = await open(`harness.html?limit=${LIMIT}&batch=${BATCH}&data=./digits.bin.gz`);
  await page.waitForFunction(() => globalThis.__workerReport !== undefined, null, { timeout: 30_000 });
  const report = (await page.evaluate(() => globalThis.__workerReport)) as WorkerPageReport | { error: string };
  if ('error' in report) throw new Error(`the page threw: ${report.error}; ${problems.join('; ')}`);
  // The control: a 150 ms task on the main thread after training must be seen by the observer.
  const control = await page.evaluate(async () => {
    const supported = (globalThis as { __longTaskSupported?: boolean }).__longTaskSupported;
    const t = performance.now();
    // A task of the page's own (a timer), as a page's work would be; busy on purpose.
    await new Promise<void>((r) =>
      setTimeout(() => {
        const s = performance.now();
        while (performance.now() - s < 150);
        r();
      }, 0),
    );
    await new Promise((r) => setTimeout(r, 300));
    return { supported, seen: globalThis.__longTasks.filter((l) => l.start >= t - 1 && l.duration >= 140).length };
  });
  await page.context().close();
  assert.deepEqual(problems, []);
  assert.equal(control.supported, true, 'Chromium supports longtask entries');
  assert.ok(control.seen >= 1, `the observer sees a deliberate 150 ms task: ${JSON.stringify(control)}`);

  assert.equal(report.crossOriginIsolated, true);
  // In the isolated page the worker's kernels run on wasm with 2 threads really working.
  assert.equal(report.backend.backend, 'wasm');
  assert.equal(report.backend.threads, 2, `threads in the worker: ${JSON.stringify(report.backend)}`);
  assert.equal(report.batches, LIMIT / BATCH, 'batches trained');
  const during = report.longTasks.filter((l) => l.start + l.duration > report.trainStart && l.start < report.trainEnd);
  const tooLong = during.filter((l) => l.duration > LONG_TASK_MS);
  assert.deepEqual(tooLong, [], `main-thread tasks over ${LONG_TASK_MS} ms while training (${((report.trainEnd - report.trainStart) / 1000).toFixed(1)} s)`);
  assert.ok(report.frames > 10, `the page kept drawing frames while training: ${report.frames}`);
  assert.ok(report.paused.after === report.paused.before, `no batch while paused: ${JSON.stringify(report.paused)}`);

  const node = await nodeRun();
  assert.equal(node.backend.build, report.backend.build, 'Node runs the same wasm build as the page');
  // The weights are float32 from the same wasm code: bit-identical. The reported loss is a JS
  // double from Math.log / Math.exp, which two V8 versions may round 1 ulp apart.
  assert.deepEqual(report.model, Array.from(node.model), "the page's model file equals Node's, byte for byte");
  assert.equal(report.losses.length, node.losses.length);
  report.losses.forEach((l, i) => assert.ok(Math.abs(l - node.losses[i]) <= 1e-14 * Math.abs(l), `loss ${i}: page ${l}, Node ${node.losses[i]}`));
  assert.ok(report.testAccuracy > 0.5, `test accuracy after one pass over ${LIMIT} digits: ${report.testAccuracy}`);
  const ratio = report.imagesPerSecond / node.imagesPerSecond;
  t.diagnostic(
    `worker ${report.imagesPerSecond.toFixed(0)} images/s on ${report.backend.threads} threads (${report.backend.build}; trainStep ${(report.trainStepMs / (report.trainEnd - report.trainStart - 200)).toFixed(2)} of the time), ` +
      `Node ${node.imagesPerSecond.toFixed(0)} images/s on ${node.backend.threads} (${node.backend.build}): ratio ${ratio.toFixed(2)}; ${during.length} long tasks while training, longest ${Math.max(0, ...during.map((l) => l.duration)).toFixed(0)} ms`,
  );
});

test('examples/worker (docs/worker.md) runs in the browser: trains, evaluates, offers the model file', { timeout: 90_000 }, async () => {
  const { page, problems } = await open('index.html');
  await page.waitForFunction(() => document.body.dataset.state === 'done' || document.querySelector('#log')?.textContent?.includes('Error'), null, { timeout: 60_000 }).catch(() => undefined);
  const state = await page.evaluate(() => ({ done: document.body.dataset.state, log: document.querySelector('#log')!.textContent!, status: document.querySelector('#status')!.textContent!, href: document.querySelector<HTMLAnchorElement>('#download')!.href }));
  const size = await page.evaluate(async (href) => (await (await fetch(href)).arrayBuffer()).byteLength, state.href).catch(() => -1);
  await page.context().close();
  assert.deepEqual(problems, []);
  assert.equal(state.done, 'done', `the example did not finish: ${state.status} / ${state.log}`);
  assert.match(state.log, /\d+ parameters, 3200 training digits/);
  assert.match(state.log, /trained 32 batches at \d+ images\/s; test accuracy \d+\.\d%/);
  assert.match(state.status, /epoch 1, batch 32\/32: loss \d\.\d{3}/);
  assert.ok(size > 10_000, `the model file behind the download link: ${size} bytes`);
});
