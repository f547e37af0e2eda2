/**
 * `stride edges`: Sobel / Scharr gradient magnitude, or the response of a custom 3x3 kernel, of an
 * image (converted to grey, at its own size), written as a PNG scaled so the strongest response is white.
 */
import { basename, extname } from 'node:path';
import sharp from 'sharp';
import { Tensor } from '../../tensor/tensor.js';
import { conv2d } from '../../kernels/ops.js';
import { edges, type EdgeOperator } from '../../edges.js';
import { decodeImage } from '../../node/image-folder.js';
import { readRegularFile } from '../../node/read-file.js';
import { writePng } from '../../node/png.js';
import { CliError, makeOutput, usageError } from '../util.js';

export interface EdgesOptions {
  out?: string;
  operator: EdgeOperator;
  kernel?: string;
  padding: 'same' | 'valid';
  gx?: string;
  gy?: string;
  json?: boolean;
}

/** "a,b,c,d,e,f,g,h,i" → a 3x3 kernel, row by row. */
export function parseKernel(text: string): number[][] {
  const parts = text.split(/[,\s]+/).filter((s) => s !== '');
  const values = parts.map(Number);
  if (values.length !== 9 || values.some((v) => !Number.isFinite(v))) {
    throw usageError(`--kernel must be 9 numbers "a,b,c,d,e,f,g,h,i" (a 3x3 kernel, row by row), got ${JSON.stringify(text)}`);
  }
  return [values.slice(0, 3), values.slice(3, 6), values.slice(6, 9)];
}

/** Loads an image file as grey [1, H, W, 1] in [0, 1], at its own size (after EXIF rotation). */
async function loadGrey(file: string): Promise<Tensor> {
  try {
    const data = await readRegularFile(file, { what: 'image' });
    const meta = await sharp(data).metadata();
    let w = meta.width;
    let h = meta.height;
    if (meta.orientation !== undefined && meta.orientation >= 5) [w, h] = [h, w];
    if (!w || !h) throw new Error('unknown image size');
    const bytes = await decodeImage(data, { height: h, width: w, channels: 1 });
    return new Tensor(Float32Array.from(bytes, (p) => p / 255), [1, h, w, 1]);
  } catch (e) {
    throw new CliError(`cannot read image '${file}': ${(e as Error).message}`);
  }
}

const maxAbs = (t: Tensor): number => t.data.reduce((m, v) => Math.max(m, Math.abs(v)), 0);

export async function edgesCommand(file: string, opts: EdgesOptions): Promise<void> {
  const out = makeOutput(opts.json ?? false);
  const kernel = opts.kernel !== undefined ? parseKernel(opts.kernel) : null;
  if (kernel !== null && (opts.gx !== undefined || opts.gy !== undefined)) throw usageError('--gx and --gy apply to --operator sobel/scharr, not to --kernel');
  const outPath = opts.out ?? `${basename(file, extname(file))}-edges.png`;
  if (extname(outPath).toLowerCase() !== '.png') throw usageError(`--out '${outPath}': the file name must end in .png`);
  const image = await loadGrey(file);
  const [, h, w] = image.shape;
  const written: { path: string; what: string; max: number }[] = [];
  if (kernel !== null) {
    const k = Tensor.fromArray(kernel.flat(), [3, 3, 1, 1]);
    const r = conv2d(image, k, null, { padding: opts.padding });
    const abs = new Tensor(r.data.map(Math.abs), r.shape);
    const m = maxAbs(abs);
    await writePng(outPath, abs, { range: m > 0 ? [0, m] : 'unit' });
    written.push({ path: outPath, what: `|response| of the kernel [${kernel.map((row) => row.join(' ')).join('; ')}]`, max: m });
  } else {
    const { magnitude, gx, gy } = edges(image, { operator: opts.operator, padding: opts.padding });
    const m = maxAbs(magnitude);
    await writePng(outPath, magnitude, { range: m > 0 ? [0, m] : 'unit' });
    written.push({ path: outPath, what: `${opts.operator} gradient magnitude`, max: m });
    for (const [path, t, name] of [[opts.gx, gx, 'gx (d/dx, vertical edges; grey = 0)'], [opts.gy, gy, 'gy (d/dy, horizontal edges; grey = 0)']] as const) {
      if (path === undefined) continue;
      const s = maxAbs(t);
      await writePng(path, t, { range: s > 0 ? [-s, s] : [-1, 1] });
      written.push({ path, what: name, max: s });
    }
  }
  const [oh, ow] = opts.padding === 'valid' ? [h - 2, w - 2] : [h, w];
  for (const f of written) out.info(`wrote ${f.path} (${ow}x${oh}): ${f.what}, white = ${f.max.toPrecision(4)}`);
  out.event({ image: file, width: w, height: h, outWidth: ow, outHeight: oh, files: written });
}
