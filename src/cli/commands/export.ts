/** `stride export`: a model file → ONNX, with what a consumer needs to feed it in the metadata. */
import { exportOnnx, ONNX_OPSETS } from '../../onnx/export.js';
import { readModelFile, type CliModelInfo } from '../models.js';
import { writeAtomic } from '../images.js';
import { makeOutput, usageError } from '../util.js';
import { isMnist, isMnist10k } from '../data.js';

export interface ExportOptions {
  onnx: string;
  opset: number;
  json?: boolean;
}

/**
 * How `stride` turns an image file into the model's input (src/node/image-folder.ts), in words,
 * for the ONNX `stride.preprocessing` entry. Only models trained by `stride train` are known to
 * have seen exactly this; for other files it says so.
 */
export function preprocessingText(info: CliModelInfo, inputShape: readonly number[]): string {
  const [h, w, c] = inputShape;
  const steps =
    `decode the image (EXIF orientation applied), composite any transparency onto black, resize to ${h}x${w} ` +
    `(fit '${info.fit ?? 'fill'}', Lanczos-3)${c === 1 ? ', grey = round(0.299 R + 0.587 G + 0.114 B)' : ', sRGB'}; ` +
    'value = byte / 255 (0 to 1), no mean/std normalisation';
  if (info.data === undefined) return `unknown: this model file was not written by 'stride train'; stride itself feeds: ${steps}`;
  const look = isMnist(info.data) || isMnist10k(info.data)
    ? '; MNIST style: a white (1) digit on a black (0) background (dark ink on light paper must be inverted: value = 1 - byte / 255)'
    : '';
  return `${steps}${look}`;
}

export async function exportCommand(path: string, opts: ExportOptions): Promise<void> {
  const out = makeOutput(opts.json ?? false);
  if (opts.opset < ONNX_OPSETS.min || opts.opset > ONNX_OPSETS.max) throw usageError(`--opset must be ${ONNX_OPSETS.min} to ${ONNX_OPSETS.max}, got ${opts.opset}`);
  const { model, info } = await readModelFile(path);
  const k = model.outputShape[model.outputShape.length - 1];
  const classNames = info.classNames === undefined ? undefined : Array.from({ length: k }, (_, i) => info.classNames![i] ?? String(i));
  const bytes = exportOnnx(model, { opset: opts.opset, classNames, preprocessing: preprocessingText(info, model.inputShape) });
  await writeAtomic(opts.onnx, bytes);
  out.info(`wrote ${opts.onnx} (${bytes.length.toLocaleString('en-US')} bytes, ONNX opset ${opts.opset}): input [N, ${model.inputShape.join(', ')}] NHWC float32, values byte / 255`);
  out.info(classNames === undefined ? 'class names: not recorded in the model file (outputs are class indices)' : `class names (in metadata_props stride.class_names): ${classNames.join(', ')}`);
  out.event({ model: path, onnx: opts.onnx, bytes: bytes.length, opset: opts.opset, inputShape: model.inputShape, outputShape: model.outputShape, classNames: classNames ?? null });
}
