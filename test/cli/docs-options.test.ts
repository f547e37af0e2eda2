/**
 * docs/cli.md's table of `train` options agrees with the option definitions: every option has a row,
 * every row is an option, and the default column says what `train --help` says. `--help`'s defaults
 * of the optimizer options are the ones `train` really uses (issue 9, item 14).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Help, type Command, type Option } from 'commander';
import { buildProgram } from '../../src/cli/program.js';
import { trainOptimizerOptions } from '../../src/cli/commands/train.js';
import { createOptimizer, optimizerNames } from '../../src/optim/registry.js';
import { ROOT } from './run-stride.js';

const trainCommand = (): Command => buildProgram().commands.find((c) => c.name() === 'train')!;

/** The default as `--help` shows it: commander's "default: X" or the description's own "(default: X)"; '' for none. */
function helpDefault(o: Option): string {
  const text = new Help().optionDescription(o);
  const at = text.lastIndexOf('default: ');
  if (at < 0) return '';
  return text
    .slice(at + 'default: '.length)
    .replace(/\).*$/, '')
    .replace(/^"(.*)"$/, '$1');
}

/** The rows of the table under "## train" in docs/cli.md: [option, default, meaning], backticks removed. */
function docRows(): string[][] {
  const md = readFileSync(join(ROOT, 'docs', 'cli.md'), 'utf8');
  const section = md.slice(md.indexOf('\n## train\n'), md.indexOf('\n### ', md.indexOf('\n## train\n')));
  const lines = section.split('\n');
  const start = lines.findIndex((l) => /^\| option \| default \| meaning \|$/.test(l));
  assert.ok(start >= 0, 'docs/cli.md has the train options table');
  const rows: string[][] = [];
  for (const l of lines.slice(start + 2)) {
    if (!l.startsWith('|')) break;
    rows.push(l.slice(1, -1).split(/(?<!\\)\|/).map((c) => c.trim().replace(/`/g, '').replace(/\\\|/g, '|')));
  }
  return rows;
}

test('docs/cli.md lists every train option, with the default that --help shows', () => {
  const options = trainCommand().options.filter((o) => o.flags !== '-h, --help');
  const rows = docRows();
  const byFlags = new Map(rows.map((r) => [r[0], r]));
  for (const o of options) {
    const row = byFlags.get(o.flags);
    assert.ok(row, `docs/cli.md has a row for ${o.flags}`);
    assert.equal(row[1], helpDefault(o), `the documented default of ${o.flags}`);
  }
  const known = new Set(options.map((o) => o.flags));
  assert.deepEqual(rows.map((r) => r[0]).filter((f) => !known.has(f)), [], 'every documented option exists');
});

test('train --help states the learning rate, momentum and weight decay train really uses', () => {
  const options = trainCommand().options;
  const used = (name: (typeof optimizerNames)[number]) => createOptimizer(name, trainOptimizerOptions(name)).toSpec().hyper;
  for (const [flag, key] of [['--lr', 'lr'], ['--weight-decay', 'weightDecay']] as const) {
    const text = helpDefault(options.find((o) => o.long === flag)!);
    for (const name of optimizerNames) {
      assert.match(text, new RegExp(`(^|, )${String(used(name)[key]).replace('.', '\\.')} for [\\w ]*\\b${name}\\b`), `${flag}: ${name}'s default in "${text}"`);
    }
  }
  const momentum = helpDefault(options.find((o) => o.long === '--momentum')!);
  assert.match(momentum, new RegExp(`^${used('sgd').momentum} for sgd, ${used('rmsprop').momentum} for rmsprop$`));
});
