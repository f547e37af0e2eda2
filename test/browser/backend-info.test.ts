/**
 * Issue #7 item 2: backendInfo() tells the truth about what runs in a page, and why. One page per
 * case, served from 127.0.0.1 to Debian's Chromium, each asking for two threads:
 * - cross-origin isolated (COOP same-origin + COEP require-corp): wasm, 2 threads working, no reason;
 * - no COOP/COEP: 1 thread, the reason names cross-origin isolation and both headers;
 * - a CSP without 'wasm-unsafe-eval': the reference kernels, ready() still resolves, the reason names
 *   the CSP and the directive;
 * - a CSP whose worker-src leaves out blob:: 1 thread, the reason names workers and `worker-src blob:`.
 * Each fallback prints one console.warn (once, however often ready() is awaited), none after
 * setFallbackWarnings(false).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import type { Browser } from 'playwright-core';
import { ISOLATION_HEADERS, launchChromium, loadPage, startServer, type PageLog } from './harness.js';
import type { InfoReport } from './info-page.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
/** ready() waits up to 10 s for workers that never start: a fallback must be found well before. */
const READY_LIMIT_MS = 3000;

/** Response headers of each case, for the page and every script it loads. */
const CASES = {
  isolated: ISOLATION_HEADERS,
  plain: {},
  'csp-no-wasm': { ...ISOLATION_HEADERS, 'Content-Security-Policy': "script-src 'self'" },
  'csp-no-blob-workers': { ...ISOLATION_HEADERS, 'Content-Security-Policy': "script-src 'self' 'wasm-unsafe-eval'; worker-src 'self'" },
} satisfies Record<string, Record<string, string>>;
type Case = keyof typeof CASES;

const PAGE = `<!doctype html>\n<meta charset="utf-8">\n<title>stride backendInfo</title>\n<link rel="icon" href="data:,">\n<script type="module" src="./info-page.js"></script>\n`;

let dir = '';
let server: Server | null = null;
let origin = '';
let browser: Browser | null = null;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'stride-info-'));
  await build({
    entryPoints: [join(ROOT, 'test/browser/info-page.ts')],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    outdir: dir,
    logLevel: 'silent',
  });
  ({ server, origin } = await startServer((url) => {
    const [, scope, file] = url.pathname.split('/');
    if (!(scope in CASES)) return null;
    const headers = CASES[scope as Case];
    return file === 'index.html' ? { dir, file, headers, body: PAGE } : { dir, file, headers };
  }));
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  server?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function run(c: Case, query = ''): Promise<{ r: InfoReport; log: PageLog }> {
  const { result, log } = await loadPage<InfoReport | { error: string }>(browser!, `${origin}/${c}/index.html${query}`, '__strideInfo');
  if ('error' in result) assert.fail(`${c} page threw: ${result.error}; page errors: ${log.errors.join(' | ')}`);
  const r = result;
  console.log(`# ${c}${query}: ${JSON.stringify(r.info)}, ready() ${r.readyMs.toFixed(0)} ms, conv ${r.convMs.toFixed(1)} ms, work ${JSON.stringify(r.work)}, warnings ${JSON.stringify(log.warnings)}`);
  return { r, log };
}

/** What every case shares: ready() resolved promptly with backendInfo()'s object, which stayed the same. */
function assertConsistent(c: Case, r: InfoReport): void {
  assert.equal(r.readyError, null, `${c}: ready() must resolve, not reject`);
  assert.deepEqual(r.fromReady, r.info, `${c}: ready() resolves with backendInfo()`);
  assert.deepEqual(r.infoAgain, r.info, `${c}: backendInfo() after more ops`);
  assert.ok(r.readyMs < READY_LIMIT_MS, `${c}: ready() took ${r.readyMs.toFixed(0)} ms`);
  assert.equal(r.info.requestedThreads, 2, `${c}: requestedThreads after setThreads(2)`);
  assert.equal(r.info.simd, true, `${c}: Chromium has SIMD128`);
  assert.ok(r.convFinite, `${c}: the conv ran`);
}

/** Exactly one console.warn that names `needle` (the fix), and it carries the reason. */
function assertOneWarning(c: Case, log: PageLog, needle: string, reason: string): void {
  const mine = log.warnings.filter((w) => w.includes(needle));
  assert.equal(mine.length, 1, `${c}: one console.warn naming ${needle}, got ${JSON.stringify(log.warnings)}`);
  assert.ok(mine[0].includes(reason), `${c}: the warning carries the reason '${reason}': ${mine[0]}`);
}

