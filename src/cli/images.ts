/**
 * Picture output for the CLI: pixel grids and SVG plots to PNG (sharp), written atomically.
 */
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { dirname, extname } from 'node:path';
import sharp from 'sharp';
import type { PixelGrid } from '../viz/image-grid.js';
import { writeFileAtomic } from '../node/model-file.js';
import { CliError } from './util.js';

/** Writes raw pixels (1 = grey, 3 = RGB, 4 = RGBA) as a PNG file. */
export async function writeGridPng(path: string, grid: PixelGrid | { width: number; height: number; channels: 1 | 3 | 4; data: Uint8Array }): Promise<void> {
  const png = await sharp(Buffer.from(grid.data.buffer, grid.data.byteOffset, grid.data.byteLength), {
    raw: { width: grid.width, height: grid.height, channels: grid.channels },
  })
    .png()
    .toBuffer();
  await writeAtomic(path, png);
}

/** Writes an SVG document to `path`: as it is for .svg, rendered by sharp for .png. */
export async function writeSvgOrPng(path: string, svg: string, flag: string): Promise<void> {
  const ext = extname(path).toLowerCase();
  if (ext === '.svg') return writeAtomic(path, new TextEncoder().encode(svg));
  if (ext === '.png') return writeAtomic(path, await sharp(Buffer.from(svg), { density: 96 }).png().toBuffer());
  throw new CliError(`${flag} '${path}': the file name must end in .svg or .png`);
}

export async function writeAtomic(path: string, bytes: Uint8Array): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeFileAtomic(path, bytes);
}

/** Checks early (before a long run) that `path` can be created: its directory is creatable and writable. */
export async function checkWritable(path: string, flag: string): Promise<void> {
  try {
    await mkdir(dirname(path), { recursive: true });
    const probe = `${path}.probe-${process.pid}`;
    await writeFile(probe, '');
    await rm(probe, { force: true });
  } catch (e) {
    throw new CliError(`${flag} '${path}': cannot write there (${(e as Error).message})`);
  }
}
