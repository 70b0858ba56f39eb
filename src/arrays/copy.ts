// Copies between voxel arrays that each hold one box of a volume ([x, y, z, c], x fastest), the
// step between a task's block and its chunks in both directions.
import { boxShape } from './box.ts';
import type { Box } from './box.ts';
import type { VoxelArray } from './voxels.ts';

/**
 * Copies `region` (inside both boxes) from `src` (holding `srcBox`) to `dst` (holding `dstBox`),
 * every channel. Long rows go through typed-array set; short ones (a 64-voxel chunk row) are
 * copied in a loop, which beats creating a subarray per row.
 */
export function copyRegion(src: VoxelArray, srcBox: Box, dst: VoxelArray, dstBox: Box, region: Box, channels = 1): void {
  const ss = boxShape(srcBox);
  const ds = boxShape(dstBox);
  const rs = boxShape(region);
  const srcPlane = ss[0] * ss[1];
  const dstPlane = ds[0] * ds[1];
  const srcVol = srcPlane * ss[2];
  const dstVol = dstPlane * ds[2];
  const sx = region.start[0] - srcBox.start[0];
  const dx = region.start[0] - dstBox.start[0];
  const words = wordViews(src, dst, [ss[0], ds[0], sx, dx, rs[0]]);
  for (let c = 0; c < channels; c++) {
    for (let z = 0; z < rs[2]; z++) {
      const sz = region.start[2] - srcBox.start[2] + z;
      const dz = region.start[2] - dstBox.start[2] + z;
      for (let y = 0; y < rs[1]; y++) {
        const sy = region.start[1] - srcBox.start[1] + y;
        const dy = region.start[1] - dstBox.start[1] + y;
        const s = c * srcVol + sz * srcPlane + sy * ss[0] + sx;
        const d = c * dstVol + dz * dstPlane + dy * ds[0] + dx;
        if (rs[0] >= 256) (dst as Uint8Array).set((src as Uint8Array).subarray(s, s + rs[0]), d);
        else if (words) {
          const [from, to, k] = [(s * words.bpe) >> 2, (d * words.bpe) >> 2, (rs[0] * words.bpe) >> 2];
          for (let x = 0; x < k; x++) words.dst[to + x] = words.src[from + x];
        } else for (let x = 0; x < rs[0]; x++) dst[d + x] = src[s + x];
      }
    }
  }
}

/**
 * 32-bit views of both arrays when every row of the copy starts and ends on a 4-byte boundary
 * (`counts` are the row lengths and offsets in voxels): a chunk row of 64 uint8 voxels is then 16
 * word copies instead of 64, the bulk of a task's time outside compression.
 */
function wordViews(src: VoxelArray, dst: VoxelArray, counts: number[]): { src: Uint32Array; dst: Uint32Array; bpe: number } | undefined {
  const bpe = src.BYTES_PER_ELEMENT;
  if (dst.BYTES_PER_ELEMENT !== bpe || src.byteOffset % 4 !== 0 || dst.byteOffset % 4 !== 0) return undefined;
  if (counts.some((n) => (n * bpe) % 4 !== 0)) return undefined;
  return {
    src: new Uint32Array(src.buffer, src.byteOffset, src.byteLength >> 2),
    dst: new Uint32Array(dst.buffer, dst.byteOffset, dst.byteLength >> 2),
    bpe,
  };
}

/**
 * Copies regions of `src` (holding `srcBox`) that share their y and z extent, such as a run of
 * chunks along x, each into an array of its own box. Row by row across all of them: each source
 * row is read once and in order, where one region at a time strides a whole plane per 64 bytes
 * and spends more time on TLB misses than on copying.
 */
export function copyRegionsAlongX(src: VoxelArray, srcBox: Box, targets: { dst: VoxelArray; box: Box }[], channels = 1): void {
  if (targets.length === 0) return;
  const ss = boxShape(srcBox);
  const srcPlane = ss[0] * ss[1];
  const srcVol = srcPlane * ss[2];
  const first = targets[0].box;
  const ny = first.end[1] - first.start[1];
  const nz = first.end[2] - first.start[2];
  const offsets = targets.map((t) => t.box.start[0] - srcBox.start[0]);
  const widths = targets.map((t) => t.box.end[0] - t.box.start[0]);
  const bpe = src.BYTES_PER_ELEMENT;
  const aligned =
    src.byteOffset % 8 === 0 &&
    (ss[0] * bpe) % 8 === 0 &&
    targets.every((t, i) => t.dst.BYTES_PER_ELEMENT === bpe && t.dst.byteOffset % 8 === 0 && (widths[i] * bpe) % 8 === 0 && (offsets[i] * bpe) % 8 === 0);
  // In 64-bit words when every row starts and ends on one: a 64-voxel uint8 row is 8 copies.
  const unit = aligned ? bpe / 8 : 1;
  const from = aligned ? new BigInt64Array(src.buffer, src.byteOffset, src.byteLength >> 3) : src;
  const to = targets.map((t) => (aligned ? new BigInt64Array(t.dst.buffer, t.dst.byteOffset, t.dst.byteLength >> 3) : t.dst));
  const n = widths.map((w) => w * unit);
  const x0 = offsets.map((o) => o * unit);
  for (let c = 0; c < channels; c++) {
    for (let z = 0; z < nz; z++) {
      for (let y = 0; y < ny; y++) {
        const row = (c * srcVol + (first.start[2] - srcBox.start[2] + z) * srcPlane + (first.start[1] - srcBox.start[1] + y) * ss[0]) * unit;
        for (let i = 0; i < targets.length; i++) {
          const w = n[i];
          const d = ((c * nz + z) * ny + y) * w;
          const s = row + x0[i];
          const out = to[i];
          for (let x = 0; x < w; x++) out[d + x] = from[s + x];
        }
      }
    }
  }
}
