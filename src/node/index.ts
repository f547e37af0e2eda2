/** Stride's Node-only API (file system, sharp, the `mnist` package). The CLI imports from here. */
export {
  loadMnist,
  loadMnistWithInfo,
  loadMnistSplits,
  mnistSplitPositions,
  mnistCacheDir,
  verifyMnistCache,
  MNIST_TRAIN_FRACTION,
  MNIST_CLASS_NAMES,
  MNIST_CACHE_FILE,
  type MnistOptions,
  type MnistSplit,
  type MnistLoadInfo,
  loadStandardMnist,
  loadStandardMnistWithInfo,
  standardMnistFiles,
  STANDARD_MNIST_COUNTS,
  type StandardMnistOptions,
  type StandardMnist,
} from './mnist.js';
export {
  loadImageFolder,
  listImageFolder,
  loadImage,
  decodeImage,
  IMAGE_EXTENSIONS,
  type ImageFolderOptions,
  type ImageFolderResult,
  type ImageDecodeOptions,
  type ResizeFit,
} from './image-folder.js';
export { writePng, encodePng, type PngOptions } from './png.js';
export { writeFileAtomic } from './atomic.js';
export { readRegularFile, readRegularFileSync, FileReadError, MAX_READ_BYTES, type ReadRegularFileOptions } from './read-file.js';
export { saveModel, loadModel, loadModelWithMetadata } from './model-file.js';
export {
  saveCheckpoint,
  loadCheckpoint,
  hasCheckpoint,
  CHECKPOINT_INDEX,
  type SaveCheckpointOptions,
  type SavedCheckpoint,
  type LoadCheckpointOptions,
  type CheckpointIndex,
} from './checkpoint.js';
