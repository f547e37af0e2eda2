/**
 * The boundary between the TypeScript glue and the AssemblyScript kernels, defined once.
 *
 * A threaded kernel takes its arguments as a block of int32 values in wasm memory (written once by
 * the caller, read by every thread). Each block's fields are listed here, in order; from this list
 * - the glue writes a block with `paramBlock(kind, { field: value, ... })`, which tsc checks for
 *   missing and unknown fields, so the order can never be wrong on this side;
 * - scripts/build-wasm.mjs generates `assembly/abi.ts` (git-ignored) with one constant per field,
 *   `<prefix>_<FIELD>` = its index (e.g. `G_SRCH = 1`), which the kernels read with `prm(p, G_SRCH)`.
 *
 * `THREADED_KERNELS` is the one list of kernels that run as thread-pool jobs (the worker builds its
 * function table from it, the runtime its job ids, and the build checks each is exported).
 * Adding a threaded kernel: its export in assembly/, its entry here (and its block if it is new).
 */

/** Each parameter block: the prefix of its AssemblyScript constants and its fields in order. */
export const PARAM_BLOCKS = {
  /** convGather: the implicit-GEMM forward and dX (assembly/conv2d.ts). */
  gather: {
    prefix: 'G',
    fields: [
      'src', 'srcH', 'srcW', 'C', 'N', 'GH', 'GW', 'mulY', 'mulX', 'T', 'taps', 'B', 'Np',
      'out', 'outH', 'outW', 'oY0', 'oSY', 'oX0', 'oSX', 'bias', 'scratch', 'scratchStride', 'zero', 'tpb',
    ],
  },
  /** convGatherMulti: several gather GEMMs as one job (`list`: n + 1 pairs of parameter block and first unit, the last (0, total)). */
  gatherMulti: { prefix: 'GM', fields: ['n', 'list'] },
  /** convFilterGrad: dW as a reduction over output pixels. */
  filter: {
    prefix: 'F',
    fields: [
      'x', 'Hp', 'Wp', 'C', 'N', 'Ho', 'Wo', 'sH', 'sW', 'T', 'taps',
      'dy', 'Cout', 'Np', 'kc', 'dw', 'dwStride', 'scratch', 'scratchStride', 'kGroups', 'uChunk',
    ],
  },
  /** convFilterGradStream: dW streamed over blocks of output rows, and its finish (assembly/conv2d-filter-grad.ts). */
  filterStream: {
    prefix: 'FS',
    fields: [
      'x', 'H', 'W', 'C', 'Ho', 'Wo', 'sH', 'sW', 'dH', 'dW', 'pT', 'pL', 'kH', 'kW',
      'dy', 'Cout', 'rows', 'nRows', 'slots', 'slotStride', 'bounds', 'scratch', 'scratchStride', 'nSlots', 'dwOut', 'dbOut',
    ],
  },
  /** convFilterGradSmallC: dW for Cin < 4, tiles of taps x 8 output channels (assembly/conv2d-filter-grad-small-c.ts). */
  filterSmallC: {
    prefix: 'FC',
    fields: [
      'x', 'Hp', 'rowBytes', 'colBytes', 'H', 'pT', 'sH', 'dH', 'kH', 'L', 'Ho', 'Wo',
      'dy', 'Cout', 'Np', 'rows', 'nRows', 'slots', 'slotStride', 'uChunk', 'scratch', 'scratchStride',
    ],
  },
  /** convSmallC: the forward for Cin < 4 from a zero-padded copy of x. */
  smallC: {
    prefix: 'S',
    fields: ['x', 'Hp', 'Wp', 'C', 'N', 'Ho', 'Wo', 'sH', 'sW', 'dH', 'dW', 'kH', 'kW', 'B', 'Np', 'out', 'bias', 'scratch', 'scratchStride'],
  },
  /** convDxSmallC: dX for Cin < 4. */
  dxSmallC: {
    prefix: 'D',
    fields: ['dy', 'Ho', 'Wo', 'Cout', 'H', 'W', 'C', 'kH', 'kW', 'sH', 'sW', 'dH', 'dW', 'pT', 'pL', 'wgt', 'dx', 'scratch', 'scratchStride'],
  },
  /** maxPool and avgPool, forward (dy = 0) and backward (assembly/pool2d.ts). */
  pool: {
    prefix: 'P',
    fields: ['x', 'N', 'H', 'W', 'C', 'Ho', 'Wo', 'kH', 'kW', 'sH', 'sW', 'pT', 'pL', 'y', 'dy', 'dx', 'mode'],
  },
  /** depthwiseForward and depthwiseBackward (assembly/depthwise-conv2d.ts); M = channel multiplier. */
  depthwise: {
    prefix: 'W',
    fields: [
      'x', 'N', 'H', 'W', 'C', 'M', 'Ho', 'Wo', 'kH', 'kW', 'sH', 'sW', 'dilH', 'dilW', 'pT', 'pL',
      'wgt', 'bias', 'y', 'dy', 'dx', 'scratch', 'scratchStride',
    ],
  },
  /** winogradConv: Winograd F(m x m, r x r) forward and dX (assembly/winograd.ts). */
  winograd: {
    prefix: 'WG',
    fields: ['src', 'H', 'W', 'C', 'N', 'tilesH', 'tilesW', 'offY', 'offX', 'outH', 'outW', 'outC', 'Np', 'U', 'out', 'bias', 'zero', 'scratch', 'scratchStride', 'm', 'r'],
  },
  /** winogradFilter: the filter transform U = G g G^T, rows k of the GEMMs' B (assembly/winograd.ts). */
  winogradFilter: {
    prefix: 'WF',
    fields: ['w', 'K', 'N', 'Np', 'U', 'm', 'tapStride', 'kStride', 'nStride', 'rotate', 'scratch', 'scratchStride', 'r'],
  },
  /** winogradDw and winogradDwFinish: dW by Winograd F(r x r, t x t) (assembly/winograd-filter-grad.ts). */
  winogradDw: {
    prefix: 'WD',
    fields: [
      'x', 'H', 'W', 'C', 'dy', 'Ho', 'Wo', 'Cout', 'Np', 'pT', 'pL', 'r', 't', 'tilesH', 'tilesW', 'nTiles', 'block',
      'BT', 'G', 'AT', 'slots', 'nSlots', 'slotStride', 'uChunk', 'scratch', 'scratchStride', 'zero', 'dw',
    ],
  },
  /** densePackA and denseGemm: the dense layer's forward and dX GEMMs (assembly/dense.ts). */
  dense: {
    prefix: 'DN',
    fields: ['A', 'M', 'K', 'w', 'transB', 'N', 'Np', 'out', 'bias', 'kc', 'G', 'colGroups', 'rowTiles', 'src', 'scratch', 'scratchStride'],
  },
  /** denseDw: the dense layer's dW = xᵀ · dy (assembly/dense.ts). */
  denseDw: {
    prefix: 'DW',
    fields: ['x', 'M', 'I', 'B', 'Np', 'out', 'mb', 'scratch', 'scratchStride'],
  },
} as const;

