/**
 * Issue #7: backendInfo() tells the truth, and a fallback is never silent. Each case runs in a
 * fresh child process, where the engine is made to refuse what a browser can refuse: compiling
 * WebAssembly (a Content-Security-Policy without 'wasm-unsafe-eval'; patched in after the import,
 * which compiles nothing, because tsx itself compiles wasm while loading) and starting workers (one
 * without `worker-src blob:`). test/browser/ checks the same in Chromium with real headers.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';

interface Out {
  info: { backend: string; build: string | null; threads: number; requestedThreads: number; reason: string | null };
  ready: { backend: string; threads: number; reason: string | null };
  warnings: string[];
  ok: boolean;
  threads: number;
}

function run(setup: string, body = ''): Out {
  const script = `
    const warnings = [];
    console.warn = (...a) => warnings.push(a.join(' '));
    ${setup}
    const S = await import('./src/index.ts');
    ${body}
    const x = S.Tensor.randn([2, 9, 9, 4], { seed: 1 });
    const w = S.Tensor.randn([3, 3, 4, 5], { seed: 2 });
    const y = S.conv2d(x, w, null, { padding: 'same' });
    const want = S.reference.conv2d(x, w, null, S.computeConv2DInfo('t', x.shape, w.shape, { padding: 'same' }));
    let ok = true;
    for (let i = 0; i < y.data.length; i++) if (Math.abs(y.data[i] - want.data[i]) > 1e-4) ok = false;
    S.conv2d(x, w, null, { padding: 'same' });
    const ready = await S.ready();
    console.log(JSON.stringify({ info: S.backendInfo(), ready, warnings, ok, threads: S.getThreads() }));
    process.exit(0);`;
  return JSON.parse(execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 30000 })) as Out;
}

const CSP_REFUSAL = `
  const refuse = () => { throw new WebAssembly.CompileError("WebAssembly.Module(): Refused to compile or instantiate WebAssembly module because 'unsafe-eval' is not an allowed source of script in the following Content Security Policy directive: \\"script-src 'self'\\""); };
  WebAssembly.Module = function () { refuse(); };
  WebAssembly.compile = async () => refuse();`;

test('all as asked: wasm, the build, every requested thread working, no reason, no warning', { timeout: 30000 }, () => {
  const r = run('', 'S.setThreads(2); await S.ready();');
  assert.equal(r.info.backend, 'wasm');
  assert.match(r.info.build ?? '', /^(simd|relaxed)Shared$/);
  assert.equal(r.info.threads, 2);
  assert.equal(r.info.requestedThreads, 2);
  assert.equal(r.info.reason, null);
  assert.deepEqual(r.warnings, []);
  assert.ok(r.ok);
});

test("wasm compilation refused (a CSP without 'wasm-unsafe-eval'): the op still runs, on the reference kernels, with one warning that names the fix", { timeout: 30000 }, () => {
  const r = run('', CSP_REFUSAL);
  assert.ok(r.ok, 'the first op gave a wrong result');
  assert.equal(r.info.backend, 'reference');
  assert.equal(r.info.build, null);
  assert.equal(r.info.threads, 1);
  assert.match(r.info.reason ?? '', /Content-Security-Policy forbids compiling WebAssembly.*'wasm-unsafe-eval'/);
  assert.equal(r.ready.backend, 'reference', 'ready() must resolve with the fallback, not reject');
  assert.equal(r.warnings.length, 1, `warnings: ${JSON.stringify(r.warnings)}`);
  assert.match(r.warnings[0], /wasm-unsafe-eval/);
});

test('ready() first, with compilation refused: resolves (does not reject) and reports the reason', { timeout: 30000 }, () => {
  const r = run('', CSP_REFUSAL + 'const first = await S.ready(); if (first.backend !== "reference" || first.reason === null) throw new Error("ready: " + JSON.stringify(first));');
  assert.equal(r.info.backend, 'reference');
  assert.equal(r.warnings.length, 1);
});

test('workers refused: threads 1, the reason says why, getThreads() agrees, one warning; results right', { timeout: 30000 }, () => {
  const r = run(`
    const real = process.getBuiltinModule;
    process.getBuiltinModule = (id) => id === 'node:worker_threads'
      ? { Worker: class { constructor() { throw new Error("SecurityError: Failed to construct 'Worker': access denied by the document's Content Security Policy"); } } }
      : real(id);`, 'S.setThreads(2); await S.ready();');
  assert.ok(r.ok);
  assert.equal(r.info.backend, 'wasm');
  assert.equal(r.info.threads, 1);
  assert.equal(r.threads, 1, 'getThreads() must not count a worker that failed');
  assert.equal(r.info.requestedThreads, 2);
  assert.match(r.info.reason ?? '', /worker threads could not start .*worker-src blob:/);
  assert.equal(r.warnings.length, 1, `warnings: ${JSON.stringify(r.warnings)}`);
});

test('a worker that dies at start-up (as a broken worker script does) is reported, and ready() does not stall', { timeout: 30000 }, () => {
  const t0 = Date.now();
  const r = run(`
    const real = process.getBuiltinModule;
    process.getBuiltinModule = (id) => {
      if (id !== 'node:worker_threads') return real(id);
      const wt = real(id);
      return { Worker: class extends wt.Worker { constructor(src, o) { super("throw new ReferenceError('workerMain is not defined')", o); } } };
    };`, 'S.setThreads(2); await S.ready();');
  assert.ok(Date.now() - t0 < 8000, 'ready() waited for a dead worker');
  assert.equal(r.info.threads, 1);
  assert.equal(r.threads, 1);
  assert.match(r.info.reason ?? '', /worker threads could not start \(ReferenceError: workerMain is not defined\)/);
  assert.equal(r.warnings.length, 1);
});

test('setFallbackWarnings(false) silences the warning; backendInfo() still says why', { timeout: 30000 }, () => {
  const r = run('', CSP_REFUSAL + 'S.setFallbackWarnings(false);');
  assert.deepEqual(r.warnings, []);
  assert.match(r.info.reason ?? '', /wasm-unsafe-eval/);
});

test("setBackend('reference') by choice: the reason says so, and nothing is printed", { timeout: 30000 }, () => {
  const r = run('', "S.setBackend('reference');");
  assert.equal(r.info.backend, 'reference');
  assert.match(r.info.reason ?? '', /chosen with setBackend\('reference'\)/);
  assert.deepEqual(r.warnings, []);
});
