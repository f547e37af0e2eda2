/**
 * Issue #3: the core runs unchanged in a real browser, with the WebAssembly SIMD backend, Web
 * Worker threads over shared memory in a cross-origin-isolated page, the single-threaded path where
 * shared memory is unavailable, and the reference fallback without SIMD.
 *
 * src/index.ts is bundled with esbuild (ESM, platform 'browser') next to the in-page harness
 * (page.ts; code splitting, so both share one copy of the library), served from 127.0.0.1 with and
 * without the COOP/COEP headers, and loaded in Debian's Chromium through playwright-core. Chromium
 * is required: without it these tests fail (CI installs it with apt-get), they never skip.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import type { Browser } from 'playwright-core';
import { launchChromium } from './harness.js';
import type { PageMode, PageReport } from './report.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
/** Per page; a deadlock (e.g. a main thread waiting for workers that never run) shows up as this timeout. */
const PAGE_TIMEOUT_MS = 30_000;
/** |wasm - reference| <= ATOL + RTOL * max|reference|, as in test/wasm. */
const ATOL = 1e-5;
const RTOL = 1e-4;

interface Harness {
  dir: string;
  server: Server;
  origin: string;
  browser: Browser;
  bundleMs: number;
}

let harness: Promise<Harness> | null = null;
const opened: { dir?: string; server?: Server; browser?: Browser } = {};

async function setUp(): Promise<Harness> {
  const dir = mkdtempSync(join(tmpdir(), 'stride-browser-'));
  opened.dir = dir;
  const t0 = performance.now();
  await build({
    entryPoints: { stride: join(ROOT, 'src/index.ts'), harness: join(ROOT, 'test/browser/page.ts') },
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    outdir: dir,
    logLevel: 'silent',
  });
  const bundleMs = performance.now() - t0;

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const [, scope, ...rest] = url.pathname.split('/');
    const file = rest.join('/');
    if (scope === 'coi') {
      // Cross-origin isolation: what a page needs for SharedArrayBuffer (and so wasm threads).
      res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
      res.setHeader('Cross-Origin-Embedder-Policy', 'require-corp');
    } else if (scope !== 'plain') {
      res.writeHead(404).end();
      return;
    }
    res.setHeader('Cache-Control', 'no-store');
    if (file === 'index.html') {
      const mode = url.searchParams.get('mode') ?? 'plain';
      // An engine without SIMD: every feature probe fails, before the library is even loaded.
      const hideSimd = mode === 'nosimd' ? '<script>WebAssembly.validate = function () { return false; };</script>\n' : '';
      // Mode 'worker': the page runs the harness (and so the library) in a dedicated module worker.
      const load =
        mode === 'worker'
          ? `<script type="module">
globalThis.__strideReport = new Promise(function (resolve) {
  var w = new Worker('./harness.js?mode=worker', { type: 'module' });
  w.onmessage = function (e) { resolve(e.data); };
  w.onerror = function (e) { resolve({ error: 'worker error: ' + e.message }); };
});
</script>\n`
          : '<script type="module" src="./harness.js"></script>\n';
      res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
      res.end(`<!doctype html>\n<meta charset="utf-8">\n<title>stride ${mode}</title>\n<link rel="icon" href="data:,">\n${hideSimd}${load}`);
      return;
    }
    if (/^[\w.-]+\.js$/.test(file) && existsSync(join(dir, file))) {
      res.writeHead(200, { 'Content-Type': 'text/javascript; charset=utf-8' });
      res.end(readFileSync(join(dir, file)));
      return;
    }
    res.writeHead(404).end();
  });
  opened.server = server;
  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => ok());
  });
  const port = (server.address() as { port: number }).port;

  const browser = await launchChromium();
  opened.browser = browser;
  return { dir, server, origin: `http://127.0.0.1:${port}`, browser, bundleMs };
}

function harnessOnce(): Promise<Harness> {
  harness ??= setUp();
  return harness;
}

after(async () => {
  await opened.browser?.close();
  opened.server?.close();
  if (opened.dir) rmSync(opened.dir, { recursive: true, force: true });
});

interface PageRun {
  report: PageReport;
  workers: number;
  ms: number;
}

const runs = new Map<PageMode, Promise<PageRun>>();

