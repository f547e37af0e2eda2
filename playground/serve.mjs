// `npm run playground`: builds the page (the library is built first by the npm script) and serves
// playground/dist on 127.0.0.1 with the cross-origin isolation headers, printing the URL.
import { build, preview } from 'vite';
import { URL, fileURLToPath } from 'node:url';

const configFile = fileURLToPath(new URL('./vite.config.ts', import.meta.url));
await build({ configFile });
const port = Number(process.env.PORT ?? 5180);
const server = await preview({ configFile, preview: { port, strictPort: false } });
const url = server.resolvedUrls?.local[0] ?? `http://127.0.0.1:${port}/`;
console.log(`Stride playground: ${url}  (Ctrl+C to stop)`);
