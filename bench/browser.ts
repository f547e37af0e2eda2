/**
 * `npm run bench:browser` (issue #7): W3 (training, small and lenet) and W4 (lenet inference, batch
 * 256) in Chromium and in Node, interleaved round by round in one run (who goes first alternates).
 * In Chromium the library runs in module workers of a cross-origin-isolated page with 2 threads:
 * W3 through the `stride-cnn/worker` trainer driven by TrainerClient, as a page would train, and
 * through `fit` called directly in a worker (what the trainer's messages and yields cost); W4
 * through Sequential.predict. In Node: W3 through `fit` (the run the trainer repeats batch by
 * batch), W4 through the same predict, 2 threads. Prints the browser/Node ratios; `--write` records
 * the section in bench/RESULTS.md.
 *
 *   npm run bench:browser                       # 5 rounds
 *   npm run bench:browser -- --rounds 3 --write
 *
 * Node runs with --experimental-wasm-relaxed-simd (the npm script sets it), so both sides run the
 * same wasm build; Chromium has relaxed SIMD on by default.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { build } from 'esbuild';
import * as S from '../src/index.js';
import { ISOLATION_HEADERS, launchChromium, startServer } from '../test/browser/harness.js';
import { inferW4, PIXELS, SHUFFLE_SEED, trainW3, W3_BATCH, W4_BATCH } from './browser-work.js';
import type { PageRequest } from './browser-page.js';
import { loadMnistArrays } from './workloads/mnist-data.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const RESULTS = join(ROOT, 'bench/RESULTS.md');
const START = '<!-- bench:browser -->';
const END = '<!-- /bench:browser -->';
const THREADS = 2;
/** Training images per W3 run (whole batches of 64): a bounded part of the split, not an epoch of it. */
const IMAGES = { small: 40 * W3_BATCH, lenet: 16 * W3_BATCH } as const;
/** Timed W4 calls per run (after one untimed). */
const W4_REPS = 4;

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '5' }, write: { type: 'boolean', default: false } } });
const rounds = Number(values.rounds);
if (!Number.isInteger(rounds) || rounds < 1) throw new Error(`bench:browser: --rounds must be a positive integer, got ${values.rounds}`);

