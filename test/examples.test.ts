/**
 * The README's code runs: every file in examples/ is executed as a user would (importing 'stride-cnn',
 * which resolves to the built dist/ through the package's own exports), and its printed claims hold.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';

function run(file: string): string {
  const r = spawnSync(process.execPath, ['--import', 'tsx', file], { encoding: 'utf8', timeout: 120_000 });
  assert.equal(r.status, 0, `${file} exited ${r.status}:\n${r.stderr}`);
  return r.stdout;
}

test('examples/quickstart.ts trains to 64/64 and its gradcheck passes', () => {
  const out = run('examples/quickstart.ts');
  assert.match(out, /Total params: 170/);
  assert.match(out, /epoch 20: loss \d\.\d+, 64\/64 right/);
  assert.match(out, /gradcheck: ok/);
});
