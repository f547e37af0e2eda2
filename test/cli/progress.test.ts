/**
 * The progress bar fits the terminal: a line redrawn with '\r' that is wider than the terminal wraps
 * and every redraw then leaves a line behind (issue 9, item 15).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Progress } from '../../src/cli/progress.js';
import { makeOutput } from '../../src/cli/util.js';
import type { BatchInfo } from '../../src/model/fit.js';

/** A batch of a long MNIST-sized epoch: wide numbers everywhere. */
const batch = (seen: number, total = 60000): BatchInfo => ({
  epoch: 12, epochs: 12, batch: seen / 32 - 1, batches: total / 32, size: 32, loss: 0.1234, accuracy: 0.97,
  epochLoss: 0.123456, epochAccuracy: 0.9712, seen, total, lr: 0.05, elapsed: seen / 1234,
});

/** Everything `fn` writes to stdout. */
function capture(fn: () => void): string {
  const write = process.stdout.write;
  let text = '';
  process.stdout.write = ((chunk: string | Uint8Array) => {
    text += String(chunk);
    return true;
  }) as typeof process.stdout.write;
  try {
    fn();
  } finally {
    process.stdout.write = write;
  }
  return text;
}

/** The lines drawn on a terminal: the text after each '\r', without the erase-line code. */
const ERASE = String.fromCharCode(27) + '[K';
const drawn = (text: string) => text.split('\r').map((s) => s.replaceAll(ERASE, '').replace(/\n$/, '')).filter((s) => s !== '');

test('the redrawn bar fits the terminal width, keeping what matters most when narrow', () => {
  for (const columns of [200, 120, 80, 60, 40, 20]) {
    const text = capture(() => {
      const p = new Progress(makeOutput(false), { tty: true, columns, redrawMs: 0 });
      for (const seen of [32, 29984, 59968]) p.batch(batch(seen));
    });
    const lines = drawn(text);
    assert.equal(lines.length, 3, `${columns} columns: three redraws`);
    for (const l of lines) {
      assert.ok(l.length <= columns - 1, `${columns} columns: "${l}" is ${l.length} characters`);
      assert.match(l, /^epoch 12\/12/);
    }
    if (columns >= 100) assert.match(lines[1], /\[={11}> {12}\] 29984\/60000 {2}loss 0\.1235 {2}acc 97\.12% {2}\d+ img\/s {2}ETA /, `${columns}: everything, the bar 24 wide`);
    if (columns >= 80) assert.match(lines[1], /\[=+>? *\] 29984\/60000 {2}loss 0\.1235 {2}acc 97\.12% {2}.*ETA /, `${columns}: all but the rate at 80 columns`);
    if (columns >= 60) assert.match(lines[1], /\[={5,}>? *\].*loss 0\.1235.*ETA /, `${columns}: the bar, the loss and the ETA`);
  }
});

test('the bar follows process.stdout.columns on a terminal, and 80 columns elsewhere', () => {
  const had = Object.getOwnPropertyDescriptor(process.stdout, 'columns');
  try {
    Object.defineProperty(process.stdout, 'columns', { value: 50, configurable: true });
    const narrow = drawn(capture(() => new Progress(makeOutput(false), { tty: true, redrawMs: 0 }).batch(batch(29984))));
    assert.ok(narrow[0].length <= 49, `"${narrow[0]}"`);
    Object.defineProperty(process.stdout, 'columns', { value: undefined, configurable: true });
    const plain = capture(() => {
      const p = new Progress(makeOutput(false), { tty: false });
      for (let seen = 32; seen < 60000; seen += 32 * 50) p.batch(batch(seen));
    });
    const lines = plain.split('\n').filter((l) => l !== '');
    assert.ok(lines.length >= 5);
    for (const l of lines) assert.ok(l.length <= 79, `"${l}" is ${l.length} characters`);
  } finally {
    if (had) Object.defineProperty(process.stdout, 'columns', had);
    else delete (process.stdout as { columns?: number }).columns;
  }
});
