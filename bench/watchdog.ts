/**
 * A watchdog for code that may block the main thread forever (a deadlocked Atomics.wait loop, as
 * seen with Stride's wasm thread pool): a worker thread watches a heartbeat in shared memory and,
 * if it stops for `timeoutMs`, writes a message straight to the file descriptors (the main thread
 * cannot relay worker output while it is blocked) and kills the process.
 *
 * ```ts
 * const dog = startWatchdog({ timeoutMs: 300_000, stderr: 'bench: no progress for 300 s in {label}\n' });
 * dog.beat('W1 c3 forward tfjs-cpu'); ... dog.stop();
 * ```
 */
import { Worker } from 'node:worker_threads';

export interface WatchdogOptions {
  timeoutMs: number;
  /** Written to stderr on a hang; `{label}` is replaced by the last beat's label, `{seconds}` by the timeout in force. */
  stderr: string;
  /** Also written to stdout on a hang (e.g. a result line for a parent process), same placeholders. */
  stdout?: string;
}

export interface Watchdog {
  /**
   * Progress: resets the timer, records what runs now, and ends a pause. `timeoutMs` applies until
   * the next beat (default: the watchdog's own).
   */
  beat(label: string, timeoutMs?: number): void;
  /** Stops watching until the next beat (while waiting for a child process with its own timeout). */
  pause(): void;
  /** Changes the time without a beat that counts as a hang (and the {seconds} of the messages). */
  setTimeoutMs(ms: number): void;
  stop(): void;
}

const LABEL_CHARS = 200;

// Runs in the worker (eval'd source: no imports from this module).
const WORKER_SOURCE = `
const { workerData } = require('node:worker_threads');
const fs = require('node:fs');
const { sab, stderr, stdout, labelChars } = workerData;
const ints = new Int32Array(sab, 0, 3);
const chars = new Uint16Array(sab, 12, labelChars);
let seen = Atomics.load(ints, 0);
let since = Date.now();
const timer = setInterval(() => {
  const state = Atomics.load(ints, 1);
  if (state === 1) { clearInterval(timer); return; }
  if (state === 2) { since = Date.now(); return; }
  const now = Atomics.load(ints, 0);
  if (now !== seen) { seen = now; since = Date.now(); return; }
  const timeoutMs = Atomics.load(ints, 2);
  if (Date.now() - since < timeoutMs) return;
  let label = '';
  for (let i = 0; i < labelChars && chars[i] !== 0; i++) label += String.fromCharCode(chars[i]);
  const fill = (s) => s.split('{label}').join(label).split('{seconds}').join(String(Math.round(timeoutMs / 1000)));
  try { if (stdout) fs.writeSync(1, fill(stdout)); fs.writeSync(2, fill(stderr)); } catch {}
  process.kill(process.pid, 'SIGKILL');
}, 250);
`;

export function startWatchdog(o: WatchdogOptions): Watchdog {
  const sab = new SharedArrayBuffer(12 + 2 * LABEL_CHARS);
  const ints = new Int32Array(sab, 0, 3);
  const chars = new Uint16Array(sab, 12, LABEL_CHARS);
  const setTimeoutMs = (ms: number): void => void Atomics.store(ints, 2, Math.max(1, Math.min(2 ** 31 - 1, Math.round(ms))));
  setTimeoutMs(o.timeoutMs);
  const w = new Worker(WORKER_SOURCE, {
    eval: true,
    workerData: { sab, stderr: o.stderr, stdout: o.stdout ?? '', labelChars: LABEL_CHARS },
    execArgv: [],
  });
  w.unref();
  return {
    beat(label: string, timeoutMs: number = o.timeoutMs): void {
      setTimeoutMs(timeoutMs);
      const n = Math.min(label.length, LABEL_CHARS);
      for (let i = 0; i < n; i++) chars[i] = label.charCodeAt(i);
      if (n < LABEL_CHARS) chars[n] = 0;
      Atomics.add(ints, 0, 1);
      Atomics.store(ints, 1, 0);
    },
    pause(): void {
      Atomics.store(ints, 1, 2);
    },
    setTimeoutMs,
    stop(): void {
      Atomics.store(ints, 1, 1);
      void w.terminate();
    },
  };
}
