/**
 * The `stride` command line: commander definitions of every command and the top-level error
 * handler. Each command's code is imported only when that command runs, so `stride --help` is fast.
 *
 * Errors: a bad argument or a bad file prints ONE line on stderr (`stride: error: ...`) and exits
 * non-zero (2 for usage errors, 1 otherwise), never a stack trace; `STRIDE_DEBUG=1` adds the stack.
 */
import { readFileSync } from 'node:fs';
import { Command, CommanderError, Option } from 'commander';
import { presetNames } from '../model/presets.js';
import { createOptimizer, optimizerNames, type OptimizerName } from '../optim/registry.js';
import { scheduleKinds } from '../optim/schedule.js';
import { BACKENDS } from './backend.js';
import { TRAIN_DEFAULTS, trainOptimizerOptions } from './commands/train.js';
import {
  CliError,
  choice,
  oneLine,
  parseFraction,
  parseNonNegativeInt,
  parseNonNegativeNumber,
  parsePositiveInt,
  parsePositiveNumber,
  parseSeed,
  parseSize,
  personMessage,
} from './util.js';

function version(): string {
  try {
    return (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

const channelsOption = () => new Option('--channels <n>', 'image channels for a preset: 1 (grey) or 3 (RGB) (default: 1)').argParser((v) => Number(choice(['1', '3'])(v)) as 1 | 3);
const backendOptions = (cmd: Command): Command =>
  cmd
    .addOption(new Option('--backend <name>', `kernels: ${BACKENDS.join(' or ')} (default: wasm when available)`).argParser(choice(BACKENDS)))
    .option('--threads <n>', 'threads of the wasm kernels (default: one per core, at most 8)', parsePositiveInt);

/**
 * "0.05 for sgd, 0.001 for adam and adamw, ...": the default of an optimizer hyperparameter for each
 * optimizer that has it, computed from what `train` builds (so the help cannot go stale).
 */
function perOptimizer(key: string, only?: OptimizerName[]): string {
  const groups = new Map<string, OptimizerName[]>();
  for (const name of only ?? optimizerNames) {
    const v = String(createOptimizer(name, trainOptimizerOptions(name)).toSpec().hyper[key]);
    groups.set(v, [...(groups.get(v) ?? []), name]);
  }
  return [...groups].map(([v, names]) => `${v} for ${names.join(' and ')}`).join(', ');
}

/** Builds the program. `run` parses and executes it. */
export function buildProgram(): Command {
  const program = new Command('stride')
    .description('Convolutional neural networks in TypeScript: train, evaluate, predict, inspect and export models.')
    .version(version(), '-V, --version')
    .showSuggestionAfterError(true)
    .exitOverride()
    .configureOutput({ outputError: (str, write) => write(`stride: ${oneLine(str)}\n`) });

  const train = program
    .command('train')
    .description('train a model (default: LeNet on the standard MNIST), then report test accuracy and save it')
    .option('-m, --model <name|file>', `a preset (${presetNames().join(', ')}) or a model file to continue training`, TRAIN_DEFAULTS.model)
    .option('-d, --data <mnist|dir>', "'mnist' (the standard 60,000 + 10,000 images), 'mnist-10k' (the mnist package's 10,000 digits, split 80/20), an image folder root/<class>/<image> or a dataset file from pack-data", TRAIN_DEFAULTS.data)
    .option('--test-data <dir>', 'a separate test image folder (default: for a folder, the last 20% of each class)')
    .option('--image-size <HxW>', 'input size of a preset model for an image folder (default: 28x28)', parseSize)
    .addOption(channelsOption())
    .option('-e, --epochs <n>', 'train until this many epochs are done', parsePositiveInt, TRAIN_DEFAULTS.epochs)
    .option('-b, --batch-size <n>', 'mini-batch size', parsePositiveInt, TRAIN_DEFAULTS.batchSize)
    .addOption(new Option('--optimizer <name>', 'optimizer').choices(optimizerNames).default(TRAIN_DEFAULTS.optimizer))
    .option('--lr <rate>', `learning rate (default: ${perOptimizer('lr')})`, parseNonNegativeNumber)
    .option('--momentum <m>', `momentum, sgd and rmsprop only (default: ${perOptimizer('momentum', ['sgd', 'rmsprop'])})`, parseFraction)
    .option('--weight-decay <wd>', `weight decay, L2 (decoupled for adamw); biases are not decayed (default: ${perOptimizer('weightDecay')})`, parseNonNegativeNumber)
    .addOption(new Option('--schedule <kind>', 'learning-rate schedule over epochs').choices(scheduleKinds).default(TRAIN_DEFAULTS.schedule))
    .option('--warmup <epochs>', 'linear warmup epochs before the schedule, fewer than --epochs (default: 0)', parseNonNegativeInt)
    .option('--step-size <epochs>', 'step schedule: epochs between decays (default: epochs/3)', parsePositiveInt)
    .option('--gamma <factor>', 'step/exponential schedule: decay factor (default: 0.1 for step, 0.9 for exponential)', parseNonNegativeNumber)
    .option('--min-lr <rate>', 'cosine schedule: final learning rate (default: 0)', parseNonNegativeNumber)
    .option('--seed <n>', 'seed of initialisation, shuffling, augmentation and the validation split', parseSeed, TRAIN_DEFAULTS.seed)
    .option('--val-split <fraction>', 'hold out this fraction of the training images for validation (default: 0)', parseFraction)
    .option('--early-stopping <patience>', 'stop after this many epochs without improvement (val loss, or train loss without --val-split) (default: off)', parsePositiveInt)
    .option('--augment [pixels]', 'random shifts of up to ±pixels', parseNonNegativeInt, TRAIN_DEFAULTS.augment)
    .option('--no-augment', 'no shifts')
    .option('--rotate <degrees>', 'random rotations of up to ±degrees (default: 0, off)', parseNonNegativeNumber)
    .option('--scale <fraction>', 'random zoom of up to ±fraction, e.g. 0.1 for 90%-110% (default: 0, off)', parseFraction)
    .option('--limit <n>', 'use only the first n training images (class-balanced), for quick runs (default: all)', parsePositiveInt)
    .option('--test-limit <n>', 'use only the first n test images (class-balanced) (default: all)', parsePositiveInt)
    .option('--skip-bad', 'leave unreadable images of an image folder out, naming them, instead of stopping')
    .option('--checkpoint <dir>', 'save a checkpoint into dir after every epoch')
    .option('--resume', 'continue the run saved in --checkpoint dir')
    .option('-o, --out <file>', 'where to save the model (default: models/<model>-<data>.safetensors, or the next free models/<model>-<data>-N.safetensors)')
    .option('--force', 'replace an existing --out file; start a new run in a --checkpoint folder that holds one')
    .option('--no-save', 'do not save the model')
    .option('--plot <file>', 'write training curves (.svg or .png)')
    .option('--json', 'machine-readable progress: one JSON object per line on stdout');
  backendOptions(train).action(async (opts, cmd: Command) => (await import('./commands/train.js')).trainCommand(opts, cmd));

  const evalCmd = program
    .command('eval')
    .description('evaluate a model file: accuracy, per-class precision/recall/F1 and the confusion matrix')
    .argument('<model>', 'model file (.safetensors)')
    .option('-d, --data <mnist|dir>', "'mnist', 'mnist-10k', an image folder or a pack-data file (default: the data the model was trained on)")
    .addOption(
      new Option('--split <name>', "test, train or all: MNIST's split, or for a folder its last 20% of each class (test), the rest (train) or every image (default: the model's recorded test set; all of a folder it never saw)").choices(['test', 'train', 'all']),
    )
    .option('--limit <n>', 'evaluate only the first n images (class-balanced)', parsePositiveInt)
    .option('-b, --batch-size <n>', 'inference batch size', parsePositiveInt, 256)
    .option('--json', 'print the results as one JSON object');
  backendOptions(evalCmd).action(async (model: string, opts) => (await import('./commands/eval.js')).evalCommand(model, opts));

  const predict = program
    .command('predict')
    .description('classify image files: the top-k classes with their probabilities')
    .argument('<model>', 'model file (.safetensors)')
    .argument('<images...>', 'image files (.png, .jpg, .webp, ...)')
    .option('-k, --top-k <k>', 'how many classes to show per image', parsePositiveInt, 3)
    .addOption(new Option('--fit <mode>', 'how to resize to the model input (default: as in training, else fill)').choices(['fill', 'contain', 'cover']))
    .option('--invert', 'invert the image first (dark digits on white paper → MNIST style)')
    .option('--json', 'one JSON object per image, one per line');
  backendOptions(predict).action(async (model: string, images: string[], opts) => (await import('./commands/predict.js')).predictCommand(model, images, opts));

  program
    .command('summary')
    .description('layers, output shapes, parameters and FLOPs of a preset or a model file')
    .argument('[model]', `a preset (${presetNames().join(', ')}) or a model file`, 'lenet')
    .option('--image-size <HxW>', 'input size for a preset (default 28x28)', parseSize)
    .addOption(channelsOption())
    .option('--classes <n>', 'number of classes for a preset (default 10)', parsePositiveInt)
    .option('--json', 'print the summary as JSON')
    .action(async (model: string, opts) => (await import('./commands/summary.js')).summaryCommand(model, opts));

  const gradcheck = program
    .command('gradcheck')
    .description("check every layer's analytic gradients against central differences")
    .argument('[model]', `a preset (${presetNames().join(', ')}) or a model file`, 'tiny')
    .option('--batch <n>', 'examples in the random input batch', parsePositiveInt, 2)
    .option('--seed <n>', 'seed of the input, the weights of a preset and the checked elements', parseSeed, 0)
    .option('--max-elements <n>', 'elements checked per tensor (a seeded sample)', parsePositiveInt, 12)
    .option('--eps <h>', 'finite-difference step (default per layer: 0.1 for linear layers, 0.01 smooth, 0.001 ReLU/max-pool)', parsePositiveNumber)
    .option('--whole', 'check the whole model end to end instead of layer by layer (float32 kinks can make it fail)')
    .option('--atol <a>', 'absolute tolerance', parseNonNegativeNumber, 1e-3)
    .option('--rtol <r>', 'relative tolerance', parseNonNegativeNumber, 1e-2)
    .option('--image-size <HxW>', 'input size for a preset (default 28x28)', parseSize)
    .addOption(channelsOption())
    .option('--classes <n>', 'number of classes for a preset (default 10)', parsePositiveInt)
    .option('--json', 'print the report as JSON');
  backendOptions(gradcheck).action(async (model: string, opts) => (await import('./commands/gradcheck.js')).gradcheckCommand(model, opts));

  program
    .command('edges')
    .description('edge detection with Sobel, Scharr or your own 3x3 kernel; writes a PNG')
    .argument('<image>', 'image file')
    .option('-o, --out <file>', 'output PNG (default <image name>-edges.png)')
    .addOption(new Option('--operator <name>', 'gradient operator (magnitude sqrt(gx² + gy²))').choices(['sobel', 'scharr']).default('sobel'))
    .option('--kernel <k>', 'a custom 3x3 kernel "a,b,c,d,e,f,g,h,i" (row by row); writes |response|')
    .addOption(new Option('--padding <mode>', "'same' keeps the size, 'valid' drops the border").choices(['same', 'valid']).default('same'))
    .option('--gx <file>', 'also write the horizontal derivative (vertical edges) as a PNG')
    .option('--gy <file>', 'also write the vertical derivative (horizontal edges) as a PNG')
    .option('--json', 'print what was written as JSON')
    .action(async (image: string, opts) => (await import('./commands/edges.js')).edgesCommand(image, opts));

  program
    .command('export')
    .description('export a model file to ONNX')
    .argument('<model>', 'model file (.safetensors)')
    .requiredOption('--onnx <file>', 'the ONNX file to write')
    .option('--opset <n>', 'ONNX opset version (13-21)', parsePositiveInt, 13)
    .option('--json', 'print what was written as JSON')
    .action(async (model: string, opts) => (await import('./commands/export.js')).exportCommand(model, opts));

  const visualize = program
    .command('visualize')
    .description("write PNG grids of the first layer's filters and of one image's feature maps")
    .argument('<model>', 'model file (.safetensors) or a preset')
    .option('-o, --out-dir <dir>', 'directory for the PNG files', 'viz')
    .option('--image <file>', 'the image whose feature maps to draw (default: a test image of --data)')
    .option('-d, --data <mnist|dir>', "where the default image comes from (default: the model's training data, else mnist)")
    .option('--sample <n>', 'which test image to draw (0-based, default 0)', parseNonNegativeInt, 0)
    .option('--scale <n>', 'upscaling of each tile (default: automatic)', parsePositiveInt)
    .option('--json', 'print what was written as JSON');
  backendOptions(visualize).action(async (model: string, opts) => (await import('./commands/visualize.js')).visualizeCommand(model, opts));

  program
    .command('pack-data')
    .description('write a dataset as one compact binary file (uint8 pixels + labels) for a web page (docs/worker.md)')
    .option('-d, --data <mnist|dir>', "'mnist' (the standard 60,000 + 10,000), 'mnist-10k' or an image folder root/<class>/<image>", 'mnist')
    .option('--test-data <dir>', 'a separate test image folder (default for folders: the last 20% of each class)')
    .requiredOption('-o, --out <file>', 'the file to write (e.g. digits.bin)')
    .option('--limit <n>', 'keep only the first n training images (class-balanced)', parsePositiveInt)
    .option('--test-limit <n>', 'keep only the first n test images (class-balanced)', parsePositiveInt)
    .option('--seed <n>', 'store each split in a seeded random order (default: classes interleaved)', parseSeed)
    .option('--gzip', 'gzip the file (pages unpack it with DecompressionStream)')
    .option('--image-size <HxW>', 'image folders: resize to this size (default 28x28)', parseSize)
    .addOption(channelsOption())
    .option('--json', 'print what was written as JSON')
    .action(async (opts) => (await import('./commands/pack-data.js')).packDataCommand(opts));

  return program;
}

/** Parses `argv` (without `node` and the script) and runs the command; resolves with the exit code. */
export async function run(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv, { from: 'user' });
    return 0;
  } catch (e) {
    return reportError(e);
  }
}

/** Prints an error as one line on stderr (plus the stack with STRIDE_DEBUG=1) and returns the exit code. */
export function reportError(e: unknown): number {
  if (e instanceof CommanderError) {
    // Commander has printed its message already (help and --version exit with code 0).
    if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help') return 0;
    return e.exitCode === 0 ? 0 : 2;
  }
  // A library error's op prefix (loadImageFolder: ...) is for programmers; CliErrors are written for people already.
  const message = e instanceof CliError ? e.message : personMessage(e instanceof Error ? e.message : String(e));
  process.stderr.write(`stride: error: ${oneLine(message)}\n`);
  if (process.env.STRIDE_DEBUG && e instanceof Error && e.stack) process.stderr.write(`${e.stack}\n`);
  return e instanceof CliError ? e.exitCode : 1;
}
