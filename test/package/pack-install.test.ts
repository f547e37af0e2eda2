/**
 * Stride as a user installs it (issue 7, item 4): `npm pack` of this checkout (after the build that
 * `npm test` runs first), installed into a fresh temporary project with npm, then
 *
 * - every entry point the docs import (README.md, docs/*.md) is in package.json `exports`, and the
 *   docs import nothing else from Stride (no `../src/node`, which exists only in a clone);
 * - a child process in that project imports every entry point (starting no OS thread: the threads
 *   start at ready()), finds every name the docs import, and saves and loads a model through
 *   `stride-cnn/node`;
 * - the installed `stride pack-data` writes a compact dataset the installed package decodes;
 * - TypeScript resolves the `types` of every entry point there (NodeNext);
 * - esbuild bundles the browser entries (`stride-cnn`, `stride-cnn/worker`) for platform browser
 *   with no warning, no external import and no `node:` import outside the guarded Node branch,
 *   while bundling `stride-cnn/node` for the browser fails (the check can fail).
 *
 * Only the npm registry cache is used (`--prefer-offline`); the project's dependencies are there
 * after `npm ci`.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { build } from 'esbuild';

const run = promisify(execFile);
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const PKG = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { name: string; version: string; exports: Record<string, unknown> };

/** Every `import ... from 'x'` / `import('x')` in the ```ts / ```js blocks of the docs, with the names imported. */
function docImports(): { file: string; spec: string; names: string[] }[] {
  const files = ['README.md', ...readdirSync(join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];
  const out: { file: string; spec: string; names: string[] }[] = [];
  for (const file of files) {
    const text = readFileSync(join(ROOT, file), 'utf8');
    for (const block of text.matchAll(/```(?:ts|js|typescript|javascript|mjs)\n([\s\S]*?)```/g)) {
      for (const m of block[1].matchAll(/import\s+(?:type\s+)?(\{[^}]*\}|\*\s+as\s+\w+|\w+)\s+from\s+['"]([^'"]+)['"]/g)) {
        const names = m[1].startsWith('{')
          ? m[1]
              .slice(1, -1)
              .split(',')
              .map((s) => s.trim())
              .filter((s) => s !== '' && !s.startsWith('type '))
              .map((s) => s.split(/\s+as\s+/)[0])
          : [];
        out.push({ file, spec: m[2], names: m[0].startsWith('import type') ? [] : names });
      }
      for (const m of block[1].matchAll(/import\(\s*['"]([^'"]+)['"]\s*\)/g)) out.push({ file, spec: m[1], names: [] });
    }
  }
  return out;
}

const isStride = (spec: string): boolean => spec === PKG.name || spec.startsWith(`${PKG.name}/`);
const entryOf = (spec: string): string => (spec === PKG.name ? '.' : `.${spec.slice(PKG.name.length)}`);

let dir = '';
let app = '';

before(async () => {
  if (!existsSync(join(ROOT, 'dist/index.js')) || !existsSync(join(ROOT, 'dist/worker/index.js'))) {
    throw new Error('pack-install: dist/ is missing or incomplete; run `npm run build` first (`npm test` does)');
  }
  dir = await mkdtemp(join(tmpdir(), 'stride-pack-install-'));
  const { stdout } = await run('npm', ['pack', '--pack-destination', dir, '--json', '--silent'], { cwd: ROOT, maxBuffer: 64 << 20 });
  const [{ filename }] = JSON.parse(stdout) as { filename: string }[];
  app = join(dir, 'app');
  await mkdir(app);
  await writeFile(join(app, 'package.json'), JSON.stringify({ name: 'stride-user-app', private: true, type: 'module' }));
  await run('npm', ['install', join(dir, filename), '--prefer-offline', '--no-audit', '--no-fund', '--silent'], { cwd: app, maxBuffer: 64 << 20 });
});