test('cross-origin-isolated page: wasm with 2 threads working, no reason, no warning', { timeout: 60_000 }, async () => {
  const { r, log } = await run('isolated');
  assertConsistent('isolated', r);
  assert.equal(r.crossOriginIsolated, true);
  assert.equal(r.info.backend, 'wasm');
  assert.ok(r.info.build === 'relaxedShared' || r.info.build === 'simdShared', `shared build, got ${r.info.build}`);
  assert.equal(r.info.relaxedSimd, r.info.build === 'relaxedShared');
  assert.equal(r.info.threads, 2);
  assert.equal(r.info.reason, null);
  assert.ok(r.work.length === 2 && r.work[1] > 0, `thread 2 worked: ${JSON.stringify(r.work)}`);
  assert.deepEqual(log.errors, []);
  assert.deepEqual(log.warnings, [], 'no fallback, no warning');
});

test('page without COOP/COEP: 1 thread, the reason says not cross-origin isolated and names both headers', { timeout: 60_000 }, async () => {
  const { r, log } = await run('plain');
  assertConsistent('plain', r);
  assert.equal(r.crossOriginIsolated, false);
  assert.equal(r.info.backend, 'wasm');
  assert.ok(r.info.build === 'relaxed' || r.info.build === 'simd', `the non-shared build, got ${r.info.build}`);
  assert.equal(r.info.threads, 1);
  assert.equal(log.workers, 0, 'no worker started');
  const reason = r.info.reason ?? '';
  assert.match(reason, /cross-origin[- ]isolated/i);
  assert.match(reason, /Cross-Origin-Opener-Policy/);
  assert.match(reason, /Cross-Origin-Embedder-Policy/);
  assert.deepEqual(log.errors, []);
  assertOneWarning('plain', log, 'Cross-Origin-Embedder-Policy', reason);
});

test("CSP without 'wasm-unsafe-eval': the reference kernels run, ready() resolves, the reason names the CSP and the directive", { timeout: 60_000 }, async () => {
  const { r, log } = await run('csp-no-wasm');
  assertConsistent('csp-no-wasm', r);
  assert.equal(r.info.backend, 'reference');
  assert.equal(r.info.build, null);
  assert.equal(r.info.threads, 1);
  const reason = r.info.reason ?? '';
  assert.match(reason, /Content-Security-Policy|CSP/);
  assert.ok(reason.includes("'wasm-unsafe-eval'"), `the reason names 'wasm-unsafe-eval': ${reason}`);
  assertOneWarning('csp-no-wasm', log, 'wasm-unsafe-eval', reason);
});

test('CSP whose worker-src leaves out blob:: 1 thread, the reason says workers are blocked and names worker-src blob:', { timeout: 60_000 }, async () => {
  const { r, log } = await run('csp-no-blob-workers');
  assertConsistent('csp-no-blob-workers', r);
  assert.equal(r.crossOriginIsolated, true);
  assert.equal(r.info.backend, 'wasm');
  assert.equal(r.info.threads, 1, 'no worker could start');
  assert.ok(r.work.length <= 1 || r.work.slice(1).every((n) => n === 0), `only the caller worked: ${JSON.stringify(r.work)}`);
  const reason = r.info.reason ?? '';
  assert.match(reason, /worker/i);
  assert.ok(reason.includes('worker-src') && reason.includes('blob:'), `the reason names worker-src blob:: ${reason}`);
  assertOneWarning('csp-no-blob-workers', log, 'worker-src', reason);
});

test('setFallbackWarnings(false): the same fallbacks, the same reasons, no console.warn', { timeout: 90_000 }, async () => {
  const needles = { plain: 'Cross-Origin-Embedder-Policy', 'csp-no-wasm': 'wasm-unsafe-eval', 'csp-no-blob-workers': 'worker-src' } as const;
  for (const c of ['plain', 'csp-no-wasm', 'csp-no-blob-workers'] as const) {
    const { r, log } = await run(c, '?warnings=off');
    const { r: on, log: onLog } = await run(c);
    assertConsistent(c, r);
    assert.deepEqual(r.info, on.info, `${c}: the same backendInfo() with warnings off`);
    assert.notEqual(r.info.reason, null, `${c}: still a reason`);
    assertOneWarning(c, onLog, needles[c], on.info.reason!);
    const fromStride = log.warnings.filter((w) => w.includes(needles[c]) || w.includes(r.info.reason!));
    assert.deepEqual(fromStride, [], `${c}: no warning after setFallbackWarnings(false)`);
  }
});
