/**
 * A description of the machine and runtime a benchmark ran on, for bench/RESULTS.md.
 */
import { readFileSync } from 'node:fs';
import os from 'node:os';

export interface MachineInfo {
  /** "model name" of /proc/cpuinfo (else os.cpus()[0].model). */
  cpuModel: string;
  /** Logical CPUs this process may use (os.availableParallelism). */
  cores: number;
  /** "flags" of interest from /proc/cpuinfo: avx2, fma, avx512f. */
  cpuFlags: string[];
  node: string;
  v8: string;
  platform: string;
  totalMemGiB: number;
  /** Load average (1, 5, 15 min) when the run started: the machine is shared. */
  loadAvg: number[];
  /** ISO date and time of the run. */
  date: string;
  /** Whether this engine validates a module using f32x4.relaxed_madd (Node 20 needs --experimental-wasm-relaxed-simd). */
  relaxedSimd: boolean;
  /** Whether this engine validates a SIMD128 module. */
  simd: boolean;
  /** Node options the process runs with (e.g. --experimental-wasm-relaxed-simd). */
  execArgv: string[];
}

// (module (func v128.const 0 ... drop)): SIMD128.
const V128_CONST = [0xfd, 0x0c, ...new Array<number>(16).fill(0)];
// (module (func v128.const ×3, f32x4.relaxed_madd (0xfd 0x105), drop)): relaxed SIMD.
const SIMD_BODY = [0x00, ...V128_CONST, 0x1a, 0x0b];
const RELAXED_BODY = [0x00, ...V128_CONST, ...V128_CONST, ...V128_CONST, 0xfd, 0x85, 0x02, 0x1a, 0x0b];

/** A one-function wasm module (type [] -> []) whose body is `body` (locals byte first). */
function tinyModule(body: number[]): Uint8Array<ArrayBuffer> {
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // magic, version
    0x01, 0x04, 0x01, 0x60, 0x00, 0x00, // type section: one func type [] -> []
    0x03, 0x02, 0x01, 0x00, // function section
    0x0a, body.length + 2, 0x01, body.length, ...body, // code section
  ]);
}

function validates(body: number[]): boolean {
  try {
    return WebAssembly.validate(tinyModule(body));
  } catch {
    return false;
  }
}

export function wasmFeatures(): { simd: boolean; relaxedSimd: boolean } {
  const simd = validates(SIMD_BODY);
  return { simd, relaxedSimd: simd && validates(RELAXED_BODY) };
}

function cpuinfo(): { model: string | null; flags: string[] } {
  try {
    const text = readFileSync('/proc/cpuinfo', 'utf8');
    const model = /^model name\s*:\s*(.+)$/m.exec(text)?.[1]?.trim() ?? null;
    const flags = (/^flags\s*:\s*(.+)$/m.exec(text)?.[1] ?? '').split(/\s+/);
    return { model, flags: ['avx2', 'fma', 'avx512f'].filter((f) => flags.includes(f)) };
  } catch {
    return { model: null, flags: [] };
  }
}

export function describeMachine(now: Date = new Date()): MachineInfo {
  const ci = cpuinfo();
  const f = wasmFeatures();
  return {
    cpuModel: ci.model ?? os.cpus()[0]?.model ?? 'unknown',
    cores: typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length,
    cpuFlags: ci.flags,
    node: process.version,
    v8: process.versions.v8,
    platform: `${os.type()} ${os.release()} ${os.arch()}`,
    totalMemGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    loadAvg: os.loadavg().map((v) => Math.round(v * 100) / 100),
    date: now.toISOString(),
    relaxedSimd: f.relaxedSimd,
    simd: f.simd,
    execArgv: [...process.execArgv],
  };
}
