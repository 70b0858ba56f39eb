// Region copies give what a voxel-by-voxel copy gives, on the word-at-a-time paths (rows on 4- and
// 8-byte boundaries) and off them, for every width of voxel and more than one channel.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { boxShape, boxVoxels } from './box.ts';
import type { Box, Vec3 } from './box.ts';
import { copyRegion, copyRegionsAlongX } from './copy.ts';
import { allocateVoxels } from './voxels.ts';
import type { DataType, VoxelArray } from './voxels.ts';

/** Index of voxel `p`, channel `c`, in an array holding `box` ([x, y, z, c], x fastest). */
const at = (box: Box) => {
  const s = boxShape(box);
  return (p: Vec3, c: number) => c * boxVoxels(box) + (p[2] - box.start[2]) * s[0] * s[1] + (p[1] - box.start[1]) * s[0] + (p[0] - box.start[0]);
};

function filled(t: DataType, box: Box, channels: number): VoxelArray {
  const a = allocateVoxels(t, boxVoxels(box) * channels);
  for (let i = 0; i < a.length; i++) (a as Uint8Array)[i] = t === 'uint64' ? (BigInt(i + 1) as never) : (((i * 7 + 1) % 250) as never);
  return a;
}

/** The copy done voxel by voxel. */
function expected(src: VoxelArray, srcBox: Box, dst: VoxelArray, dstBox: Box, region: Box, channels: number): VoxelArray {
  const out = dst.slice() as VoxelArray;
  const [s, d] = [at(srcBox), at(dstBox)];
  for (let c = 0; c < channels; c++)
    for (let z = region.start[2]; z < region.end[2]; z++)
      for (let y = region.start[1]; y < region.end[1]; y++)
        for (let x = region.start[0]; x < region.end[0]; x++) out[d([x, y, z], c)] = src[s([x, y, z], c)];
  return out;
}

const TYPES: DataType[] = ['uint8', 'uint16', 'uint32', 'uint64', 'float32'];

test('copyRegion equals a voxel-by-voxel copy, rows aligned or not, short or long, every voxel width', () => {
  const srcBox: Box = { start: [-3, 2, 1], end: [301, 9, 5] };
  const dstBox: Box = { start: [0, 4, 2], end: [296, 12, 6] };
  const regions: Box[] = [
    { start: [0, 4, 2], end: [64, 8, 4] }, // 64-voxel rows on word boundaries
    { start: [1, 5, 2], end: [8, 9, 5] }, // short rows off them
    { start: [3, 4, 3], end: [296, 9, 5] }, // long rows, copied with set
  ];
  for (const t of TYPES) {
    for (const channels of [1, 2]) {
      for (const region of regions) {
        const src = filled(t, srcBox, channels);
        const dst = allocateVoxels(t, boxVoxels(dstBox) * channels);
        const want = expected(src, srcBox, dst, dstBox, region, channels);
        copyRegion(src, srcBox, dst, dstBox, region, channels);
        assert.deepEqual(dst, want, `${t}, ${channels} channel(s), region ${JSON.stringify(region)}`);
      }
    }
  }
});

test('copyRegionsAlongX cuts each box of a run into an array of its own, as single copies would', () => {
  const srcBox: Box = { start: [0, 0, 0], end: [200, 6, 3] };
  for (const t of TYPES) {
    for (const channels of [1, 2]) {
      // 64 voxels wide (the 8-byte path for every width) then an odd-width edge.
      const boxes: Box[] = [
        { start: [8, 1, 0], end: [72, 5, 3] },
        { start: [72, 1, 0], end: [136, 5, 3] },
        { start: [136, 1, 0], end: [199, 5, 3] },
      ];
      const src = filled(t, srcBox, channels);
      const targets = boxes.map((box) => ({ box, dst: allocateVoxels(t, boxVoxels(box) * channels) }));
      copyRegionsAlongX(src, srcBox, targets, channels);
      for (const { box, dst } of targets) {
        const want = expected(src, srcBox, allocateVoxels(t, boxVoxels(box) * channels), box, box, channels);
        assert.deepEqual(dst, want, `${t}, ${channels} channel(s), box ${JSON.stringify(box)}`);
      }
    }
  }
});
