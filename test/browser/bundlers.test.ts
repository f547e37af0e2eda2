/**
 * Issue #7 item 1: Stride as a web developer installs it. The packed tarball (`npm pack` of this
 * checkout's build) is installed into a fresh temporary project next to the example app in
 * examples/browser/, which is then built for production by Vite, by esbuild --minify and by webpack
 * (production mode, terser). Each build is served from 127.0.0.1 on a cross-origin-isolated page
 * and run in Debian's Chromium: two threads must really work (the second thread runs chunks of a
 * large conv), ready() must not stall, and every result must equal Node's bit for bit (the same
 * demo code, run here on the same installed package and the same wasm build).
 *
 * Minifiers rename functions: a thread worker built from function names dies in every production
 * bundle (`workerMain is not defined`), which an unminified bundle hides.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';
import { setFlagsFromString } from 'node:v8';
import { build as esbuild } from 'esbuild';
import { build as viteBuild } from 'vite';
import webpack from 'webpack';
import type { Browser } from 'playwright-core';
import { ISOLATION_HEADERS, launchChromium, loadPage, startServer, type PageLog } from './harness.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const EXAMPLE = join(ROOT, 'examples/browser');
const BUNDLERS = ['vite', 'esbuild', 'webpack'] as const;
type Bundler = (typeof BUNDLERS)[number];
/** ready() waits up to 10 s for workers that never start: anything near that is the stall. */
const READY_LIMIT_MS = 3000;

interface TensorSummary {
  shape: number[];
  hash: string;
  first: number[];
}
interface BackendInfo {
  backend: string;
  build: string | null;
  threads: number;
  requestedThreads: number;
  reason: string | null;
}
interface DemoResult {
  info: BackendInfo;
  readyMs: number;
  work: number[];
  tensors: Record<string, TensorSummary>;
  losses: number[];
}

let tmp = '';
let app = '';
const servers: Server[] = [];
const origins: Record<Bundler, string> = { vite: '', esbuild: '', webpack: '' };
let browser: Browser | null = null;
const out: Record<Bundler, string> = { vite: '', esbuild: '', webpack: '' };

/** Every .js file under `dir`, with its size minified and gzipped. */
function jsSizes(dir: string): { files: number; bytes: number; gzip: number } {
  const s = { files: 0, bytes: 0, gzip: 0 };
  const walk = (d: string): void => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (name.endsWith('.js')) {
        const buf = readFileSync(p);
        s.files++;
        s.bytes += buf.length;
        s.gzip += gzipSync(buf, { level: 9 }).length;
      }
    }
  };
  walk(dir);
  return s;
}

before(async () => {
  if (!existsSync(join(ROOT, 'dist/index.js'))) throw new Error('bundlers test: dist/ is missing; run `npm run build` first (npm test does)');
  const tSetUp = performance.now();
  tmp = mkdtempSync(join(tmpdir(), 'stride-bundlers-'));
  // The package exactly as it would be published, in a project that has nothing else.
  const tgz = execFileSync('npm', ['pack', '--silent', '--pack-destination', tmp], { cwd: ROOT, encoding: 'utf8' }).trim().split('\n').pop()!;
  app = join(tmp, 'app');
  mkdirSync(app);
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'stride-example', private: true, type: 'module' }, null, 2));
  execFileSync('npm', ['install', join(tmp, tgz), '--prefer-offline', '--no-audit', '--no-fund', '--silent'], { cwd: app, stdio: 'pipe' });
  for (const f of readdirSync(EXAMPLE)) copyFileSync(join(EXAMPLE, f), join(app, f));

  const installMs = performance.now() - tSetUp;
  for (const b of BUNDLERS) out[b] = join(tmp, `dist-${b}`);
  const t0 = performance.now();
  // Vite: production build of index.html (no config file: none is needed).
  await viteBuild({ root: app, configFile: false, logLevel: 'silent', build: { outDir: out.vite, emptyOutDir: true } });
  // esbuild: one minified ES module.
  mkdirSync(out.esbuild);
  await esbuild({ entryPoints: [join(app, 'main.js')], bundle: true, minify: true, format: 'esm', outfile: join(out.esbuild, 'main.js'), logLevel: 'silent' });
  copyFileSync(join(app, 'index.html'), join(out.esbuild, 'index.html'));
  // webpack: production mode, whose default minifier is terser.
  const stats = await new Promise<webpack.Stats>((ok, fail) =>
    // performance.hints off: webpack's 244 KiB size advice is not a build problem (the sizes are printed below).
    webpack({ mode: 'production', context: app, entry: './main.js', output: { path: out.webpack, filename: 'main.js' }, performance: { hints: false } }, (err, s) =>
      err || !s ? fail(err ?? new Error('webpack: no stats')) : ok(s),
    ),
  );
  assert.ok(!stats.hasErrors(), `webpack build errors: ${stats.toString({ all: false, errors: true })}`);
  // No 'Critical dependency' warnings: the Node-only dynamic imports carry webpackIgnore.
  assert.ok(!stats.hasWarnings(), `webpack build warnings: ${stats.toString({ all: false, warnings: true })}`);
  copyFileSync(join(app, 'index.html'), join(out.webpack, 'index.html'));
  console.log(`# npm pack + install: ${installMs.toFixed(0)} ms; 3 production builds: ${(performance.now() - t0).toFixed(0)} ms`);
  for (const b of BUNDLERS) {
    const s = jsSizes(out[b]);
    console.log(`# ${b}: ${s.files} .js file(s), ${(s.bytes / 1024).toFixed(1)} KiB minified, ${(s.gzip / 1024).toFixed(1)} KiB gzip`);
  }

  // One origin per bundler, each build at its root, as a site would serve it (Vite's default base is '/').
  for (const b of BUNDLERS) {
    const s = await startServer((url) => ({ dir: out[b], file: url.pathname.slice(1) || 'index.html', headers: ISOLATION_HEADERS }));
    servers.push(s.server);
    origins[b] = s.origin;
  }
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  for (const s of servers) s.close();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

