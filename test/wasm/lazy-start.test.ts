/**
 * Issue #7 item 5: importing the library starts nothing (no wasm compilation, no shared memory, no
 * worker thread); the first op, ready() or setThreads() does. Counted on the OS: a worker thread is
 * a thread of this process (/proc/self/task), in a fresh child process.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';

const PROBE = (after: string): string => `
import { readdirSync } from 'node:fs';
const tasks = () => readdirSync('/proc/self/task').length;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
await sleep(200);
const before = tasks();
const S = await import('./src/index.ts');
await sleep(800);
const afterImport = tasks();
const infoAfterImport = S.backendInfo();
${after}
await sleep(800);
console.log(JSON.stringify({ before, afterImport, infoAfterImport, afterUse: tasks(), info: S.backendInfo(), work: S.threadWork() }));
process.exit(0);
`;

interface Probe {
  before: number;
  afterImport: number;
  infoAfterImport: { backend: string; build: string | null; threads: number; reason: string | null };
  afterUse: number;
  info: { backend: string; build: string | null; threads: number; requestedThreads: number; reason: string | null };
  work: number[];
}

function probe(after: string): Probe {
  const out = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', PROBE(after)], { encoding: 'utf8', timeout: 30000 });
  return JSON.parse(out) as Probe;
}

test('importing stride-cnn starts no thread and compiles nothing; the first op starts the kernels and workers', { timeout: 60000 }, () => {
  const r = probe(`
    S.setFallbackWarnings(false);
    const x = S.Tensor.randn([8, 24, 24, 16], { seed: 1 });
    const w = S.Tensor.randn([3, 3, 16, 16], { seed: 2 });
    S.conv2d(x, w, null, { padding: 'same' });
    // The workers take part once they run (on a loaded machine a worker may wake after the caller
    // has done every chunk of one call: give it a few calls).
    for (let i = 0; i < 300 && !(S.threadWork()[1] > 0); i++) {
      await sleep(10);
      S.conv2d(x, w, null, { padding: 'same' });
    }`);
  assert.equal(r.afterImport, r.before, `import started ${r.afterImport - r.before} thread(s)`);
  assert.equal(r.infoAfterImport.build, null, 'the kernels were compiled at import');
  assert.equal(r.infoAfterImport.backend, 'wasm');
  assert.match(r.infoAfterImport.reason ?? '', /start with the first op/);
  const workers = r.info.requestedThreads - 1;
  assert.ok(workers >= 1, 'this test needs 2 cores');
  assert.equal(r.afterUse - r.before, workers, 'the first op did not start the worker threads');
  assert.equal(r.info.threads, r.info.requestedThreads);
  assert.equal(r.info.reason, null);
  assert.ok(r.work[1] > 0, `300 convs ran on one thread: ${JSON.stringify(r.work)}`);
});

test('ready() and setThreads() start the workers too', { timeout: 60000 }, () => {
  const a = probe('await S.ready();');
  assert.equal(a.afterImport, a.before);
  assert.equal(a.afterUse - a.before, a.info.requestedThreads - 1);
  assert.equal(a.info.threads, a.info.requestedThreads);
  const b = probe('S.setThreads(2);');
  assert.equal(b.afterImport, b.before);
  assert.equal(b.afterUse - b.before, 1);
  assert.equal(b.info.threads, 2);
});
