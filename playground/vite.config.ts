/**
 * The playground's build: a static site in playground/dist. `stride-cnn` resolves to this
 * repository's built package (dist/, from `npm run build`), as an installed copy would.
 * The preview server sends COOP/COEP so the page is cross-origin isolated (wasm threads need it).
 */
import { defineConfig } from 'vite';
import { fileURLToPath } from 'node:url';

export const ISOLATION_HEADERS = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: './',
  resolve: { alias: { 'stride-cnn': fileURLToPath(new URL('../dist/index.js', import.meta.url)) } },
  build: { outDir: 'dist', emptyOutDir: true, target: 'es2022', assetsInlineLimit: 0, reportCompressedSize: false },
  server: { host: '127.0.0.1', headers: ISOLATION_HEADERS },
  preview: { host: '127.0.0.1', headers: ISOLATION_HEADERS },
  logLevel: 'warn',
});
