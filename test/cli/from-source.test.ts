/**
 * Running the CLI from a clone's sources before `npm run build`: the WebAssembly kernels'
 * generated module (src/kernels/wasm/binary.ts) does not exist yet. The CLI must say so and how to
 * fix it, not fall back silently or blame SIMD (issue 9, item 14).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { cp, mkdtemp, rm, symlink, access } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, TINY, fails, makeFolder, ok, stride } from './run-stride.js';

let dir = '';
let main = '';

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'stride-source-'));
  // A clone without the build: the sources minus the generated binary.ts.
  await cp(join(ROOT, 'src'), join(dir, 'src'), { recursive: true, filter: (p) => !p.endsWith(join('kernels', 'wasm', 'binary.ts')) });
  await cp(join(ROOT, 'package.json'), join(dir, 'package.json'));
  await symlink(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
  await makeFolder(join(dir, 'data'));
  main = join(dir, 'src', 'cli', 'main.ts');
  await assert.rejects(access(join(dir, 'src', 'kernels', 'wasm', 'binary.ts')));
});

after(async () => {
  await rm(dir, { recursive: true, force: true });
});

test('without the wasm build, train says the kernels are not built and how to build them', async () => {
  const args = [...TINY('data').filter((a) => a !== '--backend' && a !== 'reference'), '--epochs', '1', '--no-save'];
  const [plain, wasm] = await Promise.all([stride(dir, args, { main }), stride(dir, [...args, '--backend', 'wasm'], { main })]);
  ok(plain, 'train without a build');
  assert.match(plain.stderr, /^warning: the WebAssembly kernels are not built \(src\/kernels\/wasm\/binary\.ts is missing\): run `npm run build`; using the slow reference kernels$/m);
  assert.match(plain.stdout, /^backend {2}reference$/m);
  fails(wasm, 1, /--backend wasm: the WebAssembly kernels are not built \(src\/kernels\/wasm\/binary\.ts is missing\): run `npm run build`/, '--backend wasm');
  assert.doesNotMatch(wasm.stderr, /SIMD/);
});