const median = (a: number[]): number => {
  const s = [...a].sort((x, y) => x - y);
  return s.length % 2 ? s[(s.length - 1) >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/**
 * The W3 train split (WORKLOADS.md), in a seeded shuffled order, cut to what the runs use, as a
 * compact dataset file: the page's trainer fetches it, Node decodes the same bytes.
 */
async function digitsFile(): Promise<Uint8Array> {
  const all = await loadMnistArrays('train');
  const nTrain = Math.max(IMAGES.small, IMAGES.lenet, W4_BATCH);
  const nTest = W3_BATCH;
  const order = new S.Rng(SHUFFLE_SEED).permutation(all.n);
  const part = (from: number, n: number): S.Dataset => {
    const images = new Float32Array(n * PIXELS);
    const labels = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      const s = order[from + i];
      images.set(all.images.subarray(s * PIXELS, (s + 1) * PIXELS), i * PIXELS);
      labels[i] = all.labels[s];
    }
    return new S.Dataset({ images, labels, height: 28, width: 28, channels: 1, classNames: Array.from({ length: 10 }, (_, d) => String(d)) });
  };
  return S.encodeCompactDataset({ train: part(0, nTrain), test: part(nTrain, nTest) });
}

type Work = 'W3 small' | 'W3 small, fit' | 'W3 lenet' | 'W3 lenet, fit' | 'W4 lenet';
const WORKS: Work[] = ['W3 small', 'W3 small, fit', 'W3 lenet', 'W3 lenet, fit', 'W4 lenet'];

async function main(): Promise<void> {
  const file = await digitsFile();
  const { train } = S.decodeCompactDataset(file);
  const w4Images = train.take(W4_BATCH).batches(W4_BATCH).next().value!.x.data;
  const dir = mkdtempSync(join(os.tmpdir(), 'stride-bench-browser-'));
  const browser = await launchChromium();
  const { server, origin } = await startServer((url) => {
    const name = url.pathname.slice(1);
    if (name === 'index.html') return { dir, file: name, headers: ISOLATION_HEADERS, body: PAGE };
    return /^[\w-]+\.(js|bin)$/.test(name) ? { dir, file: name, headers: ISOLATION_HEADERS } : null;
  });
  try {
    writeFileSync(join(dir, 'digits.bin'), file);
    await build({
      entryPoints: { page: join(ROOT, 'bench/browser-page.ts'), trainer: join(ROOT, 'bench/browser-trainer.ts'), infer: join(ROOT, 'bench/browser-worker.ts') },
      bundle: true, splitting: true, format: 'esm', platform: 'browser', target: 'es2022', minify: true, outdir: dir, logLevel: 'silent',
    });

    const page = await (await browser.newContext()).newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${origin}/index.html`);
    await page.waitForFunction(() => (globalThis as { bench?: unknown }).bench !== undefined);
    const ask = async <T>(req: PageRequest): Promise<T> => {
      const r = await page.evaluate((q) => (globalThis as unknown as { bench: (q: unknown) => Promise<{ ok?: unknown; error?: string }> }).bench(q), req);
      if (r.error !== undefined || errors.length > 0) throw new Error(`bench:browser: the page failed: ${r.error ?? ''} ${errors.join('; ')}`);
      return r.ok as T;
    };
    type Info = ReturnType<typeof S.backendInfo>;
    const init = await ask<{ trainer: Info; infer: Info; crossOriginIsolated: boolean }>({ kind: 'init', threads: THREADS });
    S.setThreads(THREADS);
    const nodeInfo = await S.ready();
    console.log(`Chromium trainer worker:   ${JSON.stringify(init.trainer)} (cross-origin isolated: ${init.crossOriginIsolated})`);
    console.log(`Chromium inference worker: ${JSON.stringify(init.infer)}`);
    console.log(`Node:                      ${JSON.stringify(nodeInfo)}`);
    for (const [who, info] of [['trainer worker', init.trainer], ['inference worker', init.infer], ['Node', nodeInfo]] as const) {
      if (info.threads !== THREADS) throw new Error(`bench:browser: ${who} runs ${info.threads} threads, expected ${THREADS} (${info.reason})`);
    }
    if (init.trainer.build !== nodeInfo.build) console.log(`note: different wasm builds (${init.trainer.build} in Chromium, ${nodeInfo.build} in Node)`);

    const runs: Record<Work, { browser: () => Promise<number>; node: () => Promise<number> }> = {
      'W3 small': {
        browser: async () => (await ask<{ imagesPerSec: number }>({ kind: 'w3', model: 'small', images: IMAGES.small })).imagesPerSec,
        node: () => trainW3(S, train.take(IMAGES.small), 'small'),
      },
      'W3 small, fit': {
        browser: async () => (await ask<{ imagesPerSec: number }>({ kind: 'fit', model: 'small', images: IMAGES.small })).imagesPerSec,
        node: () => trainW3(S, train.take(IMAGES.small), 'small'),
      },
      'W3 lenet': {
        browser: async () => (await ask<{ imagesPerSec: number }>({ kind: 'w3', model: 'lenet', images: IMAGES.lenet })).imagesPerSec,
        node: () => trainW3(S, train.take(IMAGES.lenet), 'lenet'),
      },
      'W3 lenet, fit': {
        browser: async () => (await ask<{ imagesPerSec: number }>({ kind: 'fit', model: 'lenet', images: IMAGES.lenet })).imagesPerSec,
        node: () => trainW3(S, train.take(IMAGES.lenet), 'lenet'),
      },
      'W4 lenet': {
        browser: async () => (await ask<{ imagesPerSec: number }>({ kind: 'w4', reps: W4_REPS })).imagesPerSec,
        node: async () => inferW4(S, w4Images, W4_REPS),
      },
    };
    // Warm-up (untimed): each side compiles and tiers up its kernels on one run of each workload.
    for (const w of WORKS) {
      await runs[w].browser();
      await runs[w].node();
    }
    const got = Object.fromEntries(WORKS.map((w) => [w, { browser: [] as number[], node: [] as number[] }])) as Record<Work, { browser: number[]; node: number[] }>;
    const load0 = os.loadavg();
    for (let round = 0; round < rounds; round++) {
      for (const w of WORKS) {
        const browserFirst = round % 2 === 0;
        if (browserFirst) got[w].browser.push(await runs[w].browser());
        got[w].node.push(await runs[w].node());
        if (!browserFirst) got[w].browser.push(await runs[w].browser());
      }
      console.log(`round ${round + 1}/${rounds} (Chromium / Node images/s): ${WORKS.map((w) => `${w} ${got[w].browser.at(-1)!.toFixed(0)} / ${got[w].node.at(-1)!.toFixed(0)}`).join(', ')}`);
    }
    const load1 = os.loadavg();

    const cpu = /model name\s*:\s*(.*)/.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? os.cpus()[0]?.model ?? 'unknown';
    const what: Record<Work, string> = {
      'W3 small': `training, ${IMAGES.small / W3_BATCH} batches of ${W3_BATCH}, trainer`,
      'W3 small, fit': `the same, \`fit\` in a worker`,
      'W3 lenet': `training, ${IMAGES.lenet / W3_BATCH} batches of ${W3_BATCH}, trainer`,
      'W3 lenet, fit': `the same, \`fit\` in a worker`,
      'W4 lenet': `inference, batch ${W4_BATCH}, ${W4_REPS} calls`,
    };
    const rows = WORKS.map((w) => {
      const b = median(got[w].browser);
      const n = median(got[w].node);
      const ratios = got[w].browser.map((x, i) => x / got[w].node[i]);
      return `| ${w} | ${what[w]} | ${b.toFixed(0)} | ${n.toFixed(0)} | ${(b / n).toFixed(2)} | ${Math.min(...ratios).toFixed(2)}-${Math.max(...ratios).toFixed(2)} |`;
    });
    const busy = Math.max(load0[0], load1[0]) > 1.5;
    const section = [
      START,
      '## Browser vs Node (`npm run bench:browser`)',
      '',
      `- Machine: ${cpu} (lscpu model name), ${os.availableParallelism()} cores; Node ${process.version}; Chromium ${browser.version()}; ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC.`,
      `- Chromium: module workers of a cross-origin-isolated page (COOP same-origin, COEP require-corp), \`${init.trainer.build}\`, ${init.trainer.threads} threads; W3 through the \`stride-cnn/worker\` trainer (TrainerClient from the page, timed there around \`train\`), and again through \`fit\` called directly in another module worker (the ", fit" rows: what the trainer's messages and yields between batches cost, if anything); W4 through \`Sequential.predict\` in that other worker. Node: \`${nodeInfo.build}\`, ${nodeInfo.threads} threads; W3 through \`fit\`, W4 through \`predict\`.`,
      `- Data: the W3 MNIST train split (WORKLOADS.md) in a seeded order, the first ${Math.max(IMAGES.small, IMAGES.lenet)} images as a compact dataset file that the trainer fetches from the page's origin and Node decodes; fresh preset models (seed ${1}), SGD lr 0.01, batch ${W3_BATCH}, shuffle seed ${SHUFFLE_SEED}. W4 on its first ${W4_BATCH} images.`,
      `- One untimed run of each workload on each side, then ${rounds} rounds, interleaved (one run of each side per workload and round, who goes first alternating). Figures are medians of images/s; the ratio is browser ÷ Node of the medians, the range that of the per-round ratios.`,
      `- Load average (1 min) ${load0[0].toFixed(2)} at the start of the rounds, ${load1[0].toFixed(2)} at the end${busy ? ': other work shared the 2 cores during this run, so the absolute figures are low, and even the ratios moved from round to round (see the range); a quiet machine is needed for a firm ratio' : ''}.`,
      '',
      '| workload | what | Chromium images/s | Node images/s | browser ÷ Node | per round |',
      '|---|---|---:|---:|---:|---|',
      ...rows,
      END,
    ].join('\n');
    console.log(`\n${section}`);
    if (values.write) {
      const text = readFileSync(RESULTS, 'utf8');
      const a = text.indexOf(START);
      const b = text.indexOf(END);
      const next = a >= 0 && b > a ? text.slice(0, a) + section + text.slice(b + END.length) : `${text.trimEnd()}\n\n${section}\n`;
      writeFileSync(RESULTS, next);
      console.log(`\nbench:browser: wrote the section to ${RESULTS}`);
    }
  } finally {
    await browser.close();
    server.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

const PAGE = `<!doctype html>
<meta charset="utf-8">
<title>stride bench:browser</title>
<link rel="icon" href="data:,">
<script type="module" src="./page.js"></script>
`;

await main();
