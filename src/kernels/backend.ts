/**
 * Which kernels the public ops run. The reference backend is always there; faster backends
 * register themselves and become the default once they are ready. Users can pick one by name, for
 * teaching and debugging (`setBackend('reference')`).
 */
import type { Kernels } from './api.js';
import { reference } from './reference/index.js';

const registry = new Map<string, Kernels>([['reference', reference]]);
let current: Kernels = reference;

/** Makes a backend available by its name (replacing one of the same name). */
export function registerBackend(kernels: Kernels): void {
  registry.set(kernels.name, kernels);
}

/** Selects the backend the ops run on. */
export function setBackend(name: string): void {
  const k = registry.get(name);
  if (k === undefined) {
    throw new Error(`setBackend: unknown backend '${name}'; available: ${[...registry.keys()].map((n) => `'${n}'`).join(', ')}`);
  }
  current = k;
}

/** The kernels the ops currently run. */
export function getKernels(): Kernels {
  return current;
}

/** The name of the current backend. */
export function getBackend(): string {
  return current.name;
}

/** Names of every registered backend. */
export function listBackends(): string[] {
  return [...registry.keys()];
}
