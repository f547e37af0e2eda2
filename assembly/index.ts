// Entry point of the Stride WebAssembly kernels (see docs/wasm.md). Every export takes pointers
// into the imported memory and sizes; nothing here allocates.
export { tile4x8, packB } from './gemm';
export { convGather, convFilterGrad, convSmallC, convDxSmallC, biasGrad, addInto } from './conv2d';
export { maxPool, avgPool } from './pool2d';
export { depthwiseForward, depthwiseBackward } from './depthwise-conv2d';
export { relu, reluBackward, leakyRelu, leakyReluBackward, sigmoid, sigmoidBackward, tanh, tanhBackward } from './activations';
export { convFilterGradStream, filterGradFinish } from './conv2d-filter-grad';
