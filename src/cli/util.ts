/**
 * Small helpers shared by the CLI commands: user-facing errors, option parsers, number and table
 * formatting, and the output streams (so JSON mode can keep stdout machine-readable).
 */
import { InvalidArgumentError } from 'commander';

/**
 * An error the user can fix (bad argument, missing file). The top-level handler prints its message
 * as one line, never a stack trace. `exitCode` 2 for usage errors, 1 for everything else.
 */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

/** A usage error: a bad or missing option or argument (exit code 2). */
export const usageError = (message: string): CliError => new CliError(message, 2);

/**
 * Terminal control characters (C0 but newline, DEL, C1) and the bidirectional overrides of Unicode,
 * which file and class names can carry and a terminal would obey (colours, cursor moves, a title,
 * text shown reversed). `printable` shows them as `\xHH` / `\uHHHH` instead.
 */
// eslint-disable-next-line no-control-regex
const CONTROL = /[\x00-\x09\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

/** `text` with terminal control characters made visible (newlines kept); for everything printed from user data. */
export function printable(text: string): string {
  return text.replace(CONTROL, (c) => {
    const code = c.charCodeAt(0);
    return code < 0x100 ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}

/** Collapses a (possibly multi-line) message into one printable line. */
export function oneLine(message: string): string {
  return printable(message.replace(/\s*\n\s*/g, ' ').trim());
}

/**
 * A library error's message for a person: without the leading op names (`loadModel: `,
 * `loadImageFolder: `) the library puts there for programmers, and without a leading `subject: `
 * when the CLI names the subject itself.
 */
export function personMessage(message: string, subject?: string): string {
  let m = message.replace(/^(?:[A-Za-z_$][\w$]*(?:\.[\w$]+)*: )+/, '');
  if (subject !== undefined && m.startsWith(`${subject}: `)) m = m.slice(subject.length + 2);
  return m;
}

/**
 * What is wrong with `path`, in words, from the error `stat`/`open` gave for it (or undefined
 * for an error that is not about the path itself).
 */
export function pathProblem(e: unknown): string | undefined {
  switch ((e as NodeJS.ErrnoException | null)?.code) {
    case 'ENOENT':
      return 'does not exist';
    case 'ELOOP':
      return 'is a loop of symbolic links (too many levels of links)';
    case 'ENOTDIR':
      return 'does not exist (a part of the path is a file, not a folder)';
    case 'EACCES':
    case 'EPERM':
      return 'cannot be read (permission denied)';
    case 'ENAMETOOLONG':
      return 'has a name that is too long';
    default:
      return undefined;
  }
}

// ---- option parsers (commander calls them with the raw string) ----

export function parsePositiveInt(value: string): number {
  const n = Number(value);
  if (!/^\s*\d+\s*$/.test(value) || !Number.isSafeInteger(n) || n < 1) throw new InvalidArgumentError('expected a positive integer.');
  return n;
}

export function parseNonNegativeInt(value: string): number {
  const n = Number(value);
  if (!/^\s*\d+\s*$/.test(value) || !Number.isSafeInteger(n)) throw new InvalidArgumentError('expected a non-negative integer.');
  return n;
}

export function parseNonNegativeNumber(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n < 0) throw new InvalidArgumentError('expected a number >= 0.');
  return n;
}

export function parsePositiveNumber(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('expected a number > 0.');
  return n;
}

/** A fraction in [0, 1). */
export function parseFraction(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !(n >= 0 && n < 1)) throw new InvalidArgumentError('expected a number in [0, 1).');
  return n;
}

/** An integer seed (any sign, safe range). */
export function parseSeed(value: string): number {
  const n = Number(value);
  if (!/^\s*-?\d+\s*$/.test(value) || !Number.isSafeInteger(n)) throw new InvalidArgumentError('expected an integer.');
  return n;
}

/** Parses one of `choices` (case-insensitive). */
export function choice<T extends string>(choices: readonly T[]): (value: string) => T {
  return (value: string): T => {
    const v = value.toLowerCase() as T;
    if (!choices.includes(v)) throw new InvalidArgumentError(`expected one of ${choices.join(', ')}.`);
    return v;
  };
}

/** "28x28" or "28" → [28, 28]. */
export function parseSize(value: string): [number, number] {
  const m = /^\s*(\d+)\s*(?:[x,]\s*(\d+))?\s*$/i.exec(value);
  const h = m ? Number(m[1]) : NaN;
  const w = m ? Number(m[2] ?? m[1]) : NaN;
  if (!(h >= 1 && w >= 1)) throw new InvalidArgumentError('expected HEIGHTxWIDTH (e.g. 28x28) or one number for a square.');
  return [h, w];
}

// ---- formatting ----

export const pct = (v: number, digits = 2): string => (Number.isFinite(v) ? `${(100 * v).toFixed(digits)}%` : 'n/a');

export const num = (v: number, digits = 4): string => (Number.isFinite(v) ? v.toFixed(digits) : String(v));

/** Seconds as "12.3s", "4:05" or "1:02:03". */
export function duration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '--:--';
  if (seconds < 60) return `${seconds.toFixed(1)}s`;
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}

/** A text table; columns listed in `right` are right-aligned. */
export function table(rows: string[][], right: (c: number) => boolean = (c) => c > 0): string {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  return rows.map((r) => r.map((cell, c) => (right(c) ? cell.padStart(widths[c]) : cell.padEnd(widths[c]))).join('  ').trimEnd()).join('\n');
}

/** The confusion matrix as a table: rows are true classes, columns predictions. */
export function confusionTable(confusion: ArrayLike<number>, classNames: readonly string[]): string {
  const k = classNames.length;
  const rows: string[][] = [['true \\ pred', ...classNames]];
  for (let t = 0; t < k; t++) {
    const row = [classNames[t]];
    for (let p = 0; p < k; p++) row.push(String(confusion[t * k + p]));
    rows.push(row);
  }
  return table(rows);
}

/** A row-major k x k matrix as k arrays (for JSON). */
export function rows(m: ArrayLike<number>, k: number): number[][] {
  return Array.from({ length: k }, (_, r) => Array.from({ length: k }, (_, c) => m[r * k + c]));
}

// ---- output ----

/** Where a command writes: human text (suppressed in JSON mode) and JSON lines. */
export interface Output {
  json: boolean;
  /** A line of human-readable output (stdout); nothing in JSON mode. */
  info(text: string): void;
  /** One JSON object as one line (stdout); only in JSON mode. */
  event(obj: Record<string, unknown>): void;
  /** A warning on stderr (both modes). */
  warn(text: string): void;
}

export function makeOutput(json: boolean): Output {
  return {
    json,
    info: (text) => {
      if (!json) process.stdout.write(printable(text) + '\n');
    },
    event: (obj) => {
      if (json) process.stdout.write(JSON.stringify(obj, jsonNumbers) + '\n');
    },
    warn: (text) => process.stderr.write(`warning: ${oneLine(text)}\n`),
  };
}

/** JSON.stringify replacer: non-finite numbers become null (as JSON.stringify does), typed arrays become arrays. */
function jsonNumbers(_key: string, value: unknown): unknown {
  if (ArrayBuffer.isView(value) && !(value instanceof DataView)) return Array.from(value as unknown as ArrayLike<number>);
  return value;
}
