// Synthetic electron-microscopy data for tests and benchmarks, deterministic: image sections
// (smooth structure plus noise, so that gzip and PNG work on them as they do on real data),
// 64^3 chunks cut from a stack of them, and segmentation label chunks.
import { seededRandom } from './random.ts';

/** Section `z` of a stack, `width` x `height` uint8 pixels, row by row, noise of `noise` grey levels. */
export function emSection(z: number, width: number, height: number, noise = 25): Uint8Array {
  const out = new Uint8Array(width * height);
  let seed = (z * 2654435761) >>> 0 || 1;
  for (let y = 0, i = 0; y < height; y++) {
    const cy = Math.cos(y * 0.037 + z * 0.05);
    for (let x = 0; x < width; x++, i++) {
      seed ^= seed << 13;
      seed ^= seed >>> 17;
      seed ^= seed << 5;
      const v = 128 + 70 * Math.sin(x * 0.031 + z * 0.07) * cy + ((seed >>> 0) % noise) - ((noise - 1) >> 1);
      out[i] = v < 0 ? 0 : v > 255 ? 255 : v;
    }
  }
  return out;
}

export const CHUNK = 64;

/**
 * `count` 64^3 uint8 chunks (z-major inside a chunk) cut from the first chunk rows of 64 sections
 * `width` wide, as an ingest cuts them.
 */
export function emChunks(count: number, noise: number, width = 2048): Uint8Array[] {
  const rows = Math.max(1, Math.ceil(count / (width / CHUNK)));
  const height = rows * CHUNK;
  const sections = Array.from({ length: CHUNK }, (_, z) => emSection(z, width, height, noise));
  const chunks: Uint8Array[] = [];
  for (let y0 = 0; y0 < height && chunks.length < count; y0 += CHUNK) {
    for (let x0 = 0; x0 < width && chunks.length < count; x0 += CHUNK) {
      const c = new Uint8Array(CHUNK ** 3);
      let o = 0;
      for (const s of sections) for (let y = y0; y < y0 + CHUNK; y++, o += CHUNK) c.set(s.subarray(y * width + x0, y * width + x0 + CHUNK), o);
      chunks.push(c);
    }
  }
  return chunks;
}

/**
 * A 64^3 segmentation chunk of `bytes`-byte little-endian labels (4: uint32, 8: uint64): 40 cells,
 * each voxel labelled by its nearest seed, as neurons fill a block of a segmentation.
 */
export function labelChunk(seed: number, bytes: 4 | 8): Uint8Array {
  const rnd = seededRandom(seed);
  const seeds = Array.from({ length: 40 }, (_, i) => ({ x: rnd() * CHUNK, y: rnd() * CHUNK, z: rnd() * CHUNK, label: 1000 * seed + i + 1 }));
  const out = new Uint8Array(CHUNK ** 3 * bytes);
  const view = new DataView(out.buffer);
  for (let z = 0, i = 0; z < CHUNK; z++) {
    for (let y = 0; y < CHUNK; y++) {
      for (let x = 0; x < CHUNK; x++, i++) {
        let best = Infinity;
        let label = 0;
        for (const s of seeds) {
          const d = (s.x - x) ** 2 + (s.y - y) ** 2 + (s.z - z) ** 2;
          if (d < best) {
            best = d;
            label = s.label;
          }
        }
        if (bytes === 8) view.setBigUint64(i * 8, BigInt(label), true);
        else view.setUint32(i * 4, label, true);
      }
    }
  }
  return out;
}
