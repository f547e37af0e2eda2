/**
 * Names that do not collide (issue 10 item 5), checked with the TypeScript checker over src/:
 *
 * 1. No entry point of the package (src/index.ts, src/node/index.ts, src/worker/index.ts,
 *    src/worker/client.ts) exports two names that are equal ignoring case and of the same kind,
 *    such as the kernel-level `Conv2dOptions` next to the layer-level `Conv2DOptions` (two types).
 *    A function and a type may pair up, as they differ in kind, not only in case: a layer class
 *    and the kernel function of its op (`Conv2D` / `conv2d`, `ReLU` / `relu`, STYLE.md's naming),
 *    or a function and its result type (`readModel` / `ReadModel`, `backendInfo` / `BackendInfo`).
 * 2. No two modules of src/ export different types under one name (as `EpochRecord` once meant a
 *    plot's row in src/viz/plot.ts and fit's epoch metrics in src/model/fit.ts). Functions may
 *    share a name across modules: src/kernels/ops.ts dispatches each kernel to the backend's
 *    function of the same name (src/kernels/reference/*.ts), by design.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const ENTRY_POINTS = ['src/index.ts', 'src/node/index.ts', 'src/worker/index.ts', 'src/worker/client.ts'];
const TYPE_FLAGS = ts.SymbolFlags.Interface | ts.SymbolFlags.TypeAlias | ts.SymbolFlags.Class | ts.SymbolFlags.Enum;

function sources(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) sources(p, out);
    else if (p.endsWith('.ts')) out.push(p);
  }
  return out;
}

const files = sources(join(ROOT, 'src'));
const program = ts.createProgram(files, {
  target: ts.ScriptTarget.ES2022,
  module: ts.ModuleKind.NodeNext,
  moduleResolution: ts.ModuleResolutionKind.NodeNext,
  noEmit: true,
  skipLibCheck: true,
});
const checker = program.getTypeChecker();

/** Every export of a module, resolved through re-exports to the symbol that declares it. */
function exportsOf(file: string): { name: string; symbol: ts.Symbol }[] {
  const source = program.getSourceFile(file);
  assert.ok(source, `${file} is part of the program`);
  const moduleSymbol = checker.getSymbolAtLocation(source);
  if (moduleSymbol === undefined) return []; // a script without imports or exports
  return checker.getExportsOfModule(moduleSymbol).map((e) => ({
    name: e.name,
    symbol: e.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(e) : e,
  }));
}

const is = (s: ts.Symbol, flags: ts.SymbolFlags): boolean => (s.flags & flags) !== 0;

for (const entry of ENTRY_POINTS) {
  test(`${entry}: no two exported names of the same kind are equal ignoring case`, () => {
    const exported = exportsOf(join(ROOT, entry));
    assert.ok(exported.length > 0, `${entry} exports something`);
    const groups = new Map<string, { name: string; symbol: ts.Symbol }[]>();
    for (const e of exported) groups.set(e.name.toLowerCase(), [...(groups.get(e.name.toLowerCase()) ?? []), e]);
    const bad: string[] = [];
    for (const group of groups.values()) {
      if (group.length < 2) continue;
      const functionAndType =
        group.length === 2 && group.some((e) => is(e.symbol, ts.SymbolFlags.Function) && !is(e.symbol, TYPE_FLAGS)) && group.some((e) => is(e.symbol, TYPE_FLAGS));
      if (!functionAndType) bad.push(group.map((e) => e.name).join(' / '));
    }
    assert.deepEqual(bad, [], `${entry} exports names that differ only by case: ${bad.join('; ')}`);
  });
}

test('no two modules of src/ export different types under the same name', () => {
  const declaredIn = new Map<string, Set<string>>();
  for (const file of files) {
    for (const { name, symbol } of exportsOf(file)) {
      if (!is(symbol, TYPE_FLAGS)) continue;
      for (const d of symbol.declarations ?? []) {
        const where = relative(ROOT, d.getSourceFile().fileName);
        declaredIn.set(name, (declaredIn.get(name) ?? new Set()).add(where));
      }
    }
  }
  assert.ok(declaredIn.has('Conv2DOptions') && declaredIn.has('EpochMetrics'), 'the scan sees the types of src/');
  const twice = [...declaredIn].filter(([, where]) => where.size > 1).map(([name, where]) => `${name} (${[...where].join(', ')})`);
  assert.deepEqual(twice, [], `types declared in two modules under one name: ${twice.join('; ')}`);
});
