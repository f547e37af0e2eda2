/**
 * What the browser tests share: Debian's Chromium launched through playwright-core, a static file
 * server on 127.0.0.1 whose headers each test chooses per request, and a page loader that collects
 * everything the page (and its workers) reported on the console. Chromium is required: without it
 * these tests fail (CI installs it with apt-get), they never skip.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { extname, join, normalize, sep } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
  '--headless=new',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** The headers a page needs for SharedArrayBuffer (and so wasm threads): cross-origin isolation. */
export const ISOLATION_HEADERS: Record<string, string> = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

export function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `browser tests: Chromium not found at ${CHROMIUM}. These tests need a real browser and do not skip: ` +
        'install it with `apt-get install -y chromium` (Debian/Ubuntu; CI does this in .ci/run).',
    );
  }
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, timeout: 30_000 });
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
  '.bin': 'application/octet-stream',
};

/** Where a request is answered from: a folder, and the headers to send with every file from it. */
export interface Route {
  dir: string;
  file: string;
  headers?: Record<string, string>;
  /** Replaces the file's content (e.g. a page generated per request). */
  body?: string;
}

/** A server on 127.0.0.1 (a free port); `route` maps each request to a file, or null for 404. */
export async function startServer(route: (url: URL, req: IncomingMessage) => Route | null): Promise<{ server: Server; origin: string }> {
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    let r: Route | null;
    try {
      r = route(url, req);
    } catch {
      r = null;
    }
    if (r === null || typeof r.file !== 'string') {
      res.writeHead(404).end();
      return;
    }
    const path = normalize(join(r.dir, r.file));
    const inside = path === r.dir || path.startsWith(r.dir.endsWith(sep) ? r.dir : r.dir + sep);
    if (r.body === undefined && (!inside || !existsSync(path) || !statSync(path).isFile())) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, {
      'Content-Type': TYPES[extname(r.file)] ?? 'application/octet-stream',
      'Cache-Control': 'no-store',
      ...r.headers,
    });
    res.end(r.body ?? readFileSync(path));
  });
  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => ok());
  });
  return { server, origin: `http://127.0.0.1:${(server.address() as { port: number }).port}` };
}

/** What a page said while it ran. */
export interface PageLog {
  /** Uncaught errors and console.error, from the page and its workers. */
  errors: string[];
  /** console.warn messages, from the page and its workers. */
  warnings: string[];
  /** Web Workers the page started (nested ones included). */
  workers: number;
}

/**
 * Opens `url` in a fresh context and waits for `globalThis[key]` (a promise the page sets), with a
 * timeout: a deadlock or a hang in the page shows up as that timeout, with what the page logged.
 */
export async function loadPage<T>(browser: Browser, url: string, key: string, timeoutMs = 30_000): Promise<{ result: T; log: PageLog; ms: number }> {
  const context: BrowserContext = await browser.newContext();
  const log: PageLog = { errors: [], warnings: [], workers: 0 };
  try {
    const page: Page = await context.newPage();
    page.on('pageerror', (e) => log.errors.push(`pageerror: ${e.message}`));
    page.on('console', (m) => {
      if (m.type() === 'error') log.errors.push(`console.error: ${m.text()}`);
      if (m.type() === 'warning') log.warnings.push(m.text());
    });
    page.on('worker', (w) => {
      log.workers++;
      w.on('console', (m) => {
        if (m.type() === 'error') log.errors.push(`worker console.error: ${m.text()}`);
        if (m.type() === 'warning') log.warnings.push(m.text());
      });
    });
    const t0 = performance.now();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, fail) => {
      timer = setTimeout(
        () => fail(new Error(`${url}: no result within ${timeoutMs} ms (a deadlock or a hang in the page?); page errors: ${log.errors.join('; ') || 'none'}`)),
        timeoutMs,
      );
    });
    try {
      const load = (async () => {
        await page.goto(url, { waitUntil: 'load' });
        await page.waitForFunction((k) => (globalThis as Record<string, unknown>)[k] !== undefined, key, { timeout: timeoutMs });
        return page.evaluate((k) => (globalThis as Record<string, unknown>)[k], key) as Promise<T>;
      })();
      load.catch(() => undefined); // after a timeout, closing the context rejects it: already reported
      const result = await Promise.race([load, timeout]);
      return { result, log, ms: performance.now() - t0 };
    } finally {
      clearTimeout(timer);
    }
  } finally {
    await context.close();
  }
}
