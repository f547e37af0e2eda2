/**
 * What a file is, from its first bytes (browser-safe): for error messages of readers that were
 * handed something other than the file they expect (an ONNX model, a zip, a PNG, a JSON file, ...).
 */

/**
 * What a file that is not safetensors looks like, from its first bytes, for the error message
 * (null when nothing is recognised). Only formats someone might pass by mistake: other model
 * formats, images, archives, text.
 */
export function sniffFileKind(bytes: Uint8Array): string | null {
  const starts = (...sig: number[]): boolean => sig.every((b, i) => bytes[i] === b);
  const ascii = (from: number, to: number): string => String.fromCharCode(...bytes.subarray(from, to));
  if (bytes.length >= 3 && bytes[0] === 0x08 && bytes[1] >= 1 && bytes[1] < 0x20 && [0x12, 0x1a, 0x22, 0x28, 0x32, 0x3a, 0x42].includes(bytes[2])) {
    return 'an ONNX model (Stride exports ONNX but cannot load it; load the .safetensors file it was exported from)';
  }
  if (starts(0x50, 0x4b, 0x03, 0x04)) return 'a zip archive (a PyTorch .pt/.pth or Keras .keras file is one; Stride reads only its own .safetensors files)';
  if (starts(0x89, 0x48, 0x44, 0x46)) return 'an HDF5 file (a Keras .h5 model?); Stride reads only its own .safetensors files';
  if (bytes.length >= 8 && ascii(4, 8) === 'TFL3') return 'a TensorFlow Lite model';
  if (starts(0x80) && bytes[1] >= 2 && bytes[1] <= 5) return 'a Python pickle (an old PyTorch checkpoint?)';
  if (starts(0x89, 0x50, 0x4e, 0x47)) return 'a PNG image';
  if (starts(0xff, 0xd8, 0xff)) return 'a JPEG image';
  if (bytes.length >= 12 && ascii(0, 4) === 'RIFF' && ascii(8, 12) === 'WEBP') return 'a WebP image';
  if (starts(0x47, 0x49, 0x46, 0x38)) return 'a GIF image';
  if (starts(0x1f, 0x8b)) return 'a gzip-compressed file';
  const head = bytes.subarray(0, 512);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(head, { stream: true }); // stream: a character cut at byte 512 is not an error
  } catch {
    return null;
  }
  // Text: valid UTF-8 without control characters other than tab, newline, carriage return.
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if ((c < 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) || c === 0x7f) return null;
  }
  const start = text.trimStart();
  const preview = JSON.stringify(start.slice(0, 40));
  if (start.includes('stride-checkpoint-index')) return 'a checkpoint index (checkpoint.json): load its folder as a checkpoint (loadCheckpoint, or train --resume)';
  if (start.startsWith('{') || start.startsWith('[')) return `a JSON file, starting ${preview}`;
  return `a text file, starting ${preview}`;
}
