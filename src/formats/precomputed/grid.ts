// The chunk grid of one scale: which voxels each chunk covers, what its key is, and which chunks
// a task box holds. All boxes are in absolute voxel coordinates of the scale, end exclusive.
import { formatBox } from '../../arrays/box.ts';
import type { Box, Vec3 } from '../../arrays/box.ts';
import { FerryError } from '../../errors.ts';

/** The geometry of a scale that the grid needs (a Scale from info.ts satisfies it). */
export interface ScaleGeometry {
  key: string;
  size: Vec3;
  voxel_offset: Vec3;
  chunk_sizes: Vec3[];
}

export function scaleBox(scale: ScaleGeometry): Box {
  const o = scale.voxel_offset;
  return { start: [o[0], o[1], o[2]], end: [o[0] + scale.size[0], o[1] + scale.size[1], o[2] + scale.size[2]] };
}

/** The first chunk shape; Ferry writes one, and readers of sharded scales allow only one. */
export function chunkShape(scale: ScaleGeometry): Vec3 {
  return scale.chunk_sizes[0];
}

export function gridShape(scale: ScaleGeometry): Vec3 {
  const c = chunkShape(scale);
  return [Math.ceil(scale.size[0] / c[0]), Math.ceil(scale.size[1] / c[1]), Math.ceil(scale.size[2] / c[2])];
}

/** Voxels of grid cell `g`, clipped at the far edge of the volume as the format requires. */
export function chunkBox(scale: ScaleGeometry, g: Vec3): Box {
  const c = chunkShape(scale);
  const o = scale.voxel_offset;
  const start: Vec3 = [0, 0, 0];
  const end: Vec3 = [0, 0, 0];
  for (let d = 0; d < 3; d++) {
    start[d] = o[d] + g[d] * c[d];
    end[d] = o[d] + Math.min((g[d] + 1) * c[d], scale.size[d]);
  }
  return { start, end };
}

/** `<key>/x0-x1_y0-y1_z0-z1`, the name Neuroglancer builds for an unsharded chunk. */
export function chunkKey(scale: ScaleGeometry, box: Box): string {
  const [s, e] = [box.start, box.end];
  return `${scale.key}/${s[0]}-${e[0]}_${s[1]}-${e[1]}_${s[2]}-${e[2]}`;
}

export interface GridChunk {
  /** Grid position. */
  g: Vec3;
  /** Voxels the chunk covers (clipped at the volume's bounds). */
  box: Box;
}

/** Every chunk that overlaps `box` (default: the whole scale), x fastest. */
export function* chunksIn(scale: ScaleGeometry, box: Box = scaleBox(scale)): Generator<GridChunk> {
  const c = chunkShape(scale);
  const o = scale.voxel_offset;
  const grid = gridShape(scale);
  const lo: Vec3 = [0, 0, 0];
  const hi: Vec3 = [0, 0, 0];
  for (let d = 0; d < 3; d++) {
    lo[d] = Math.max(0, Math.floor((box.start[d] - o[d]) / c[d]));
    hi[d] = Math.min(grid[d], Math.ceil((box.end[d] - o[d]) / c[d]));
    if (hi[d] <= lo[d]) return;
  }
  for (let z = lo[2]; z < hi[2]; z++) {
    for (let y = lo[1]; y < hi[1]; y++) {
      for (let x = lo[0]; x < hi[0]; x++) {
        const g: Vec3 = [x, y, z];
        yield { g, box: chunkBox(scale, g) };
      }
    }
  }
}

/** Throws unless every side of the task size is a whole number of chunks. */
export function checkTaskSize(scale: ScaleGeometry, taskSize: Vec3): void {
  const c = chunkShape(scale);
  for (let d = 0; d < 3; d++) {
    if (!Number.isInteger(taskSize[d]) || taskSize[d] <= 0 || taskSize[d] % c[d] !== 0) {
      throw new FerryError(`task size ${taskSize.join(',')} is not a multiple of the chunk size ${c.join(',')}`, {
        hint: `use a task size whose every side is a positive multiple of the chunk size, e.g. ${c.map((v) => v * 8).join(',')}`,
      });
    }
  }
}

/**
 * Splits the scale into task boxes of `taskSize` voxels (a multiple of the chunk size) aligned
 * to the chunk grid, clipped at the volume's bounds, so no chunk is shared by two tasks.
 */
export function* taskBoxes(scale: ScaleGeometry, taskSize: Vec3): Generator<Box> {
  checkTaskSize(scale, taskSize);
  const vol = scaleBox(scale);
  const o = scale.voxel_offset;
  for (let z = o[2]; z < vol.end[2]; z += taskSize[2]) {
    for (let y = o[1]; y < vol.end[1]; y += taskSize[1]) {
      for (let x = o[0]; x < vol.end[0]; x += taskSize[0]) {
        yield {
          start: [x, y, z],
          end: [Math.min(x + taskSize[0], vol.end[0]), Math.min(y + taskSize[1], vol.end[1]), Math.min(z + taskSize[2], vol.end[2])],
        };
      }
    }
  }
}

/** Throws unless `box` starts and ends on chunk boundaries (or the volume's far edge). */
export function checkChunkAligned(scale: ScaleGeometry, box: Box): void {
  const c = chunkShape(scale);
  const vol = scaleBox(scale);
  for (let d = 0; d < 3; d++) {
    const startOk = (box.start[d] - vol.start[d]) % c[d] === 0 && box.start[d] >= vol.start[d];
    const endOk = box.end[d] === vol.end[d] || ((box.end[d] - vol.start[d]) % c[d] === 0 && box.end[d] < vol.end[d]);
    if (!startOk || !endOk) {
      throw new FerryError(
        `box ${formatBox(box)} of scale ${scale.key} does not fall on chunk boundaries (chunk ${c.join(',')}, volume ${formatBox(vol)})`,
        { hint: 'write whole chunks: start and end the box on multiples of the chunk size from the voxel offset' },
      );
    }
  }
}
