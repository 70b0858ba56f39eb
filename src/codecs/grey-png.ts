// 8-bit greyscale PNG written directly: signature, IHDR, IDAT, IEND around Node's own zlib.
// sharp (libvips, image.ts) stays Ferry's PNG decoder. It is not the InLens encoder because the encode was
// three quarters of a tile's conversion time and libvips offers no zlib strategy: on 6,250 x 6,250
// tiles bench/dat-to-png.ts shows this encoder (Z_RLE over Average-filtered rows) at ~55% of
// libvips' CPU time for a 4% smaller file (its sharp row keeps the comparison visible).
// EM tiles are noise-dominated: LZ77 finds almost no matches in them, so searching for matches is
// wasted time, while Z_RLE still collapses the runs that do occur (clipped areas, blank tiles).
import zlib from 'node:zlib';

export interface PngDeflate {
  /** zlib level, 1-9 (0 would store the rows uncompressed). */
  level: number;
  /** zlib strategy, e.g. zlib.constants.Z_RLE. */
  strategy: number;
}

const SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
/** PNG filter type written before each row: Average, (left + up) / 2 as the prediction. */
const FILTER_AVERAGE = 3;
/**
 * The zlib stream is cut into IDAT chunks of this size: any size is valid, and modest chunks suit
 * decoders that buffer a whole chunk before inflating it.
 */
const IDAT_BYTES = 1 << 20;

/**
 * Encodes a width x height 8-bit grey image whose rows `fillRow(y, row)` writes into `row` (width
 * bytes, rows in order from 0), so a caller that computes pixels never builds the whole image.
 * Every row uses the Average filter: of the five filters it gives the smallest file on the bench
 * tiles (3% below Sub or Up, 4% below None and Paeth) and on the real test tile, and libvips'
 * per-row choice (adaptive filtering) gave a larger file for 60% more time.
 */
export function encodeGreyPngRows(width: number, height: number, fillRow: (y: number, row: Uint8Array) => void, deflate: PngDeflate): Buffer {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1 || width > 0x7fffffff || height > 0x7fffffff) {
    throw new RangeError(`cannot encode a ${width} x ${height} PNG`);
  }
  const stride = width + 1;
  const scanlines = new Uint8Array(stride * height);
  // Average predicts from the unfiltered row above; the row above the first is zeros.
  let prev = new Uint8Array(width);
  let cur = new Uint8Array(width);
  for (let y = 0; y < height; y++) {
    fillRow(y, cur);
    averageFilter(cur, prev, scanlines.subarray(y * stride, (y + 1) * stride));
    const t = prev;
    prev = cur;
    cur = t;
  }
  // memLevel 9 doubles zlib's block size (fewer Huffman tables); a large chunkSize saves Node
  // gathering thousands of 16 KiB pieces.
  const stream = zlib.deflateSync(scanlines, { level: deflate.level, strategy: deflate.strategy, memLevel: 9, chunkSize: 1 << 20 });
  return pngFile(width, height, stream);
}

/** Encodes a whole image held row-major in `pixels`. */
export function encodeGreyPng(pixels: Uint8Array, width: number, height: number, deflate: PngDeflate): Buffer {
  if (pixels.length !== width * height) throw new RangeError(`${pixels.length} pixels for a ${width} x ${height} image`);
  return encodeGreyPngRows(width, height, (y, row) => row.set(pixels.subarray(y * width, (y + 1) * width)), deflate);
}

/** Writes the filter type byte then `row` filtered against `prev` into `out` (width + 1 bytes). */
function averageFilter(row: Uint8Array, prev: Uint8Array, out: Uint8Array): void {
  out[0] = FILTER_AVERAGE;
  let left = 0;
  const n = row.length;
  for (let x = 0; x < n; x++) {
    const v = row[x];
    // Uint8Array stores wrap modulo 256, which is the PNG filter arithmetic.
    out[x + 1] = v - ((left + prev[x]) >> 1);
    left = v;
  }
}

/** The PNG file: signature, IHDR (8-bit greyscale, not interlaced), the stream as IDATs, IEND. */
function pngFile(width: number, height: number, stream: Uint8Array): Buffer {
  const idats = Math.max(1, Math.ceil(stream.length / IDAT_BYTES));
  const out = Buffer.allocUnsafe(SIGNATURE.length + (12 + 13) + (12 * idats + stream.length) + 12);
  out.set(SIGNATURE, 0);
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 0; // colour type: greyscale
  // compression method, filter method, interlace: all 0 (deflate, adaptive filters, none)
  let at = writeChunk(out, SIGNATURE.length, 'IHDR', ihdr);
  for (let i = 0; i < idats; i++) at = writeChunk(out, at, 'IDAT', stream.subarray(i * IDAT_BYTES, (i + 1) * IDAT_BYTES));
  at = writeChunk(out, at, 'IEND', new Uint8Array(0));
  if (at !== out.length) throw new Error(`PNG layout error: wrote ${at} of ${out.length} bytes`);
  return out;
}

/** Length, type, data, then the CRC-32 of type and data; returns the offset after the chunk. */
function writeChunk(out: Buffer, at: number, type: string, data: Uint8Array): number {
  out.writeUInt32BE(data.length, at);
  out.write(type, at + 4, 'latin1');
  out.set(data, at + 8);
  const end = at + 8 + data.length;
  out.writeUInt32BE(zlib.crc32(out.subarray(at + 4, end)), end);
  return end + 4;
}
