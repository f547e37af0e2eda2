/**
 * docs/worker.md shows examples/worker verbatim (browser-worker.test.ts runs those files in
 * Chromium), and its figures for `stride pack-data` are what the writer produces.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { loadMnistSplits } from '../../src/node/mnist.js';
import { encodeCompactDataset } from '../../src/data/compact.js';
import { packOrder } from '../../src/cli/commands/pack-data.js';

const doc = readFileSync(new URL('../../docs/worker.md', import.meta.url), 'utf8');

test('docs/worker.md holds the example files as they are', () => {
  for (const [file, lang] of [['trainer.ts', 'ts'], ['main.ts', 'ts'], ['index.html', 'html']]) {
    const text = readFileSync(new URL(`../../examples/worker/${file}`, import.meta.url), 'utf8').trimEnd();
    assert.ok(doc.includes('```' + lang + '\n' + text + '\n```'), `examples/worker/${file} is not in docs/worker.md as it is`);
  }
});

test("docs/worker.md's pack-data sizes are the writer's", () => {
  const { train, test: testSet } = loadMnistSplits();
  const playground = encodeCompactDataset({ train: packOrder(train, 5000, undefined), test: packOrder(testSet, 1000, undefined) });
  assert.ok(doc.includes(`--limit 5000 --test-limit 1000            # ${playground.length.toLocaleString('en-US')} bytes`), `${playground.length} bytes`);
});
