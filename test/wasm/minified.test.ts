/**
 * Issue #7 item 1: minified production bundles lost the worker threads (the worker script called
 * `workerMain` by a name the minifier had renamed: `ReferenceError: workerMain is not defined`).
 * The library is bundled here with esbuild's minifier (identifiers renamed, whitespace and syntax
 * minified) and run in a child Node process: two threads must work and give the unminified
 * library's numbers. test/browser/ does the same with Vite, esbuild and webpack in Chromium.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execFileSync } from 'node:child_process';
import { build } from 'esbuild';
import { Tensor, conv2d, conv2dBackward } from '../../src/index.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

const PROBE = `
import * as S from './stride.min.mjs';
S.setFallbackWarnings(false);
S.setThreads(2);
const info = await S.ready();
const x = S.Tensor.randn([8, 24, 24, 16], { seed: 1 });
const w = S.Tensor.randn([3, 3, 16, 32], { seed: 2 });
const y = S.conv2d(x, w, null, { padding: 'same' });
const g = S.conv2dBackward(S.Tensor.ones(y.shape), x, w, { padding: 'same' });
let h = 0;
for (const a of [y.data, g.dx.data, g.dw.data]) for (let i = 0; i < a.length; i++) h = (h * 31 + Math.round(a[i] * 4096)) | 0;
console.log(JSON.stringify({ info, work: S.threadWork(), hash: h }));
process.exit(0);
`;

test('an esbuild --minify bundle keeps its worker threads in Node, and its numbers', { timeout: 60000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'stride-min-'));
  try {
    const out = await build({
      entryPoints: [join(ROOT, 'src/index.ts')],
      bundle: true,
      minify: true,
      format: 'esm',
      platform: 'browser',
      write: false,
      logLevel: 'silent',
    });
    const code = out.outputFiles[0].text;
    writeFileSync(join(dir, 'stride.min.mjs'), code);
    writeFileSync(join(dir, 'probe.mjs'), PROBE);
    const res = JSON.parse(execFileSync(process.execPath, [join(dir, 'probe.mjs')], { encoding: 'utf8', timeout: 50000 })) as {
      info: { backend: string; threads: number; reason: string | null };
      work: number[];
      hash: number;
    };
    assert.equal(res.info.backend, 'wasm');
    assert.equal(res.info.threads, 2, `threads working: ${JSON.stringify(res.info)}`);
    assert.equal(res.info.reason, null);
    assert.ok(res.work.length === 2 && res.work[1] > 0, `the second thread ran no chunk: ${JSON.stringify(res.work)}`);
    // The same computation on the unminified library in this process.
    const x = Tensor.randn([8, 24, 24, 16], { seed: 1 });
    const w = Tensor.randn([3, 3, 16, 32], { seed: 2 });
    const y = conv2d(x, w, null, { padding: 'same' });
    const g = conv2dBackward(Tensor.ones(y.shape), x, w, { padding: 'same' });
    let h = 0;
    for (const a of [y.data, g.dx.data, g.dw.data]) for (let i = 0; i < a.length; i++) h = (h * 31 + Math.round(a[i] * 4096)) | 0;
    assert.equal(res.hash, h, 'the minified bundle computed different numbers');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
