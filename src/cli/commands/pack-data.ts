/**
 * `stride pack-data`: any dataset the CLI reads (`--data mnist` or an image folder) → one compact
 * dataset file (src/data/compact.ts) that a page fetches from its own origin (docs/worker.md).
 */
import { gzipSync } from 'node:zlib';
import { Rng } from '../../tensor/random.js';
import type { Dataset } from '../../data/dataset.js';
import { encodeCompactDataset } from '../../data/compact.js';
import { interleaveClasses, isMnist, loadData } from '../data.js';
import { writeAtomic } from '../images.js';
import { makeOutput, usageError } from '../util.js';

export interface PackDataOptions {
  data: string;
  testData?: string;
  out: string;
  limit?: number;
  testLimit?: number;
  seed?: number;
  gzip?: boolean;
  imageSize?: [number, number];
  channels?: 1 | 3;
  json?: boolean;
}

/**
 * The stored order of a split: class-interleaved (so the first n of the file are class-balanced),
 * or with `seed` one `Rng(seed).permutation` of that; then the first `limit` samples.
 */
export function packOrder(ds: Dataset, limit: number | undefined, seed: number | undefined): Dataset {
  let out = interleaveClasses(ds);
  if (limit !== undefined) out = out.take(limit);
  if (seed !== undefined) out = out.shuffled(new Rng(seed));
  return out;
}

export async function packDataCommand(opts: PackDataOptions): Promise<void> {
  const out = makeOutput(opts.json ?? false);
  if (isMnist(opts.data) && (opts.imageSize !== undefined || opts.channels !== undefined)) {
    throw usageError('--image-size and --channels apply to image folders; --data mnist is 28x28 grey');
  }
  const [height, width] = opts.imageSize ?? [28, 28];
  const data = await loadData({ data: opts.data, testData: opts.testData, image: { height, width, channels: opts.channels ?? 1 }, onWarning: (m) => out.warn(m) });
  const train = packOrder(data.train, opts.limit, opts.seed);
  const test = packOrder(data.test, opts.testLimit, opts.seed === undefined ? undefined : opts.seed + 1);
  const raw = encodeCompactDataset({ train, test, classNames: data.classNames });
  // mtime 0 in the gzip header (zlib's default), so the same data gives the same file.
  const bytes = opts.gzip ? new Uint8Array(gzipSync(raw, { level: 9 })) : raw;
  await writeAtomic(opts.out, bytes);
  const kb = (n: number): string => `${(n / 1024).toFixed(1)} KiB`;
  out.info(
    `wrote ${opts.out}: ${train.length} train + ${test.length} test images of ${train.height}x${train.width}x${train.channels}, ` +
      `${data.classNames.length} classes, ${bytes.length.toLocaleString('en-US')} bytes (${kb(bytes.length)}${opts.gzip ? `, ${kb(raw.length)} before gzip` : ''})`,
  );
  out.event({
    data: data.name,
    out: opts.out,
    train: train.length,
    test: test.length,
    height: train.height,
    width: train.width,
    channels: train.channels,
    classNames: data.classNames,
    bytes: bytes.length,
    rawBytes: raw.length,
    gzip: opts.gzip ?? false,
  });
}
