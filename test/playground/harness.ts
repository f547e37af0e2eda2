/**
 * Shared by the playground's browser tests: builds the page with Vite's API (the same config as
 * `npm run playground:build`) into a temporary directory, serves it from 127.0.0.1 with COOP/COEP
 * (page, worker script and data alike), and opens views in Debian's Chromium through playwright-core,
 * collecting every console error, page error, failed request and request outside the origin.
 * Chromium is required: without it the tests fail, they never skip.
 */
import { after, before } from 'node:test';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, extname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build } from 'vite';
import { chromium, type Browser, type Page } from 'playwright-core';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const CHROMIUM = '/usr/bin/chromium';
const ARGS = ['--headless=new', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
export const LAPTOP = { width: 1280, height: 800 };
export const PHONE = { width: 390, height: 844 };
/** Where screenshots go: $PLAYGROUND_SCREENSHOTS (docs/playground to refresh the docs) or a temporary directory. */
const SHOTS = process.env.PLAYGROUND_SCREENSHOTS ? resolve(ROOT, process.env.PLAYGROUND_SCREENSHOTS) : mkdtempSync(join(tmpdir(), 'stride-playground-shots-'));

const TYPES: Record<string, string> = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8', '.gz': 'application/octet-stream' };

export const site = { dir: '', origin: '', bytes: 0, gzipBytes: 0, buildMs: 0 };
let server: Server | undefined;
let browser: Browser | undefined;

before(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`playground tests: Chromium not found at ${CHROMIUM}; install it with \`apt-get install -y chromium\` (these tests never skip)`);
  }
  if (!existsSync(join(ROOT, 'dist/index.js'))) throw new Error('playground tests: dist/index.js is missing; run `npm run build` first (npm test does)');
  site.dir = mkdtempSync(join(tmpdir(), 'stride-playground-'));
  const t0 = performance.now();
  await build({ configFile: join(ROOT, 'playground/vite.config.ts'), build: { outDir: site.dir, emptyOutDir: true }, logLevel: 'error' });
  site.buildMs = performance.now() - t0;
  const walk = (d: string): void => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else {
        const b = readFileSync(p);
        site.bytes += b.length;
        // The digits are gzipped already; everything else as a server would send it.
        site.gzipBytes += name.endsWith('.gz') ? b.length : gzipSync(b).length;
      }
    }
  };
  walk(site.dir);
  server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://127.0.0.1').pathname);
    const file = join(site.dir, path === '/' ? 'index.html' : path);
    res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
    res.setHeader('Cross-Origin-Embedder-Policy', 'require-corp');
    if (!file.startsWith(site.dir) || !existsSync(file) || !statSync(file).isFile()) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'Content-Type': TYPES[extname(file)] ?? 'application/octet-stream' });
    res.end(readFileSync(file));
  });
  await new Promise<void>((ok) => server!.listen(0, '127.0.0.1', () => ok()));
  site.origin = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS, timeout: 30_000 });
  mkdirSync(SHOTS, { recursive: true });
});

after(async () => {
  await browser?.close();
  server?.close();
  if (site.dir) rmSync(site.dir, { recursive: true, force: true });
});

export interface Opened {
  page: Page;
  /** Everything that went wrong in the page so far; each test asserts it is empty. */
  problems: string[];
  close: () => Promise<void>;
}

/** Opens a view (`#build`, `#train`, ...) in a fresh context; `init` runs in the page before its scripts. */
export async function open(view: string, opts: { viewport?: { width: number; height: number }; init?: () => void; acceptDownloads?: boolean } = {}): Promise<Opened> {
  const context = await browser!.newContext({ viewport: opts.viewport ?? LAPTOP, acceptDownloads: opts.acceptDownloads ?? false });
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`console.error: ${m.text()}`);
  });
  page.on('requestfailed', (r) => problems.push(`request failed: ${r.url()} ${r.failure()?.errorText}`));
  const check = (url: string) => {
    if (!url.startsWith(site.origin) && !url.startsWith('data:') && !url.startsWith('blob:')) problems.push(`request outside the origin: ${url}`);
  };
  page.on('request', (r) => check(r.url()));
  page.on('worker', (w) => check(w.url()));
  page.on('response', (r) => {
    if (r.status() >= 400) problems.push(`HTTP ${r.status()}: ${r.url()}`);
  });
  if (opts.init) await page.addInitScript(opts.init);
  await page.goto(`${site.origin}/#${view}`, { waitUntil: 'load' });
  await page.waitForSelector(`#view-${view}`, { state: 'visible' });
  return { page, problems, close: () => context.close() };
}

export async function shoot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: join(SHOTS, `${name}.png`) });
}
