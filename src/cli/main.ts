#!/usr/bin/env node
/**
 * The `stride` executable. It only prepares the process and hands over to `program.ts`:
 * - Node 20 validates relaxed-SIMD WebAssembly only behind a flag; the wasm kernels use it when
 *   present, so it is enabled here, before any module compiles WebAssembly (later Node versions
 *   have it on by default);
 * - errors that escape a command are printed as one line (see `reportError`);
 * - a closed stdout (`stride ... | head`) ends the process quietly.
 */
import v8 from 'node:v8';

if (Number(process.versions.node.split('.')[0]) < 22) v8.setFlagsFromString('--experimental-wasm-relaxed-simd');

process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(0);
});

const { run, reportError } = await import('./program.js');
process.on('uncaughtException', (e) => process.exit(reportError(e)));
process.on('unhandledRejection', (e) => process.exit(reportError(e)));

const code = await run(process.argv.slice(2));
// Exit explicitly: worker threads of the wasm kernels would otherwise keep the process alive.
process.exit(code);
