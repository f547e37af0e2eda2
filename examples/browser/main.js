/* global window, document, location, URLSearchParams */
// The page's entry point: runs the demo and shows what the library reports about its backend.
// `?threads=N` asks for N threads (the default is one per core, at most 8).
import * as stride from 'stride-cnn';
import { runDemo } from './demo.js';

const out = document.getElementById('out');
const threads = Number(new URLSearchParams(location.search).get('threads')) || undefined;

// Published on the window too, so that a test driving this page can read it.
window.strideDemo = runDemo(stride, { threads }).then(
  (result) => {
    const { info, readyMs, work, losses } = result;
    out.textContent =
      `backend ${info.backend} (${info.build ?? 'no wasm'}), ${info.threads} of ${info.requestedThreads} threads working\n` +
      `${info.reason === null ? 'no fallback' : `fallback: ${info.reason}`}\n` +
      `ready() took ${readyMs.toFixed(0)} ms; chunks run per thread: ${work.join(', ')}\n` +
      `training loss: ${losses.map((l) => l.toFixed(4)).join(' -> ')}`;
    return result;
  },
  (e) => {
    out.textContent = `failed: ${e instanceof Error ? e.stack ?? e.message : String(e)}`;
    return { error: String(e instanceof Error ? e.stack ?? e.message : e) };
  },
);
