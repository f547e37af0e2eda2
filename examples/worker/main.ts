// The page: builds the small CNN in the worker, trains it on the compact digits, shows progress,
// then offers the trained model file for download (it loads in `stride eval`).
import { createPreset } from 'stride-cnn';
import { TrainerClient, type TrainResult, type EvaluateResult } from 'stride-cnn/worker';

const status = document.querySelector<HTMLElement>('#status')!;
const log = document.querySelector<HTMLElement>('#log')!;
const trainer = new TrainerClient(new Worker(new URL('./trainer.js', import.meta.url), { type: 'module' }));

const model = await trainer.build(createPreset('small', { seed: 1 }).toSpec());
const data = await trainer.loadData({ url: './digits.bin' }); // `stride pack-data -o digits.bin --limit 5000`
const { backend } = await trainer.info(); // backendInfo() in the worker
log.textContent = `${model.params} parameters, ${data.train} training digits; ${backend.backend} ${backend.build ?? ''} on ${backend.threads} thread(s)${backend.reason ? ` (${backend.reason})` : ''}\n`;

const result: TrainResult = await trainer.train(
  { epochs: 1, batchSize: 32, optimizer: { name: 'adam', lr: 0.002 }, seed: 1, limit: 1000 },
  (p) => {
    status.textContent = `epoch ${p.epoch}, batch ${p.batch + 1}/${p.batches}: loss ${p.loss.toFixed(3)}, ${p.imagesPerSecond.toFixed(0)} images/s`;
  },
);
const test: EvaluateResult = await trainer.evaluate({ split: 'test' });
log.textContent += `trained ${result.batches} batches at ${result.imagesPerSecond.toFixed(0)} images/s; test accuracy ${(100 * test.accuracy).toFixed(1)}%\n`;

const bytes = await trainer.saveModel();
const link = document.querySelector<HTMLAnchorElement>('#download')!;
link.href = URL.createObjectURL(new Blob([bytes as Uint8Array<ArrayBuffer>], { type: 'application/octet-stream' }));
link.hidden = false;
document.body.dataset.state = 'done';
