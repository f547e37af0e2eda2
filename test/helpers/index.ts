/** Shared test helpers: `import { assertClose, randomConvConfig, rng } from '../helpers/index.js'`. */
export * from './assert-close.js';
export * from './configs.js';
export * from './tensors.js';
export * from './grad-check.js';
