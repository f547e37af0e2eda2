/**
 * The playground's build: a static site in playground/dist. `stride-cnn` and `stride-cnn/worker`
 * resolve to this repository's built package (dist/, from `npm run build`), as an installed copy
 * would. The digits the page trains on are written at build time by `stride pack-data` and
 * emitted beside the page (no request leaves its origin). The dev and preview servers send
 * COOP/COEP so the page and its worker are cross-origin isolated (wasm threads need it).
 */
import { defineConfig, type Plugin } from 'vite';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const ISOLATION_HEADERS = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

const repo = (p: string): string => fileURLToPath(new URL(`../${p}`, import.meta.url));

/** What the page ships: 5,000 training and 1,000 test digits, class-balanced, gzipped (about 0.95 MB). */
export const DIGITS_FILE = 'digits.bin.gz';
const PACK_ARGS = ['pack-data', '--limit', '5000', '--test-limit', '1000', '--gzip'];

/**
 * Runs `stride pack-data`, cached in node_modules/.cache under a hash of the writer's code and the
 * arguments, so a library rebuild that does not change the file format does not repack.
 */
function packDigits(): Buffer {
  const cli = repo('dist/cli/main.js');
  if (!existsSync(cli)) throw new Error('playground: dist/cli/main.js is missing; run `npm run build` first');
  const key = createHash('sha256').update(readFileSync(repo('dist/data/compact.js'))).update(PACK_ARGS.join(' ')).digest('hex').slice(0, 16);
  const dir = repo('node_modules/.cache/stride-playground');
  const out = `${dir}/digits-${key}.bin.gz`;
  if (!existsSync(out)) {
    mkdirSync(dir, { recursive: true });
    execFileSync(process.execPath, [cli, ...PACK_ARGS, '-o', out], { stdio: 'pipe' });
  }
  return readFileSync(out);
}

function digits(): Plugin {
  return {
    name: 'stride-playground-digits',
    generateBundle() {
      this.emitFile({ type: 'asset', fileName: DIGITS_FILE, source: packDigits() });
    },
    configureServer(server) {
      server.middlewares.use(`/${DIGITS_FILE}`, (_req, res) => {
        res.setHeader('Content-Type', 'application/octet-stream');
        res.end(packDigits());
      });
    },
  };
}

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: './',
  resolve: {
    alias: [
      { find: /^stride-cnn$/, replacement: repo('dist/index.js') },
      { find: /^stride-cnn\/worker$/, replacement: repo('dist/worker/index.js') },
    ],
  },
  plugins: [digits()],
  worker: { format: 'es' },
  build: { outDir: 'dist', emptyOutDir: true, target: 'es2022', assetsInlineLimit: 0, reportCompressedSize: false },
  server: { host: '127.0.0.1', headers: ISOLATION_HEADERS },
  preview: { host: '127.0.0.1', headers: ISOLATION_HEADERS },
  logLevel: 'warn',
});
