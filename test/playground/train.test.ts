/**
 * Issue 8 items 2 and 7 in Chromium: the builder's network trains in a Web Worker on the digits
 * shipped with the page, the first batch's loss is Node's for the same seed, the test loss falls
 * within seconds, the main thread has no long task (> 100 ms) while training, and model files go
 * both ways: a model downloaded from the page loads with the Node API, and a model file written
 * in Node loads in the page.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Rng, Sequential, createOptimizer, createPreset, evaluateDataset, readCompactDataset } from '../../src/index.js';
import { loadModel, saveModel } from '../../src/node/index.js';
import { PHONE, open, shoot, site } from './harness.js';

/** Records every long task of the main thread from before the page's scripts run. */
function observeLongTasks(): void {
  const w = window as unknown as { __longTasks: { start: number; duration: number }[] };
  w.__longTasks = [];
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) w.__longTasks.push({ start: e.startTime, duration: e.duration });
  }).observe({ type: 'longtask', buffered: true });
}

const SPEC = () => createPreset('small', { inputShape: [28, 28, 1], numClasses: 10 }).toSpec();

test('train: one step is Node’s first batch; training lowers the test loss with no long task; model files go both ways', async () => {
  const { page, problems, close } = await open('train', { init: observeLongTasks, acceptDownloads: true });
  await page.waitForSelector('#train-backend[data-threads]');
  assert.equal(await page.getAttribute('#train-backend', 'data-threads'), '2', (await page.textContent('#train-backend'))!);

  // One batch from a fresh model: the same loss as Node's trainStep on the same file, seed and optimizer.
  await page.click('#train-step');
  await page.waitForFunction(() => document.getElementById('view-train')!.dataset.steps === '1');
  const pageLoss = Number(await page.getAttribute('#view-train', 'data-last-loss'));
  const { train, test: testSet } = await readCompactDataset(readFileSync(join(site.dir, 'digits.bin.gz')));
  const model = Sequential.fromSpec(SPEC(), 1);
  const first = train.batches(32, { shuffle: true, rng: new Rng(1) }).next();
  assert.ok(!first.done);
  const nodeLoss = model.trainStep(first.value.x, first.value.y, createOptimizer('sgd', { lr: 0.05 })).loss;
  assert.ok(Math.abs(pageLoss - nodeLoss) <= 1e-5 * Math.abs(nodeLoss), `first batch loss: page ${pageLoss}, Node ${nodeLoss}`);

  // Reset, then train for a few seconds: the test loss falls, and the main thread stays free.
  await page.click('#train-reset');
  await page.waitForFunction(() => document.getElementById('train-state')!.textContent === 'ready');
  const t0 = await page.evaluate(() => performance.now());
  await page.click('#train-start');
  await page.waitForFunction(() => Number(document.getElementById('loss-chart')!.dataset.testPoints) >= 4, null, { timeout: 30_000 });
  const losses = (await page.getAttribute('#loss-chart', 'data-test-loss'))!.split(',').map(Number);
  assert.ok(losses.at(-1)! < losses[0] * 0.75, `test loss should fall: ${losses.join(', ')}`);
  const ips = Number((await page.textContent('#train-ips'))!.replace(/,/g, ''));
  console.log(`# playground: training the small net in the worker at ${ips} images/s; test losses ${losses.join(', ')}`);
  assert.ok(ips > 50, `images/s ${ips}`);
  const long = await page.evaluate((since) => (window as unknown as { __longTasks: { start: number; duration: number }[] }).__longTasks.filter((t) => t.start >= since), t0);
  assert.deepEqual(long.filter((t) => t.duration > 100), [], 'no long task over 100 ms on the main thread while training');
  await shoot(page, 'train-laptop');
  await page.click('#train-start'); // pause
  await page.waitForFunction(() => document.getElementById('train-state')!.textContent === 'paused');

  // Download: the file loads with the Node API, as the CLI's model files do, and is a trained model.
  const dir = mkdtempSync(join(tmpdir(), 'stride-playground-model-'));
  try {
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#model-save')]);
    const file = join(dir, 'page.safetensors');
    await download.saveAs(file);
    const loaded = await loadModel(file);
    assert.deepEqual(loaded.toSpec(), SPEC());
    const acc = evaluateDataset(loaded, testSet).accuracy;
    assert.ok(acc > 0.6, `the downloaded model should be trained: test accuracy ${acc} in Node`);

    // Upload: a model file written in Node loads in the page, which evaluates it on the test digits.
    await page.click('#train-reset');
    await page.waitForFunction(() => document.getElementById('train-state')!.textContent === 'ready');
    const nodeModel = Sequential.fromSpec(SPEC(), 7);
    const nodeFile = join(dir, 'node.safetensors');
    await saveModel(nodeModel, nodeFile);
    await page.setInputFiles('#model-upload', nodeFile);
    await page.waitForFunction(() => document.getElementById('train-model')!.textContent!.startsWith('Loaded node.safetensors'));
    await page.waitForFunction(() => Number(document.getElementById('loss-chart')!.dataset.testPoints) === 1);
    const shownLoss = Number((await page.getAttribute('#loss-chart', 'data-test-loss'))!);
    const nodeEval = evaluateDataset(nodeModel, testSet);
    assert.ok(Math.abs(shownLoss - nodeEval.loss) < 1e-3, `uploaded model's test loss: page ${shownLoss}, Node ${nodeEval.loss}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  await page.setViewportSize(PHONE);
  await shoot(page, 'train-phone');
  assert.deepEqual(problems, []);
  await close();
});
