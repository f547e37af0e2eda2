/**
 * Regular files only (issue 9, item 10): a FIFO or a device given as a model, a checkpoint, an
 * image, an image-folder entry or the MNIST cache is refused at once, naming the path, instead of
 * hanging (a FIFO with no writer blocks its reader forever) or reading without end (/dev/zero).
 *
 * The readers run in a child process with a time limit: a reader that hangs inside a blocking
 * call cannot be interrupted by an in-process test timeout (a synchronous read of /dev/zero never
 * returns to the event loop), but a child can be killed, and that fails the test.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync, execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { readRegularFile, readRegularFileSync, FileReadError } from '../../src/node/read-file.js';

let tmp = '';
let fifo = '';
const canFifo = process.platform !== 'win32';
const hasDevZero = existsSync('/dev/zero');

before(() => {
  tmp = mkdtempSync(join(tmpdir(), 'stride-read-file-'));
  fifo = join(tmp, 'pipe');
  if (canFifo) execFileSync('mkfifo', [fifo]);
});
after(() => rmSync(tmp, { recursive: true, force: true }));

const src = (p: string): string => pathToFileURL(resolve('src', p)).href;

/**
 * Runs `body` (TypeScript, top-level await allowed) in a child Node with a 20 s limit and returns
 * what it printed as JSON on its last line. A hang is a test failure, not a stuck test run.
 */
function inChild(body: string): Record<string, string> {
  const file = join(tmp, `child-${Math.random().toString(36).slice(2)}.mts`);
  writeFileSync(
    file,
    `const out: Record<string, string> = {};
const run = async (name: string, f: () => unknown): Promise<void> => {
  try { await f(); out[name] = 'no error'; } catch (e) { out[name] = (e as Error).message; }
};
${body}
console.log(JSON.stringify(out));
process.exit(0);
`,
  );
  const r = spawnSync(process.execPath, ['--import', 'tsx', file], { encoding: 'utf8', timeout: 20_000, killSignal: 'SIGKILL' });
  assert.equal(r.signal, null, `the child was killed after 20 s (a reader hangs); stdout: ${r.stdout} stderr: ${r.stderr.slice(0, 2000)}`);
  assert.equal(r.status, 0, `child failed: ${r.stderr.slice(0, 2000)}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as Record<string, string>;
}

test('readRegularFile / readRegularFileSync read a regular file and refuse a directory, a missing file and one over maxBytes', async () => {
  const f = join(tmp, 'five');
  writeFileSync(f, 'hello');
  assert.equal((await readRegularFile(f, { what: 'test file' })).toString(), 'hello');
  assert.equal(readRegularFileSync(f, { what: 'test file' }).toString(), 'hello');
  await assert.rejects(readRegularFile(f, { what: 'test file', maxBytes: 4, op: 'op' }), {
    message: `op: ${f} is 5 bytes, more than the 4 bytes a test file can be`,
  });
  assert.throws(() => readRegularFileSync(f, { what: 'test file', maxBytes: 4 }), (e: Error) => e instanceof FileReadError && /is 5 bytes, more than the 4/.test(e.message));
  await assert.rejects(readRegularFile(tmp, { what: 'test file', op: 'op' }), { message: `op: ${tmp} is a directory, expected a file` });
  await assert.rejects(readRegularFile(join(tmp, 'nope'), { what: 'test file', op: 'op' }), (e: Error) => e instanceof FileReadError && (e as FileReadError).code === 'ENOENT');
  const loop = join(tmp, 'loop');
  if (canFifo) {
    execFileSync('ln', ['-s', loop, loop]);
    await assert.rejects(readRegularFile(loop, { what: 'test file' }), /symlink loop/);
  }
});

test('a FIFO and /dev/zero are refused at once by every reader (model, checkpoint, image, image folder, MNIST cache)', { skip: !canFifo || !hasDevZero ? 'needs mkfifo and /dev/zero' : false }, () => {
  const folder = join(tmp, 'folder');
  mkdirSync(join(folder, 'a'), { recursive: true });
  mkdirSync(join(folder, 'b'), { recursive: true });
  execFileSync('mkfifo', [join(folder, 'a', 'x.png')]);
  execFileSync('mkfifo', [join(folder, 'b', 'y.png')]);
  const ck = join(tmp, 'ck');
  mkdirSync(ck);
  writeFileSync(join(ck, 'model.safetensors'), 'x');
  execFileSync('mkfifo', [join(ck, 'state.safetensors')]);
  const out = inChild(`
const { readRegularFile, readRegularFileSync } = await import(${JSON.stringify(src('node/read-file.ts'))});
const { loadModel } = await import(${JSON.stringify(src('node/model-file.ts'))});
const { loadCheckpoint } = await import(${JSON.stringify(src('node/checkpoint.ts'))});
const { loadImage, loadImageFolder, decodeImage } = await import(${JSON.stringify(src('node/image-folder.ts'))});
const { verifyMnistCache } = await import(${JSON.stringify(src('node/mnist.ts'))});
const fifo = ${JSON.stringify(fifo)};
const img = { height: 4, width: 4, channels: 1 as const };
await run('read fifo', () => readRegularFile(fifo, { what: 'test file' }));
await run('readSync fifo', () => readRegularFileSync(fifo, { what: 'test file' }));
await run('readSync zero', () => readRegularFileSync('/dev/zero', { what: 'test file' }));
await run('model fifo', () => loadModel(fifo));
await run('model zero', () => loadModel('/dev/zero'));
await run('model urandom', () => loadModel('/dev/urandom'));
await run('checkpoint fifo', () => loadCheckpoint(${JSON.stringify(ck)}));
await run('image fifo', () => loadImage(fifo, img));
await run('image zero', () => decodeImage('/dev/zero', img));
await run('folder fifo', () => loadImageFolder(${JSON.stringify(folder)}, img));
out['mnist fifo'] = String(verifyMnistCache(fifo));
out['mnist zero'] = String(verifyMnistCache('/dev/zero'));
`);
  const fifoMsg = /is a FIFO \(named pipe\), not a regular file/;
  const devMsg = /\/dev\/(zero|urandom) is a character device, not a regular file/;
  assert.match(out['read fifo'], fifoMsg);
  assert.match(out['readSync fifo'], fifoMsg);
  assert.match(out['readSync zero'], devMsg);
  assert.match(out['model fifo'], new RegExp(`^loadModel: ${fifo}.*${fifoMsg.source}.*the model file must be a regular file`));
  assert.match(out['model zero'], /^loadModel: \/dev\/zero is a character device/);
  assert.match(out['model urandom'], /^loadModel: \/dev\/urandom is a character device/);
  assert.match(out['checkpoint fifo'], /^loadCheckpoint: .*state\.safetensors is a FIFO.*checkpoint state file/);
  assert.match(out['image fifo'], /^loadImage: cannot read image '.*pipe': .*is a FIFO/);
  assert.match(out['image zero'], devMsg);
  assert.match(out['folder fifo'], /^loadImageFolder: cannot read image '.*x\.png': .*is a FIFO/);
  assert.match(out['mnist fifo'], /^unreadable: .*is a FIFO/);
  assert.match(out['mnist zero'], /^unreadable: .*character device/);
});
