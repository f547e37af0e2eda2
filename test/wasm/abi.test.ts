/**
 * Issue #10 item 2: one wasm boundary. The parameter blocks and the list of threaded kernels are
 * defined once (src/kernels/wasm/abi.ts); the AssemblyScript indices are generated from it, the
 * glue writes blocks by field name, and nothing defines them a second time.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { JOB, JOB_FUNCTIONS, PARAM_BLOCKS, THREADED_KERNELS, assemblyAbiSource, paramBlock } from '../../src/kernels/wasm/abi.js';
import { wasmBytes } from '../../src/kernels/wasm/loader.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

test('every threaded kernel of abi.ts is exported by each build, and job ids follow the list', () => {
  for (const v of ['simd', 'simdShared'] as const) {
    const names = new Set(WebAssembly.Module.exports(new WebAssembly.Module(wasmBytes(v))).map((e) => e.name));
    for (const k of JOB_FUNCTIONS) assert.ok(names.has(k), `${v} build does not export ${k}`);
  }
  THREADED_KERNELS.forEach((k, i) => {
    assert.equal(JOB[k.name], i);
    assert.equal(JOB_FUNCTIONS[i], k.name);
  });
});

test('assembly/abi.ts is the one generated from abi.ts (the build is current), one constant per field at its index', () => {
  const generated = readFileSync(join(ROOT, 'assembly/abi.ts'), 'utf8');
  assert.equal(generated, assemblyAbiSource(), 'assembly/abi.ts is stale: run npm run build:wasm');
  for (const b of Object.values(PARAM_BLOCKS)) {
    b.fields.forEach((f, i) => assert.match(generated, new RegExp(`export const ${b.prefix}_${f.toUpperCase()}: i32 = ${i};`)));
  }
});

test('no kernel source defines parameter indices or prm() of its own', () => {
  const prefixes = Object.values(PARAM_BLOCKS).map((b) => b.prefix).join('');
  const own = new RegExp(`\\bconst [${prefixes}]_[A-Z0-9]+\\s*(:\\s*i32)?\\s*=|function prm\\(`);
  for (const f of readdirSync(join(ROOT, 'assembly'))) {
    if (f === 'abi.ts' || !f.endsWith('.ts')) continue;
    assert.doesNotMatch(readFileSync(join(ROOT, 'assembly', f), 'utf8'), own, `assembly/${f} defines its own parameter indices`);
  }
});

test('paramBlock writes fields in the defined order and refuses a value that is not an int32', () => {
  const values = Object.fromEntries(PARAM_BLOCKS.pool.fields.map((f, i) => [f, i * 10])) as Parameters<typeof paramBlock<'pool'>>[1];
  assert.deepEqual(paramBlock('pool', values), PARAM_BLOCKS.pool.fields.map((_, i) => i * 10));
  for (const bad of [2 ** 31, -(2 ** 31) - 1, 1.5, NaN, undefined]) {
    assert.throws(() => paramBlock('pool', { ...values, sH: bad as number }), new RegExp(`parameter 'sH' of the pool block must be an int32, got ${String(bad)}`));
  }
});
