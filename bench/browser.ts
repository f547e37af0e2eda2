/**
 * `npm run bench:browser` (issue #7): W3 (small and lenet training) and W4 (lenet inference, batch
 * 256) in Chromium, in a module worker of a cross-origin-isolated page with 2 threads, and in Node
 * with 2 threads, interleaved round by round in one run (who goes first alternates). Prints the
 * browser/Node ratio per workload; `--write` records the section in bench/RESULTS.md.
 *
 *   npm run bench:browser              # 5 rounds
 *   npm run bench:browser -- --rounds 3 --write
 *
 * Node runs with --experimental-wasm-relaxed-simd (the script sets it), so both sides run the same
 * wasm build; Chromium has relaxed SIMD on by default.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { build } from 'esbuild';
import * as S from '../src/index.js';
import { Rng } from '../src/tensor/random.js';
import { ISOLATION_HEADERS, launchChromium, startServer } from '../test/browser/harness.js';
import { inferW4, PIXELS, trainW3, W3_BATCH, W4_BATCH, type Digits } from './browser-work.js';
import type { BenchRequest } from './browser-worker.js';
import { loadMnistArrays } from './workloads/mnist-data.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const RESULTS = join(ROOT, 'bench/RESULTS.md');
const START = '<!-- bench:browser -->';
const END = '<!-- /bench:browser -->';
const THREADS = 2;
/** Timed batches per W3 run (after 2 untimed), and timed calls per W4 run (after 1 untimed). */
const BATCHES = { small: 40, lenet: 16 } as const;
const W4_REPS = 4;

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '5' }, write: { type: 'boolean', default: false } } });
const rounds = Number(values.rounds);
if (!Number.isInteger(rounds) || rounds < 1) throw new Error(`bench:browser: --rounds must be a positive integer, got ${values.rounds}`);