let nodeResult: Promise<DemoResult> | null = null;

/**
 * The demo in this process, on the installed package, with the wasm build the page used: Chromium
 * has relaxed SIMD on by default, Node 20 only behind a flag (set before the library first compiles).
 */
function inNode(build: string | null): Promise<DemoResult> {
  nodeResult ??= (async () => {
    if (build?.startsWith('relaxed')) setFlagsFromString('--experimental-wasm-relaxed-simd');
    const stride = await import(pathToFileURL(join(app, 'node_modules/stride-cnn/dist/index.js')).href);
    const { runDemo } = await import(pathToFileURL(join(app, 'demo.js')).href);
    return (await runDemo(stride, { threads: 2 })) as DemoResult;
  })();
  return nodeResult;
}

function describeLog(log: PageLog): string {
  return `page errors: ${log.errors.join(' | ') || 'none'}; warnings: ${log.warnings.join(' | ') || 'none'}`;
}

for (const bundler of BUNDLERS) {
  test(`${bundler} production build of examples/browser from the packed tarball: 2 threads working in Chromium, results equal Node's`, { timeout: 60_000 }, async () => {
    const { result, log, ms } = await loadPage<DemoResult | { error: string }>(browser!, `${origins[bundler]}/index.html?threads=2`, 'strideDemo');
    if ('error' in result) assert.fail(`${bundler} page threw: ${result.error}; ${describeLog(log)}`);
    const r = result;
    console.log(
      `# ${bundler}: ${r.info.backend} (${r.info.build}), threads ${r.info.threads}/${r.info.requestedThreads}, reason ${r.info.reason}, ` +
        `ready() ${r.readyMs.toFixed(0)} ms, chunks per thread ${JSON.stringify(r.work)}, workers ${log.workers}, page ${ms.toFixed(0)} ms`,
    );
    assert.deepEqual(log.errors, [], `${bundler}: the page and its workers reported errors`);
    assert.equal(r.info.backend, 'wasm', `${bundler}: backend`);
    assert.ok(r.info.build === 'relaxedShared' || r.info.build === 'simdShared', `${bundler}: a shared-memory build, got ${r.info.build}`);
    assert.equal(r.info.requestedThreads, 2, `${bundler}: requestedThreads after setThreads(2)`);
    assert.equal(r.info.threads, 2, `${bundler}: threads actually working (reason: ${r.info.reason}); ${describeLog(log)}`);
    assert.equal(r.info.reason, null, `${bundler}: no fallback on an isolated page`);
    assert.ok(r.work.length === 2 && r.work[1] > 0, `${bundler}: the second thread ran no chunk of the large conv: threadWork() = ${JSON.stringify(r.work)}; ${describeLog(log)}`);
    assert.ok(r.readyMs < READY_LIMIT_MS, `${bundler}: ready() took ${r.readyMs.toFixed(0)} ms (a worker that never started?)`);

    const node = await inNode(r.info.build);
    assert.equal(node.info.build, r.info.build, 'Node runs the same wasm build as the page (else bits may differ)');
    assert.equal(node.info.threads, 2, 'Node: 2 threads');
    assert.deepEqual(Object.keys(r.tensors), Object.keys(node.tensors), `${bundler}: the same outputs`);
    for (const [name, t] of Object.entries(node.tensors)) {
      const p = r.tensors[name];
      assert.deepEqual(p.shape, t.shape, `${bundler}, ${name}: shape`);
      assert.equal(p.hash, t.hash, `${bundler}, ${name}: bits differ from Node's (first values ${p.first} vs ${t.first})`);
    }
    assert.deepEqual(r.losses, node.losses, `${bundler}: training losses vs Node's`);
    assert.ok(r.losses[r.losses.length - 1] < r.losses[0], `${bundler}: the loss falls: ${r.losses}`);
  });
}

