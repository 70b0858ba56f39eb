// The task grid of an ingest: which box of every scale each task owns and which full-resolution
// box it reads to make them all in one pass. Task n owns the n-th slice of the grid at every
// level (task size / f^k), the last task along an axis owns up to the level's far edge, and it
// reads every footprint its output voxels need, so no voxel, chunk or shard has two writers.
import type { Box, Vec3 } from '../arrays/box.ts';
import { FerryError } from '../errors.ts';
import { chunkShape, gridShape, scaleBox } from '../formats/precomputed/grid.ts';
import type { ScaleGeometry } from '../formats/precomputed/grid.ts';
import type { ShardingSpec } from '../formats/precomputed/info.ts';
import { chooseShardingSpec, mortonBits } from '../formats/precomputed/sharding.ts';

export interface IngestTask {
  /** Stable name in the ledger: the task's grid position. */
  key: string;
  /** Full-resolution voxels (absolute coordinates) the task reads. */
  read: Box;
  /** The box of each scale (index 0 = full resolution) the task writes. */
  boxes: Box[];
}

/** Tasks along each axis. */
export function taskCounts(scale0: ScaleGeometry, taskSize: Vec3): Vec3 {
  return [0, 1, 2].map((d) => Math.ceil(scale0.size[d] / taskSize[d])) as Vec3;
}

/**
 * How many scales (full resolution included) one task can make from one read: level k needs
 * task size / f^k to be whole chunks on every axis that has more than one task.
 */
export function maxScalesPerTask(scale0: ScaleGeometry, taskSize: Vec3, factor: Vec3, limit = 32): number {
  const c = chunkShape(scale0);
  const counts = taskCounts(scale0, taskSize);
  let scales = 1;
  while (scales < limit) {
    const ok = [0, 1, 2].every((d) => counts[d] === 1 || taskSize[d] % (factor[d] ** scales * c[d]) === 0);
    if (!ok) break;
    scales++;
  }
  return scales;
}

export function checkScalesFit(scale0: ScaleGeometry, taskSize: Vec3, factor: Vec3, scales: number): void {
  const max = maxScalesPerTask(scale0, taskSize, factor, scales);
  if (scales > max) {
    const c = chunkShape(scale0);
    const need = [0, 1, 2].map((d) => c[d] * factor[d] ** (scales - 1));
    throw new FerryError(`a task of ${taskSize.join(',')} voxels can make ${max} scale(s) from one read, not ${scales}`, {
      hint: `use a task size that is a multiple of ${need.join(',')} (or covers the whole volume on an axis), or fewer scales; add more scales later with a plan from the written volume`,
    });
  }
}

function levelAxis(off: number, size: number, T: number, F: number, i: number, n: number): [number, number] {
  const lo = Math.floor(off / F);
  const hi = Math.ceil((off + size) / F);
  if (n === 1) return [lo, hi];
  const start = lo + (i * T) / F;
  return [start, i === n - 1 ? hi : start + T / F];
}

/** Every task of the grid, x fastest; `scales` must fit (checkScalesFit). */
export function* ingestTasks(scale0: ScaleGeometry, taskSize: Vec3, factor: Vec3, scales: number): Generator<IngestTask> {
  const counts = taskCounts(scale0, taskSize);
  const off = scale0.voxel_offset;
  const vol = scaleBox(scale0);
  const top = factor.map((f) => f ** (scales - 1)) as Vec3;
  for (let z = 0; z < counts[2]; z++) {
    for (let y = 0; y < counts[1]; y++) {
      for (let x = 0; x < counts[0]; x++) {
        const i: Vec3 = [x, y, z];
        const boxes: Box[] = [];
        const read: Box = { start: [Infinity, Infinity, Infinity], end: [-Infinity, -Infinity, -Infinity] };
        for (let k = 0; k < scales; k++) {
          const box: Box = { start: [0, 0, 0], end: [0, 0, 0] };
          for (let d = 0; d < 3; d++) {
            const F = factor[d] ** k;
            [box.start[d], box.end[d]] = levelAxis(off[d], scale0.size[d], taskSize[d], F, i[d], counts[d]);
            // Every full-resolution voxel under this level's box, clipped to the volume.
            read.start[d] = Math.min(read.start[d], Math.max(box.start[d] * F, vol.start[d]));
            read.end[d] = Math.max(read.end[d], Math.min(box.end[d] * F, vol.end[d]));
          }
          boxes.push(box);
        }
        // Whole footprints of the coarsest level, so the downsampler never cuts one.
        for (let d = 0; d < 3; d++) {
          read.start[d] = Math.max(Math.floor(read.start[d] / top[d]) * top[d], vol.start[d]);
          read.end[d] = Math.min(Math.ceil(read.end[d] / top[d]) * top[d], vol.end[d]);
        }
        yield { key: `task_${x}_${y}_${z}`, read, boxes };
      }
    }
  }
}

/**
 * A sharding spec for one scale whose shards are blocks of 2^k chunks that tile every task's box
 * of that scale (task chunks per axis must be powers of two where there is more than one task),
 * no larger than `targetShardBytes` uncompressed (default 256 MiB: a task builds each shard in
 * memory, and a smaller file is cheaper to upload again).
 */
export function shardingForTasks(
  scale: ScaleGeometry,
  taskChunks: Vec3,
  counts: Vec3,
  opts: { voxelBytes: number; dataEncoding: 'raw' | 'gzip'; targetShardBytes?: number },
): ShardingSpec {
  let k = 64;
  for (let d = 0; d < 3; d++) {
    if (counts[d] === 1) continue;
    const side = Math.log2(taskChunks[d]);
    if (!Number.isInteger(side)) {
      throw new FerryError(`sharded output needs tasks that are a power of two of chunks on each axis; a task is ${taskChunks.join('x')} chunks of scale ${scale.key}`, {
        hint: 'use a task size of 2^n chunks per axis, e.g. 1024,1024,64 or 4096,4096,64 for 64^3 chunks',
      });
    }
    k = Math.min(k, side);
  }
  const bits = mortonBits(gridShape(scale));
  const within = bits.reduce((s, b) => s + Math.min(b, k), 0);
  const c = chunkShape(scale);
  const chunkBytes = c[0] * c[1] * c[2] * opts.voxelBytes;
  return chooseShardingSpec(scale, {
    voxelBytes: opts.voxelBytes,
    targetShardBytes: Math.min(opts.targetShardBytes ?? 2 ** 28, 2 ** within * chunkBytes),
    dataEncoding: opts.dataEncoding,
    minishardIndexEncoding: 'gzip',
  });
}
