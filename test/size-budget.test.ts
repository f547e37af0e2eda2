/**
 * scripts/size-budget.mjs (issue 10 item 6): its line counts are right, and it fails, naming the
 * folders, when they are over budget (every budget scaled down with --scale).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const run = (...args: string[]) => spawnSync(process.execPath, [join(ROOT, 'scripts/size-budget.mjs'), ...args], { encoding: 'utf8' });

/** The script's table as folder -> [lines, budget]. */
function table(stdout: string): Map<string, [number, number]> {
  const m = new Map<string, [number, number]>();
  for (const line of stdout.split('\n')) {
    const r = /^(\S+)\s+(\d+)\s+(\d+)/.exec(line);
    if (r) m.set(r[1], [Number(r[2]), Number(r[3])]);
  }
  return m;
}

test('counts the lines of each folder (src/losses counted here independently)', () => {
  const r = run();
  const rows = table(r.stdout);
  const dir = join(ROOT, 'src/losses');
  let want = 0;
  for (const f of readdirSync(dir)) if (f.endsWith('.ts')) want += readFileSync(join(dir, f), 'utf8').split('\n').filter((_, i, a) => i < a.length - 1 || a[i] !== '').length;
  assert.equal(rows.get('src/losses')?.[0], want);
  for (const f of ['src', 'src/kernels/wasm', 'assembly']) assert.ok(rows.has(f), `the table lists ${f}`);
  // The generated, git-ignored files are not counted: src/kernels/wasm/binary.ts alone is far larger.
  assert.ok(rows.get('src/kernels/wasm')![0] < 5000, `src/kernels/wasm has ${rows.get('src/kernels/wasm')![0]} lines`);
});

test('fails (exit 1) when folders are over budget, naming each one', () => {
  const r = run('--scale', '0.01');
  assert.equal(r.status, 1, r.stderr);
  assert.match(r.stderr, /size-budget: src\/layers has \d+ lines, over its budget of \d+/);
  assert.match(r.stderr, /size-budget: assembly has \d+ lines, over its budget/);
  assert.match(r.stdout, /OVER/);
});

test('a bad --scale is refused', () => {
  const r = run('--scale', 'zero');
  assert.equal(r.status, 2);
  assert.match(r.stderr, /--scale must be a positive number, got zero/);
});