/** Loads one page, waits for its report, and checks that nothing went wrong in the page. */
function runPage(mode: PageMode): Promise<PageRun> {
  let p = runs.get(mode);
  if (p === undefined) {
    p = (async (): Promise<PageRun> => {
      const h = await harnessOnce();
      const context = await h.browser.newContext();
      try {
        const page = await context.newPage();
        const problems: string[] = [];
        let workers = 0;
        page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
        page.on('console', (m) => {
          if (m.type() === 'error') problems.push(`console.error: ${m.text()} (${m.location().url})`);
        });
        page.on('worker', () => workers++);
        const scope = mode === 'threads' || mode === 'worker' ? 'coi' : 'plain';
        const t0 = performance.now();
        let timer: NodeJS.Timeout | undefined;
        const timeout = new Promise<never>((_, fail) => {
          timer = setTimeout(
            () => fail(new Error(`${mode} page: no report within ${PAGE_TIMEOUT_MS} ms (a deadlock or a hang in the page?); page problems: ${problems.join('; ') || 'none'}`)),
            PAGE_TIMEOUT_MS,
          );
        });
        try {
          const load = (async () => {
            await page.goto(`${h.origin}/${scope}/index.html?mode=${mode}`, { waitUntil: 'load' });
            await page.waitForFunction(() => (globalThis as { __strideReport?: unknown }).__strideReport !== undefined, null, {
              timeout: PAGE_TIMEOUT_MS,
            });
            return page.evaluate(() => (globalThis as unknown as { __strideReport: Promise<PageReport | { error: string }> }).__strideReport);
          })();
          load.catch(() => undefined); // after a timeout, closing the context rejects it: already reported
          const result = await Promise.race([load, timeout]);
          if ('error' in result) throw new Error(`${mode} page threw: ${result.error}`);
          assert.deepEqual(problems, [], `${mode} page reported errors`);
          return { report: result, workers, ms: performance.now() - t0 };
        } finally {
          clearTimeout(timer);
        }
      } finally {
        await context.close();
      }
    })();
    runs.set(mode, p);
  }
  return p;
}

function assertOpsMatchReference(r: PageReport): void {
  assert.ok(r.ops.length >= 8, `${r.mode}: expected every op case to run, got ${r.ops.length}`);
  for (const op of r.ops) {
    for (const part of op.parts) {
      const what = `${r.mode} page, ${op.name} (${part.part}) on '${r.backendAfterReady}' vs reference`;
      assert.deepEqual(part.shape, part.refShape, `${what}: shape`);
      const tol = ATOL + RTOL * part.maxAbsRef;
      assert.ok(part.maxAbsDiff <= tol, `${what}: max |diff| ${part.maxAbsDiff} > tolerance ${tol}`);
    }
  }
}

/** Every output in `a` is within tolerance of the same output in `b` (two pages, or two thread counts). */
function assertSameOutputs(a: Record<string, number[]>, b: Record<string, number[]>, what: string): void {
  assert.deepEqual(Object.keys(a).sort(), Object.keys(b).sort(), `${what}: the same outputs`);
  for (const key of Object.keys(a)) {
    const x = a[key];
    const y = b[key];
    assert.equal(x.length, y.length, `${what}, ${key}: length`);
    let maxRef = 0;
    let maxDiff = 0;
    for (let i = 0; i < x.length; i++) {
      maxRef = Math.max(maxRef, Math.abs(y[i]));
      const d = Math.abs(x[i] - y[i]);
      maxDiff = Number.isNaN(d) ? Infinity : Math.max(maxDiff, d);
    }
    assert.ok(maxDiff <= ATOL + RTOL * maxRef, `${what}, ${key}: max |diff| ${maxDiff} > ${ATOL + RTOL * maxRef}`);
  }
}

/** The tiny CNN trained on both backends: finite, falling loss, and the same curve. */
function assertTraining(r: PageReport): void {
  const [own, ref] = r.training;
  assert.equal(own.backend, r.backendAfterReady);
  assert.equal(ref.backend, 'reference');
  for (const t of [own, ref]) {
    assert.equal(t.losses.length, 6, `${r.mode}: training steps on ${t.backend}`);
    assert.ok(t.losses.every(Number.isFinite), `${r.mode}: finite losses on ${t.backend}: ${t.losses}`);
    assert.ok(t.losses[t.losses.length - 1] < t.losses[0], `${r.mode}: loss falls on ${t.backend}: ${t.losses}`);
  }
  own.losses.forEach((l, i) => {
    assert.ok(Math.abs(l - ref.losses[i]) <= 1e-4 * Math.max(1, Math.abs(ref.losses[i])), `${r.mode}: step ${i} loss ${l} on ${own.backend} vs ${ref.losses[i]} on reference`);
  });
}

function log(r: PageRun): void {
  const o = r.report;
  const fmt = (n: number | null): string => (n === null ? '-' : n.toFixed(1));
  console.log(
    `# ${o.mode}: backend ${o.backendAfterReady} (${o.variant ?? 'no wasm'}), threads ${o.threads}, workers started ${r.workers}, ` +
      `chunks per thread ${JSON.stringify(o.chunkCountsAfter)}, ready() ${fmt(o.readyMs)} ms, ` +
      `big conv fwd+bwd ${fmt(o.bigConvMs)} ms (1 thread: ${fmt(o.bigConvMs1)} ms), train 6 steps ${fmt(o.training[0].ms)} ms ` +
      `(reference ${fmt(o.training[1].ms)} ms), page ${fmt(r.ms)} ms`,
  );
}

