// Synthetic electron-microscopy sections for the volume and deflate benchmarks: smooth structure
// plus noise, so that gzip and PNG work on them as they do on real data.

/** Section `z` of a stack, `width` x `height` uint8 pixels, row by row, noise of `noise` grey levels. Deterministic. */
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
