// Entry point of the Stride WebAssembly kernels (see docs/wasm.md). Every export takes pointers
// into the imported memory and sizes; nothing here allocates.
// tile6x8 is exported so that Binaryen keeps it a function of its own: inlined into its one caller
// (gatherBlock), V8 ran out of vector registers and the GEMM ran at half speed.
export { tile4x8, tile6x8, packB } from './gemm';
export { convGather, convGatherMulti, convFilterGrad, convSmallC, convDxSmallC, biasGrad, addInto } from './conv2d';
export { maxPool, avgPool } from './pool2d';
export { depthwiseForward, depthwiseBackward } from './depthwise-conv2d';
export { relu, reluBackward, leakyRelu, leakyReluBackward, sigmoid, sigmoidBackward, tanh, tanhBackward } from './activations';
export { globalAvgPool, globalAvgPoolBackward } from './global-avg-pool2d';
export { bnStats, bnApply, bnBackwardSums, bnBackwardDx } from './batch-norm';
export { convFilterGradStream, convFilterGradStreamFinish } from './conv2d-filter-grad';
export { convFilterGradSmallC, spreadColumns } from './conv2d-filter-grad-small-c';
export { winogradConv, winogradFilter, allFinite } from './winograd';
export { winogradDw, winogradDwFinish } from './winograd-filter-grad';
export { densePackA, denseGemm, denseDw } from './dense';