export type ParamBlockKind = keyof typeof PARAM_BLOCKS;
/** The values of one block, by field name: every field, and only those. */
export type ParamValues<K extends ParamBlockKind> = { readonly [F in (typeof PARAM_BLOCKS)[K]['fields'][number]]: number };

/**
 * The kernels that run as thread-pool jobs, `fn(p, u0, u1, tid)` over work units [u0, u1), each with
 * the parameter block it reads. The index in this list is the job id.
 */
export const THREADED_KERNELS = [
  { name: 'convGather', block: 'gather' },
  { name: 'convGatherMulti', block: 'gatherMulti' },
  { name: 'convFilterGrad', block: 'filter' },
  { name: 'convSmallC', block: 'smallC' },
  { name: 'convDxSmallC', block: 'dxSmallC' },
  { name: 'maxPool', block: 'pool' },
  { name: 'avgPool', block: 'pool' },
  { name: 'depthwiseForward', block: 'depthwise' },
  { name: 'depthwiseBackward', block: 'depthwise' },
  { name: 'convFilterGradStream', block: 'filterStream' },
  { name: 'convFilterGradStreamFinish', block: 'filterStream' },
  { name: 'winogradConv', block: 'winograd' },
  { name: 'winogradFilter', block: 'winogradFilter' },
  { name: 'winogradDw', block: 'winogradDw' },
  { name: 'winogradDwFinish', block: 'winogradDw' },
  { name: 'densePackA', block: 'dense' },
  { name: 'denseGemm', block: 'dense' },
  { name: 'denseDw', block: 'denseDw' },
  { name: 'convFilterGradSmallC', block: 'filterSmallC' },
] as const satisfies readonly { name: string; block: ParamBlockKind }[];

export type ThreadedKernel = (typeof THREADED_KERNELS)[number]['name'];
/** Job ids by kernel name. */
export const JOB = Object.fromEntries(THREADED_KERNELS.map((k, i) => [k.name, i])) as { readonly [K in ThreadedKernel]: number };
/** Kernel names by job id (the worker's function table). */
export const JOB_FUNCTIONS: readonly ThreadedKernel[] = THREADED_KERNELS.map((k) => k.name);

const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;

/**
 * One parameter block's values in field order, each checked to be an int32 (a pointer, a size or
 * a count): a value that does not fit would be silently wrapped by the typed array.
 */
export function paramBlock<K extends ParamBlockKind>(kind: K, values: ParamValues<K>): number[] {
  const fields = PARAM_BLOCKS[kind].fields as readonly string[];
  const v = values as unknown as Record<string, number>;
  const out = new Array<number>(fields.length);
  for (let i = 0; i < fields.length; i++) {
    const x = v[fields[i]];
    if (!Number.isInteger(x) || x < INT32_MIN || x > INT32_MAX) {
      throw new Error(`wasm kernels: parameter '${fields[i]}' of the ${kind} block must be an int32, got ${String(x)}`);
    }
    out[i] = x;
  }
  return out;
}

/** The AssemblyScript source of assembly/abi.ts (generated by scripts/build-wasm.mjs from the lists above). */
export function assemblyAbiSource(): string {
  let s = '// GENERATED by scripts/build-wasm.mjs from src/kernels/wasm/abi.ts. Do not edit; git-ignored.\n';
  s += '// Indices of each parameter block (i32 words), read with prm(p, index).\n';
  for (const [kind, b] of Object.entries(PARAM_BLOCKS)) {
    s += `\n// ${kind}\n`;
    b.fields.forEach((f, i) => {
      s += `export const ${b.prefix}_${f.toUpperCase()}: i32 = ${i};\n`;
    });
  }
  s += '\n/** Word i of the parameter block at p. */\n';
  s += '@inline export function prm(p: usize, i: i32): i32 {\n  return load<i32>(p + (<usize>i << 2));\n}\n';
  return s;
}