const median = (a: number[]): number => {
  const s = [...a].sort((x, y) => x - y);
  return s.length % 2 ? s[(s.length - 1) >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/** The W3 train split (WORKLOADS.md), shuffled with seed 1, cut to what the runs use. */
async function digits(): Promise<Digits> {
  const all = await loadMnistArrays('train');
  const n = Math.max(BATCHES.small, BATCHES.lenet, 0) * W3_BATCH + 2 * W3_BATCH;
  const order = new Rng(1).permutation(all.n);
  const images = new Float32Array(n * PIXELS);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    images.set(all.images.subarray(order[i] * PIXELS, (order[i] + 1) * PIXELS), i * PIXELS);
    labels[i] = all.labels[order[i]];
  }
  if (n < W4_BATCH) throw new Error('bench:browser: fewer images than a W4 batch');
  return { images, labels, n };
}

type Work = 'W3 small' | 'W3 lenet' | 'W4 lenet';
const WORKS: Work[] = ['W3 small', 'W3 lenet', 'W4 lenet'];

async function main(): Promise<void> {
  const data = await digits();
  const dir = mkdtempSync(join(os.tmpdir(), 'stride-bench-browser-'));
  const browser = await launchChromium();
  const { server, origin } = await startServer((url) => {
    const file = url.pathname.slice(1);
    if (file === 'index.html') return { dir, file, headers: ISOLATION_HEADERS, body: PAGE };
    return file === 'worker.js' || file === 'digits.bin' ? { dir, file, headers: ISOLATION_HEADERS } : null;
  });
  try {
    const bin = new Uint8Array(data.n * PIXELS * 4 + data.n * 4);
    bin.set(new Uint8Array(data.images.buffer, data.images.byteOffset, data.images.byteLength), 0);
    bin.set(new Uint8Array(data.labels.buffer, data.labels.byteOffset, data.labels.byteLength), data.images.byteLength);
    writeFileSync(join(dir, 'digits.bin'), bin);
    await build({ entryPoints: [join(ROOT, 'bench/browser-worker.ts')], bundle: true, format: 'esm', platform: 'browser', target: 'es2022', minify: true, outfile: join(dir, 'worker.js'), logLevel: 'silent' });

    const page = await (await browser.newContext()).newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${origin}/index.html`);
    await page.waitForFunction(() => (globalThis as { bench?: unknown }).bench !== undefined);
    const ask = async <T>(req: BenchRequest): Promise<T> => {
      const r = await page.evaluate((q) => (globalThis as unknown as { bench: (q: unknown) => Promise<{ ok?: unknown; error?: string }> }).bench(q), req);
      if (r.error !== undefined || errors.length > 0) throw new Error(`bench:browser: the worker failed: ${r.error ?? ''} ${errors.join('; ')}`);
      return r.ok as T;
    };
    const init = await ask<{ info: ReturnType<typeof S.backendInfo>; crossOriginIsolated: boolean }>({ kind: 'init', n: data.n, threads: THREADS });
    S.setThreads(THREADS);
    const nodeInfo = await S.ready();
    console.log(`Chromium worker: ${JSON.stringify(init.info)} (cross-origin isolated: ${init.crossOriginIsolated})`);
    console.log(`Node:            ${JSON.stringify(nodeInfo)}`);
    if (init.info.threads !== THREADS || nodeInfo.threads !== THREADS) throw new Error(`bench:browser: expected ${THREADS} threads on both sides`);
    if (init.info.build !== nodeInfo.build) console.log(`note: different wasm builds (${init.info.build} vs ${nodeInfo.build})`);

    const got: Record<Work, { browser: number[]; node: number[] }> = Object.fromEntries(WORKS.map((w) => [w, { browser: [], node: [] }])) as never;
    const runs: Record<Work, { browser: () => Promise<number>; node: () => number }> = {
      'W3 small': {
        browser: async () => (await ask<{ imagesPerSec: number }>({ kind: 'w3', model: 'small', batches: BATCHES.small })).imagesPerSec,
        node: () => trainW3(S, data, 'small', BATCHES.small).imagesPerSec,
      },
      'W3 lenet': {
        browser: async () => (await ask<{ imagesPerSec: number }>({ kind: 'w3', model: 'lenet', batches: BATCHES.lenet })).imagesPerSec,
        node: () => trainW3(S, data, 'lenet', BATCHES.lenet).imagesPerSec,
      },
      'W4 lenet': {
        browser: async () => (await ask<{ imagesPerSec: number }>({ kind: 'w4', reps: W4_REPS })).imagesPerSec,
        node: () => inferW4(S, data, W4_REPS).imagesPerSec,
      },
    };
    const load0 = os.loadavg();
    for (let round = 0; round < rounds; round++) {
      for (const w of WORKS) {
        const browserFirst = round % 2 === 0;
        if (browserFirst) got[w].browser.push(await runs[w].browser());
        got[w].node.push(runs[w].node());
        if (!browserFirst) got[w].browser.push(await runs[w].browser());
      }
      console.log(`round ${round + 1}/${rounds}: ${WORKS.map((w) => `${w} ${got[w].browser.at(-1)!.toFixed(0)} / ${got[w].node.at(-1)!.toFixed(0)} img/s`).join(', ')}`);
    }
    const load1 = os.loadavg();

    const cpu = /model name\s*:\s*(.*)/.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? os.cpus()[0]?.model ?? 'unknown';
    const rows = WORKS.map((w) => {
      const b = median(got[w].browser);
      const n = median(got[w].node);
      const ratios = got[w].browser.map((x, i) => x / got[w].node[i]);
      return `| ${w} | ${w.startsWith('W3') ? `train, batch ${W3_BATCH}, ${BATCHES[w.endsWith('small') ? 'small' : 'lenet']} batches` : `inference, batch ${W4_BATCH}, ${W4_REPS} calls`} | ${b.toFixed(0)} | ${n.toFixed(0)} | ${(b / n).toFixed(2)} | ${Math.min(...ratios).toFixed(2)}-${Math.max(...ratios).toFixed(2)} |`;
    });
    const section = [
      START,
      '## Browser vs Node (`npm run bench:browser`)',
      '',
      `- Machine: ${cpu}, ${os.availableParallelism()} cores; Node ${process.version}; Chromium ${browser.version()}; ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC.`,
      `- Chromium: the library in a module worker of a cross-origin-isolated page (COOP same-origin, COEP require-corp), \`${init.info.build}\`, ${init.info.threads} threads; Node: \`${nodeInfo.build}\`, ${nodeInfo.threads} threads (with --experimental-wasm-relaxed-simd).`,
      `- ${rounds} rounds, interleaved (one run of each side per workload and round, who goes first alternating); figures are medians of images/s, the ratio is browser ÷ Node of the medians, the range that of the per-round ratios.`,
      `- Data: the W3 MNIST train split (WORKLOADS.md), shuffled with seed 1; fresh preset models (seed 1), SGD lr 0.01, 2 untimed steps first. The Chromium worker fetches the same images from the page's origin.`,
      `- Load average (1 min) ${load0[0].toFixed(2)} at the start, ${load1[0].toFixed(2)} at the end: other work shared the cores when it is above ~0.5.`,
      '',
      '| workload | what | Chromium img/s | Node img/s | browser ÷ Node | per round |',
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
<script type="module">
const worker = new Worker('./worker.js', { type: 'module' });
let pending = null;
worker.onmessage = (e) => { const p = pending; pending = null; p(e.data); };
worker.onerror = (e) => { const p = pending; pending = null; if (p) p({ error: 'worker error: ' + (e.message || 'no message (blocked?)') }); };
globalThis.bench = (req) => new Promise((resolve) => { pending = resolve; worker.postMessage(req); });
</script>
`;

await main();
