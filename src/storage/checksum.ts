// CRC32C, the full-object checksum S3 and GCS both understand. Parts of a large object are
// checksummed in parallel and combined, so the whole-file value costs no second read.
import { crc32c } from '@node-rs/crc32';

/** Castagnoli polynomial, bit-reflected. */
const POLY = 0x82f63b78;

export function crc32cOf(data: Uint8Array, previous = 0): number {
  return crc32c(data as Buffer, previous) >>> 0;
}

/** S3 / GCS wire form: base64 of the 4 big-endian bytes. */
export function crc32cToBase64(crc: number): string {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(crc >>> 0);
  return b.toString('base64');
}

export function crc32cFromBase64(s: string): number {
  return Buffer.from(s, 'base64').readUInt32BE(0);
}

function gf2Times(mat: Uint32Array, vec: number): number {
  let sum = 0;
  for (let i = 0; vec !== 0; i++, vec >>>= 1) if (vec & 1) sum ^= mat[i];
  return sum >>> 0;
}

function gf2Square(square: Uint32Array, mat: Uint32Array): void {
  for (let n = 0; n < 32; n++) square[n] = gf2Times(mat, mat[n]);
}

/** CRC of A+B from crc(A), crc(B) and len(B) (zlib's crc32_combine, for the Castagnoli polynomial). */
export function crc32cCombine(crcA: number, crcB: number, lenB: number): number {
  if (lenB <= 0) return crcA >>> 0;
  const even = new Uint32Array(32);
  const odd = new Uint32Array(32);
  odd[0] = POLY;
  for (let n = 1, row = 1; n < 32; n++, row <<= 1) odd[n] = row;
  gf2Square(even, odd);
  gf2Square(odd, even);
  let crc = crcA >>> 0;
  let len = lenB;
  for (;;) {
    gf2Square(even, odd);
    if (len % 2 === 1) crc = gf2Times(even, crc);
    len = Math.floor(len / 2);
    if (len === 0) break;
    gf2Square(odd, even);
    if (len % 2 === 1) crc = gf2Times(odd, crc);
    len = Math.floor(len / 2);
    if (len === 0) break;
  }
  return (crc ^ crcB) >>> 0;
}

/** Combines per-part CRCs given in order with their lengths. */
export function crc32cOfParts(parts: { crc: number; size: number }[]): number {
  let crc = 0;
  let first = true;
  for (const p of parts) {
    crc = first ? p.crc >>> 0 : crc32cCombine(crc, p.crc, p.size);
    first = false;
  }
  return crc;
}
