/** `stride export`: a model file → ONNX. */
import { exportOnnx, ONNX_OPSETS } from '../../onnx/export.js';
import { readModelFile } from '../models.js';
import { writeAtomic } from '../images.js';
import { makeOutput, usageError } from '../util.js';

export interface ExportOptions {
  onnx: string;
  opset: number;
  json?: boolean;
}

export async function exportCommand(path: string, opts: ExportOptions): Promise<void> {
  const out = makeOutput(opts.json ?? false);
  if (opts.opset < ONNX_OPSETS.min || opts.opset > ONNX_OPSETS.max) throw usageError(`--opset must be ${ONNX_OPSETS.min} to ${ONNX_OPSETS.max}, got ${opts.opset}`);
  const { model } = await readModelFile(path);
  const bytes = exportOnnx(model, { opset: opts.opset });
  await writeAtomic(opts.onnx, bytes);
  out.info(`wrote ${opts.onnx} (${bytes.length.toLocaleString('en-US')} bytes, ONNX opset ${opts.opset}): input [N, ${model.inputShape.join(', ')}] NHWC float32`);
  out.event({ model: path, onnx: opts.onnx, bytes: bytes.length, opset: opts.opset, inputShape: model.inputShape, outputShape: model.outputShape });
}
