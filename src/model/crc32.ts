/**
 * CRC-32 (browser-safe): IEEE 802.3, the zlib / PNG / gzip polynomial 0xEDB88320, reflected.
 * Stride files (src/model/stride-file.ts) and compact dataset files (src/data/compact.ts) use it
 * as their integrity checksum.
 *
 * ```ts
 * crc32(new TextEncoder().encode('123456789'));      // 0xcbf43926, the standard check value
 * crc32Update(crc32Update(0, a), b) === crc32(ab);    // incremental over concatenated bytes
 * ```
 */

let crcTable: Uint32Array | null = null;

/** The 256-entry table of the byte-at-a-time algorithm, built on first use. */
function table(): Uint32Array {
  if (crcTable === null) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  return crcTable;
}

/**
 * Incremental CRC-32: `crc32Update(crc32Update(0, a), b) === crc32(concat(a, b))`.
 * `crc32(new TextEncoder().encode('123456789'))` is `0xcbf43926` (the standard check value).
 */
export function crc32Update(crc: number, bytes: Uint8Array): number {
  const t = table();
  let c = ~crc >>> 0;
  for (let i = 0; i < bytes.length; i++) c = t[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return ~c >>> 0;
}

/** The CRC-32 of `bytes`, as an unsigned 32-bit integer. */
export function crc32(bytes: Uint8Array): number {
  return crc32Update(0, bytes);
}