after(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

test('the docs import Stride only through package entry points, and every entry point is documented', () => {
  const imports = docImports();
  // A page's own modules ('./demo.js') are fine; Stride's source or build files are not.
  const fromClone = imports.filter((i) => /(^|\/)(src|dist)(\/|$)/.test(i.spec));
  assert.deepEqual(fromClone, [], 'docs must import from stride-cnn, stride-cnn/node or stride-cnn/worker, not from a clone\'s files');
  const stride = imports.filter((i) => isStride(i.spec));
  const notExported = stride.filter((i) => !Object.hasOwn(PKG.exports, entryOf(i.spec)));
  assert.deepEqual(notExported, [], 'documented entry points missing from package.json exports');
  const documented = new Set(stride.map((i) => entryOf(i.spec)));
  const entries = Object.keys(PKG.exports).filter((e) => e !== './package.json');
  assert.deepEqual(entries.filter((e) => !documented.has(e)), [], 'entry points no doc shows');
  for (const e of entries) assert.equal(typeof (PKG.exports[e] as { types?: unknown }).types, 'string', `exports['${e}'] has types`);
});

test('in the installed project every entry point imports, starting no thread, with every name the docs use; saveModel/loadModel work', async () => {
  const wanted = new Map<string, Set<string>>();
  for (const i of docImports().filter((d) => isStride(d.spec))) {
    const set = wanted.get(i.spec) ?? new Set<string>();
    i.names.forEach((n) => set.add(n));
    wanted.set(i.spec, set);
  }
  const script = `
    import { readdirSync } from 'node:fs';
    import { readFile } from 'node:fs/promises';
    const tasks = () => readdirSync('/proc/self/task').length;
    const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
    await readFile('package.json'); // starts libuv's thread pool, which is not Stride's
    await sleep(200);
    const beforeImport = tasks();
    const entries = ${JSON.stringify(Object.keys(PKG.exports).filter((e) => e !== './package.json').map((e) => (e === '.' ? PKG.name : PKG.name + e.slice(1))))};
    for (const e of entries) await import(e);
    await sleep(800);
    const afterImport = tasks();
    const wanted = ${JSON.stringify(Object.fromEntries([...wanted].map(([k, v]) => [k, [...v]])))};
    const missing = [];
    const mods = {};
    for (const [spec, names] of Object.entries(wanted)) {
      const m = await import(spec);
      mods[spec] = m;
      for (const n of names) if (!(n in m)) missing.push(spec + ': ' + n);
    }
    const { createPreset, Tensor } = mods['stride-cnn'] ?? await import('stride-cnn');
    const { saveModel, loadModel, loadMnist, loadStandardMnist } = await import('stride-cnn/node');
    const model = createPreset('tiny', { seed: 7 });
    await saveModel(model, 'models/tiny.safetensors');
    const again = await loadModel('models/tiny.safetensors');
    const x = Tensor.randn([2, 28, 28, 1], { seed: 1 });
    const same = Array.from(model.predict(x).data).every((v, i) => v === again.predict(x).data[i]);
    let deep = 'resolved';
    try { await import('stride-cnn/dist/node/index.js'); } catch (e) { deep = e.code; }
    const where = (await import('node:module')).createRequire(import.meta.url).resolve('stride-cnn/package.json');
    const core = await import('stride-cnn');
    core.setFallbackWarnings(false);
    core.setThreads(2);
    const info = await core.ready();
    await sleep(300);
    console.log(JSON.stringify({ missing, same, params: again.paramCount(), digits: loadMnist({ split: 'test' }).length, standard: [loadStandardMnist().train.length, loadStandardMnist().test.length], deep, where, beforeImport, afterImport, afterReady: tasks(), threads: info.threads }));
  `;
  await writeFile(join(app, 'check.mjs'), script);
  const { stdout } = await run(process.execPath, ['check.mjs'], { cwd: app, timeout: 30_000 });
  const r = JSON.parse(stdout) as { missing: string[]; same: boolean; params: number; digits: number; standard: number[]; deep: string; where: string; beforeImport: number; afterImport: number; afterReady: number; threads: number };
  assert.equal(r.afterImport, r.beforeImport, 'importing every entry point starts no thread (OS threads of the process)');
  assert.ok(r.threads === 2 && r.afterReady > r.afterImport, `ready() with setThreads(2) does: ${JSON.stringify(r)}`);
  assert.ok(wanted.has('stride-cnn/node') && wanted.has('stride-cnn/worker'), `the docs import ${[...wanted.keys()].join(', ')}`);
  assert.deepEqual(r.missing, []);
  assert.equal(r.same, true, 'the loaded model predicts as the saved one');
  assert.equal(r.params, 2010);
  assert.ok(r.digits > 1000, `loadMnist from the installed package: ${r.digits} test digits`);
  assert.deepEqual(r.standard, [60000, 10000], 'the standard MNIST from the installed package');
  assert.equal(r.deep, 'ERR_PACKAGE_PATH_NOT_EXPORTED', 'only the entry points are importable');
  assert.ok(r.where.startsWith(join(app, 'node_modules')), `stride-cnn resolved in the app: ${r.where}`);
});

test('TypeScript finds the types of every entry point of the installed package', async () => {
  await writeFile(
    join(app, 'tsconfig.json'),
    JSON.stringify({ compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext', target: 'ES2022', strict: true, noEmit: true, skipLibCheck: true, types: [] }, files: ['types.ts'] }),
  );
  await writeFile(
    join(app, 'types.ts'),
    `import { Sequential, loadCompactDataset, type CompactDataset } from 'stride-cnn';
import { saveModel, loadModel } from 'stride-cnn/node';
import { TrainerClient, serveTrainer, type BatchProgress, type TrainOptions } from 'stride-cnn/worker';
const opts: TrainOptions = { epochs: 1, optimizer: { name: 'adam', lr: 1e-3 } };
const f: (p: BatchProgress) => number = (p) => p.loss + p.imagesPerSecond;
const g: (m: Sequential, path: string) => Promise<void> = saveModel;
const h: (path: string) => Promise<Sequential> = loadModel;
const l: (url: string) => Promise<CompactDataset> = loadCompactDataset;
// @ts-expect-error: a typo in a request option is a type error
const bad: TrainOptions = { epoch: 1 };
export { opts, f, g, h, l, bad, TrainerClient, serveTrainer };
`,
  );
  const tsc = join(ROOT, 'node_modules/typescript/bin/tsc');
  const r = await run(process.execPath, [tsc, '-p', 'tsconfig.json'], { cwd: app, timeout: 60_000 }).catch((e: { stdout: string }) => ({ stdout: e.stdout, failed: true }));
  assert.equal('failed' in r, false, `tsc in the installed project:\n${r.stdout}`);
});

test("the installed `stride pack-data` writes a file the installed package's loader reads", async () => {
  await run(join(app, 'node_modules/.bin/stride'), ['pack-data', '-o', 'digits.bin', '--limit', '100', '--test-limit', '30'], { cwd: app, timeout: 60_000 });
  await writeFile(
    join(app, 'read.mjs'),
    `import { readFileSync } from 'node:fs';
import { decodeCompactDataset } from 'stride-cnn';
const { train, test } = decodeCompactDataset(readFileSync('digits.bin'));
console.log(JSON.stringify({ train: train.length, test: test.length, shape: train.imageShape, counts: Array.from(train.classCounts()) }));`,
  );
  const { stdout } = await run(process.execPath, ['read.mjs'], { cwd: app, timeout: 30_000 });
  assert.deepEqual(JSON.parse(stdout), { train: 100, test: 30, shape: [28, 28, 1], counts: Array(10).fill(10) });
});

/** Problems of a browser bundle: warnings, external imports, `node:` imports outside the Node-only branch. */
async function bundleProblems(entry: string): Promise<string[]> {
  const r = await build({
    stdin: { contents: `export * from '${entry}';`, resolveDir: app, loader: 'js' },
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    write: false,
    metafile: true,
    logLevel: 'silent',
  });
  const problems = r.warnings.map((w) => `warning: ${w.text}`);
  for (const out of Object.values(r.metafile.outputs)) for (const imp of out.imports) problems.push(`external import ${imp.path}`);
  const text = r.outputFiles[0].text;
  if (/\bfrom\s*["']node:/.test(text)) problems.push('a static node: import');
  // The allowed references are threads.ts's (test/browser-safe.test.ts): the dynamic import of
  // worker_threads behind its Node check, and the require in the thread-worker script's Node branch.
  const guards = [/process\?\.versions\?\.node !== void 0/, /typeof require === 'function' && typeof self === 'undefined'/];
  for (const m of text.matchAll(/(import|require)\(\s*["'](node:[\w/]+)["']\s*\)/g)) {
    const before = text.slice(Math.max(0, (m.index ?? 0) - 400), m.index);
    if (!guards.some((g) => g.test(before))) problems.push(`unguarded ${m[1]}("${m[2]}")`);
  }
  return problems;
}

test('the browser entries bundle for the browser with no node: import leaking; stride-cnn/node does not', async () => {
  assert.deepEqual(await bundleProblems('stride-cnn'), []);
  assert.deepEqual(await bundleProblems('stride-cnn/worker'), []);
  assert.deepEqual(await bundleProblems('stride-cnn/worker/client'), []);
  await assert.rejects(bundleProblems('stride-cnn/node'), /node:|Could not resolve/);
  // The client alone carries no kernels: a few KB, where stride-cnn/worker carries the whole trainer.
  const size = async (entry: string): Promise<number> =>
    (await build({ stdin: { contents: `export { TrainerClient } from '${entry}';`, resolveDir: app, loader: 'js' }, bundle: true, minify: true, format: 'esm', platform: 'browser', write: false, logLevel: 'silent' })).outputFiles[0].contents.length;
  const [client, full] = [await size('stride-cnn/worker/client'), await size('stride-cnn/worker')];
  assert.ok(client < 8_000 && full > 40_000, `TrainerClient minified: ${client} bytes from stride-cnn/worker/client, ${full} from stride-cnn/worker`);
});
