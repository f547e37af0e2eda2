/**
 * Helpers of the CLI tests: spawn `stride` from source (`node --import tsx src/cli/main.ts`) in a
 * directory, and make small image folders, so the tests need neither a build nor the MNIST cache.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const MAIN = join(ROOT, 'src', 'cli', 'main.ts');
export const TSX = import.meta.resolve('tsx');

export interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `stride ...args` with `cwd`; `main` overrides the entry point (a copied source tree). */
export function stride(cwd: string, args: string[], opts: { env?: NodeJS.ProcessEnv; main?: string } = {}): Promise<Result> {
  const env: NodeJS.ProcessEnv = { ...process.env, STRIDE_DEBUG: '', ...opts.env };
  delete env.NODE_OPTIONS;
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', TSX, opts.main ?? MAIN, ...args], { cwd, env, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1;
      resolve({ code, stdout, stderr });
    });
  });
}

export const ok = (r: Result, what: string): Result => {
  assert.equal(r.code, 0, `${what} exited ${r.code}\nstderr: ${r.stderr}\nstdout: ${r.stdout.slice(-2000)}`);
  return r;
};

/** A failed command: exit `code`, one line on stderr matching `pattern`, no stack trace. */
export function fails(r: Result, code: number, pattern: RegExp, what: string): void {
  assert.equal(r.code, code, `${what}: expected exit ${code}, got ${r.code}\nstderr: ${r.stderr}\nstdout: ${r.stdout.slice(-1500)}`);
  const lines = r.stderr.split('\n').filter((l) => l !== '' && !l.startsWith('warning: '));
  assert.equal(lines.length, 1, `${what}: expected one error line on stderr, got:\n${r.stderr}`);
  assert.match(lines[0], /^stride: error: /);
  assert.match(lines[0], pattern, what);
  assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
}

/** Each line of stdout as JSON. */
export const jsonLines = (r: Result): Record<string, unknown>[] =>
  r.stdout
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);

/**
 * An image folder `root/<class>/<i>.png` of 8x8 grey images: class 0 'cat' is bright on the left,
 * class 1 'dog' bright on the right, with a little seeded noise (learnable in a few epochs).
 */
export async function makeFolder(root: string, perClass = 10): Promise<void> {
  let s = 7;
  const noise = (): number => ((s = (s * 1103515245 + 12345) % 2 ** 31) % 40);
  for (const [c, name] of ['cat', 'dog'].entries()) {
    await mkdir(join(root, name), { recursive: true });
    for (let i = 0; i < perClass; i++) {
      const px = Buffer.alloc(64);
      for (let y = 0; y < 8; y++) for (let x = 0; x < 8; x++) px[y * 8 + x] = ((x < 4) === (c === 0) ? 200 : 20) + noise();
      await sharp(px, { raw: { width: 8, height: 8, channels: 1 } }).png().toFile(join(root, name, `${String(i).padStart(2, '0')}.png`));
    }
  }
}

/** `train` on the folder `data` with the tiny preset, quick and deterministic. */
export const TINY = (data: string): string[] => ['train', '--data', data, '--image-size', '8x8', '--model', 'tiny', '--batch-size', '4', '--backend', 'reference'];
