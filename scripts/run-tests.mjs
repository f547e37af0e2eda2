// Runs every test/**/*.test.ts under node:test, with TypeScript loaded by tsx.
// Node 20's --test does not expand globs, so the files are listed here.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

function find(dir, out = []) {
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) find(p, out);
    else if (name.endsWith('.test.ts')) out.push(p);
  }
  return out;
}

const filter = process.argv.slice(2);
let files = find('test');
if (filter.length) files = files.filter((f) => filter.some((s) => f.includes(s)));
if (files.length === 0) {
  console.error('run-tests: no test files matched');
  process.exit(1);
}
/**
 * Files that measure the main thread's timing (the playground's "no long task over 100 ms while
 * training") run after all the others, one at a time, so no other test file competes for the cores
 * (node --test runs availableParallelism() - 1 files at once: several on a larger machine).
 */
const ALONE = ['test/playground/train.test.ts'];
const alone = files.filter((f) => ALONE.includes(f.split('\\').join('/')));
const together = files.filter((f) => !alone.includes(f));
const run = (list) => spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-reporter=spec', ...list], { stdio: 'inherit' }).status ?? 1;
let status = together.length ? run(together) : 0;
for (const f of alone) status = run([f]) || status;
process.exit(status);