/** What every cross-origin-isolated run must show: the shared build, two threads, both doing work. */
function assertThreaded(run: PageRun): void {
  const r = run.report;
  assert.equal(r.crossOriginIsolated, true, 'COOP/COEP headers make the page cross-origin isolated');
  assert.equal(r.sharedArrayBuffer, true, 'SharedArrayBuffer exists in an isolated page');
  assert.equal(r.backendAtImport, 'wasm', 'importing the library selects wasm synchronously');
  assert.equal(r.backendAfterReady, 'wasm');
  assert.ok(r.backends.includes('wasm') && r.backends.includes('reference'), `backends: ${r.backends}`);
  assert.ok(r.variant === 'simdShared' || r.variant === 'relaxedShared', `shared-memory build expected, got ${r.variant}`);
  assert.equal(r.hasPool, true, 'a thread pool over shared memory');
  assert.equal(r.setThreads2, 2, 'setThreads(2) before ready()');
  assert.equal(r.threads, 2, 'getThreads() after ready()');
  assertOpsMatchReference(r);
  assertTraining(r);
  // The worker (thread 1) ran part of the op checks' work. (How much the calling thread, thread 0,
  // takes depends on scheduling: on a busy machine an awake worker may claim every chunk.)
  assert.ok(r.chunkCountsBefore !== null && r.chunkCountsAfter !== null);
  assert.equal(r.chunkCountsAfter.length, 2);
  const counts = `${JSON.stringify(r.chunkCountsBefore)} -> ${JSON.stringify(r.chunkCountsAfter)}`;
  assert.ok(r.chunkCountsAfter[1] > r.chunkCountsBefore[1], `the worker ran no chunk: ${counts}`);
  // Back to one thread: the same results.
  assert.equal(r.threadsAfterSetThreads1, 1);
  assert.ok(r.outputsSingleThread !== undefined);
  assertSameOutputs(r.outputs, r.outputsSingleThread, `${r.mode} page, 2 threads vs setThreads(1)`);
}

test('cross-origin-isolated page: wasm SIMD backend with Web Worker threads over shared memory', { timeout: 90_000 }, async () => {
  const run = await runPage('threads');
  console.log(`# esbuild bundle of src/index.ts + harness: ${(await harnessOnce()).bundleMs.toFixed(0)} ms`);
  log(run);
  assert.equal(run.report.inWorker, false);
  assert.equal(run.report.mainThreadCanWait, false, "a browser's main thread cannot Atomics.wait: the library must not rely on it there");
  assertThreaded(run);
  assert.ok(run.workers >= 1, `Web Workers started in the page: ${run.workers}`);
});

test('the library inside a dedicated Web Worker of an isolated page: nested worker threads, blocking waits', { timeout: 90_000 }, async () => {
  const run = await runPage('worker');
  log(run);
  assert.equal(run.report.inWorker, true);
  assert.equal(run.report.mainThreadCanWait, true, 'a dedicated worker may Atomics.wait');
  assertThreaded(run);
  assert.ok(run.workers >= 2, `the host worker and a nested thread worker: ${run.workers}`);
  // Same inputs, same results as on the page's main thread.
  assertSameOutputs(run.report.outputs, (await runPage('threads')).report.outputs, 'worker vs main thread');
});

test('page without cross-origin isolation: no SharedArrayBuffer, single-threaded wasm, same results', { timeout: 90_000 }, async () => {
  const run = await runPage('plain');
  const r = run.report;
  log(run);
  assert.equal(r.crossOriginIsolated, false);
  assert.equal(r.sharedArrayBuffer, false, 'no SharedArrayBuffer without cross-origin isolation');
  assert.equal(r.backendAtImport, 'wasm');
  assert.equal(r.backendAfterReady, 'wasm');
  assert.ok(r.variant === 'simd' || r.variant === 'relaxed', `the non-shared build expected, got ${r.variant}`);
  assert.equal(r.hasPool, false, 'no thread pool without shared memory');
  assert.equal(r.setThreads2, 1, 'setThreads(2) stays at 1 without shared memory');
  assert.equal(r.threads, 1);
  assert.equal(run.workers, 0, 'no Web Workers without shared memory');
  assertOpsMatchReference(r);
  assertTraining(r);
  // The same inputs give the same outputs as the threaded, isolated page.
  const threaded = (await runPage('threads')).report;
  assertSameOutputs(r.outputs, threaded.outputs, 'plain page vs threads page');
});

test('page without WebAssembly SIMD: the reference backend stays selected and everything still runs', { timeout: 90_000 }, async () => {
  const run = await runPage('nosimd');
  const r = run.report;
  log(run);
  assert.equal(r.backendAtImport, 'reference');
  assert.equal(r.backendAfterReady, 'reference', 'ready() resolves with the fallback');
  assert.deepEqual(r.backends, ['reference'], 'wasm is not registered without SIMD');
  assert.equal(r.variant, null);
  assert.equal(r.setThreads2, 1);
  assert.equal(r.threads, 1);
  assert.equal(run.workers, 0);
  assertOpsMatchReference(r);
  for (const op of r.ops) for (const p of op.parts) assert.equal(p.maxAbsDiff, 0, `${op.name} (${p.part}): the reference against itself`);
  assertTraining(r);
});
