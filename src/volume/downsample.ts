// Downsampling for image pyramids: several levels from one block, in one pass per level.
// Images are averaged from running sums in float64, so level n is the exact mean of its whole
// footprint at full resolution, rounded once (repeated integer averaging loses grey levels).
// Segmentation takes the most frequent label of each footprint, level by level. Bounds are
// exact for odd sizes and offsets: level n covers [floor(start / f^n), ceil(end / f^n)).
import { boxShape, boxVoxels } from '../arrays/box.ts';
import type { Box, Vec3 } from '../arrays/box.ts';
import { allocateVoxels, dataTypeOf } from '../arrays/voxels.ts';
import type { DataType, VoxelArray } from '../arrays/voxels.ts';
import { FerryError } from '../errors.ts';

export type DownsampleMethod = 'average' | 'mode';

export interface DownsampleInput {
  /** Voxels of `box`, [x, y, z, c] with x fastest. */
  data: VoxelArray;
  /** Absolute voxel coordinates the data covers. Start it on a multiple of f^levels (or the
   * volume's start) and end it on one (or the volume's end) so no output voxel is cut. */
  box: Box;
  channels?: number;
  /** Per-level factor, e.g. [2, 2, 1] or [2, 2, 2]. */
  factor: Vec3;
  levels: number;
  method: DownsampleMethod;
}

export interface DownsampledLevel {
  box: Box;
  data: VoxelArray;
}

/** The box one level down: [floor(start/f), ceil(end/f)). */
export function downsampleBox(box: Box, f: Vec3): Box {
  return {
    start: [Math.floor(box.start[0] / f[0]), Math.floor(box.start[1] / f[1]), Math.floor(box.start[2] / f[2])],
    end: [Math.ceil(box.end[0] / f[0]), Math.ceil(box.end[1] / f[1]), Math.ceil(box.end[2] / f[2])],
  };
}

/**
 * The full-resolution voxels under `levelBox` of level `levels`, clipped to the volume: the box a
 * task must read so that every output voxel it writes sees its whole footprint. With an offset
 * that is not a multiple of f^levels this reaches past the chunk grid of the finest scale.
 */
export function footprintBox(levelBox: Box, factor: Vec3, levels: number, volume: Box): Box {
  const start: Vec3 = [0, 0, 0];
  const end: Vec3 = [0, 0, 0];
  for (let d = 0; d < 3; d++) {
    const F = factor[d] ** levels;
    start[d] = Math.max(levelBox.start[d] * F, volume.start[d]);
    end[d] = Math.min(levelBox.end[d] * F, volume.end[d]);
  }
  return { start, end };
}

/** Throws unless `box` cuts no footprint of level `levels` (edges on multiples of f^levels or the volume's). */
export function checkDownsampleBlock(box: Box, factor: Vec3, levels: number, volume: Box): void {
  for (let d = 0; d < 3; d++) {
    const F = factor[d] ** levels;
    const startOk = box.start[d] === volume.start[d] || box.start[d] % F === 0;
    const endOk = box.end[d] === volume.end[d] || box.end[d] % F === 0;
    if (!startOk || !endOk) {
      throw new FerryError(`block [${box.start.join(',')}]..[${box.end.join(',')}] cuts through voxels of downsampling level ${levels} (factor ${factor.join(',')})`, {
        hint: 'read the block given by footprintBox() for the output box the task writes',
      });
    }
  }
}

/** Output boxes of levels 1..levels, in order. */
export function downsampleBoxes(box: Box, factor: Vec3, levels: number): Box[] {
  const boxes: Box[] = [];
  for (let l = 0; l < levels; l++) boxes.push((box = downsampleBox(box, factor)));
  return boxes;
}

/** Output boxes and data of levels 1..levels, in order. */
export function downsample(input: DownsampleInput): DownsampledLevel[] {
  const out = prepare(input);
  for (const _ of steps(input, out));
  return out;
}

export interface DownsampleAsyncOptions {
  /** Arrays to fill, one per level, each of its box's size (reused buffers), instead of new ones. */
  into?: VoxelArray[];
  /** Longest stretch computed before other work on the main thread gets a turn (default 4 ms). */
  sliceMs?: number;
}

/**
 * downsample(), a z-slab at a time with the event loop let in between: a task downsamples one
 * slab while it cuts and compresses another, and a long computation in one go would leave the
 * compressing threads without new chunks.
 */
export async function downsampleAsync(input: DownsampleInput, opts: DownsampleAsyncOptions = {}): Promise<DownsampledLevel[]> {
  const out = prepare(input, opts.into);
  const slice = opts.sliceMs ?? 4;
  let since = performance.now();
  for (const _ of steps(input, out)) {
    if (performance.now() - since < slice) continue;
    await new Promise((resolve) => setImmediate(resolve));
    since = performance.now();
  }
  return out;
}

function prepare(input: DownsampleInput, into?: VoxelArray[]): DownsampledLevel[] {
  const channels = input.channels ?? 1;
  const { factor, levels } = input;
  if (factor.some((f) => !Number.isInteger(f) || f < 1) || !Number.isInteger(levels) || levels < 1) {
    throw new FerryError(`cannot downsample by ${factor.join(',')} for ${levels} levels`, {
      hint: 'use a positive integer factor per axis (2,2,1 or 2,2,2) and at least one level',
    });
  }
  if (input.data.length !== boxVoxels(input.box) * channels) {
    throw new FerryError(`downsample input holds ${input.data.length} voxels; its box and channels need ${boxVoxels(input.box) * channels}`);
  }
  const type = dataTypeOf(input.data);
  if (input.method === 'average' && type === 'uint64') {
    throw new FerryError('averaging uint64 voxels is not supported', { hint: 'downsample uint64 (segmentation) volumes with the mode method' });
  }
  return downsampleBoxes(input.box, factor, levels).map((b, l) => {
    const n = boxVoxels(b) * channels;
    const data = into?.[l];
    if (data && (data.length !== n || dataTypeOf(data) !== type)) throw new FerryError(`level ${l + 1} needs ${n} ${type} voxels, was given ${data.length} ${dataTypeOf(data)}`);
    return { box: b, data: data ?? allocateVoxels(type, n) };
  });
}

/** Fills `out`, yielding after each z-slab. */
function* steps(input: DownsampleInput, out: DownsampledLevel[]): Generator<void> {
  const channels = input.channels ?? 1;
  const { factor, levels } = input;
  const type = dataTypeOf(input.data);
  const n0 = boxVoxels(input.box);
  const [sx, sy] = boxShape(input.box);
  // Running sums, one array per level, reused from slab to slab.
  const sums: Float64Array[] = [];
  // Footprints never cross a multiple of f_z^levels in z, so the block is done in slabs between
  // them: the running sums stay small enough for the cache, and every output plane of a slab is
  // a contiguous run of its level's array (z is the slowest axis within a channel).
  const slab = factor[2] ** levels;
  for (let c = 0; c < channels; c++) {
    for (let z0 = input.box.start[2]; z0 < input.box.end[2]; ) {
      const z1 = Math.min((Math.floor(z0 / slab) + 1) * slab, input.box.end[2]);
      const slabBox: Box = { start: [input.box.start[0], input.box.start[1], z0], end: [input.box.end[0], input.box.end[1], z1] };
      const from = c * n0 + (z0 - input.box.start[2]) * sx * sy;
      const src = input.data.subarray(from, from + (z1 - z0) * sx * sy) as VoxelArray;
      let lb = slabBox;
      const targets = out.map((level) => {
        lb = downsampleBox(lb, factor);
        const [nx, ny, nz] = boxShape(level.box);
        const start = c * nx * ny * nz + (lb.start[2] - level.box.start[2]) * nx * ny;
        return { box: lb, data: level.data.subarray(start, start + boxVoxels(lb)) as VoxelArray };
      });
      if (input.method === 'average') averageSlab(type, src, slabBox, factor, targets, sums);
      else modeSlab(src, slabBox, factor, targets);
      z0 = z1;
      yield;
    }
  }
}

/** For each index along one axis of `from`, the index along that axis of the box below it. */
function axisMap(from: Box, to: Box, f: Vec3, d: number): Int32Array {
  const n = from.end[d] - from.start[d];
  const m = new Int32Array(n);
  for (let i = 0; i < n; i++) m[i] = Math.floor((from.start[d] + i) / f[d]) - to.start[d];
  return m;
}

/** Adds every voxel of `src` (holding `from`) into its parent voxel in `dst` (holding `to`). */
function accumulate(src: ArrayLike<number>, from: Box, dst: Float64Array, to: Box, f: Vec3): void {
  const [sx, sy, sz] = boxShape(from);
  const [dx, dy] = boxShape(to);
  const mx = axisMap(from, to, f, 0);
  const my = axisMap(from, to, f, 1);
  const mz = axisMap(from, to, f, 2);
  // x by 2 is nearly every pyramid: add pairs, after a lone first voxel when x starts odd.
  const head = f[0] === 2 ? from.start[0] & 1 : -1;
  let i = 0;
  for (let z = 0; z < sz; z++) {
    const oz = mz[z] * dx * dy;
    for (let y = 0; y < sy; y++) {
      const row = oz + my[y] * dx;
      const rowEnd = i + sx;
      if (head < 0) {
        for (let x = 0; x < sx; x++) dst[row + mx[x]] += src[i++];
        continue;
      }
      let o = row;
      if (head === 1) dst[o++] += src[i++];
      for (const pairsEnd = rowEnd - ((rowEnd - i) & 1); i < pairsEnd; i += 2) dst[o++] += src[i] + src[i + 1];
      if (i < rowEnd) dst[o] += src[i++];
    }
  }
}

/** Voxels of level-0 `box` under each output index along axis d of `to` (at total factor F). */
function axisCounts(box: Box, to: Box, F: number, d: number): Float64Array {
  const n = to.end[d] - to.start[d];
  const c = new Float64Array(n);
  for (let o = 0; o < n; o++) {
    const lo = Math.max((to.start[d] + o) * F, box.start[d]);
    const hi = Math.min((to.start[d] + o + 1) * F, box.end[d]);
    c[o] = hi - lo;
  }
  return c;
}

/**
 * Averages one slab into its part of every level (`out[i].data` holds exactly `out[i].box`),
 * with `scratch[i]` (grown as needed) for the running sums of level i.
 */
function averageSlab(type: DataType, src: VoxelArray, box: Box, f: Vec3, out: DownsampledLevel[], scratch: Float64Array[]): void {
  const round = type !== 'float32';
  let sums: Float64Array | undefined;
  let prev = box;
  const F: Vec3 = [1, 1, 1];
  for (const [l, level] of out.entries()) {
    const n = boxVoxels(level.box);
    if (!scratch[l] || scratch[l].length < n) scratch[l] = new Float64Array(n);
    const next = scratch[l].subarray(0, n).fill(0);
    accumulate(sums ?? (src as ArrayLike<number>), prev, next, level.box, f);
    for (let d = 0; d < 3; d++) F[d] *= f[d];
    const cx = axisCounts(box, level.box, F[0], 0);
    const cy = axisCounts(box, level.box, F[1], 1);
    const cz = axisCounts(box, level.box, F[2], 2);
    const [nx, ny, nz] = boxShape(level.box);
    const dst = level.data as Float32Array;
    let i = 0;
    for (let z = 0; z < nz; z++) {
      for (let y = 0; y < ny; y++) {
        const cyz = cy[y] * cz[z];
        for (let x = 0; x < nx; x++, i++) {
          const mean = next[i] / (cx[x] * cyz);
          dst[i] = round ? Math.round(mean) : mean;
        }
      }
    }
    sums = next;
    prev = level.box;
  }
}

/** Where each output index along axis d begins and ends in `from`. */
function axisRanges(from: Box, to: Box, f: number, d: number): { begin: Int32Array; end: Int32Array } {
  const n = to.end[d] - to.start[d];
  const begin = new Int32Array(n);
  const end = new Int32Array(n);
  for (let o = 0; o < n; o++) {
    begin[o] = Math.max((to.start[d] + o) * f, from.start[d]) - from.start[d];
    end[o] = Math.min((to.start[d] + o + 1) * f, from.end[d]) - from.start[d];
  }
  return { begin, end };
}

/** Takes the mode of one slab into its part of every level, each level from the one above. */
function modeSlab(src: VoxelArray, box: Box, f: Vec3, out: DownsampledLevel[]): void {
  let prevData = src;
  let prev = box;
  const values: (number | bigint)[] = new Array(f[0] * f[1] * f[2]);
  for (const level of out) {
    const [px, py] = boxShape(prev);
    const [nx, ny, nz] = boxShape(level.box);
    const dst = level.data as Uint32Array;
    const rx = axisRanges(prev, level.box, f[0], 0);
    const ry = axisRanges(prev, level.box, f[1], 1);
    const rz = axisRanges(prev, level.box, f[2], 2);
    const from = prevData as Uint32Array;
    let i = 0;
    for (let z = 0; z < nz; z++) {
      for (let y = 0; y < ny; y++) {
        for (let x = 0; x < nx; x++, i++) {
          let k = 0;
          for (let zz = rz.begin[z]; zz < rz.end[z]; zz++) {
            for (let yy = ry.begin[y]; yy < ry.end[y]; yy++) {
              const row = (zz * py + yy) * px;
              for (let xx = rx.begin[x]; xx < rx.end[x]; xx++) values[k++] = from[row + xx];
            }
          }
          dst[i] = mostFrequent(values, k) as number;
        }
      }
    }
    prevData = dst as VoxelArray;
    prev = level.box;
  }
}

/** The most frequent of values[0..k); on a tie, the one seen first. */
function mostFrequent(values: (number | bigint)[], k: number): number | bigint {
  let best = values[0];
  let bestCount = 0;
  for (let a = 0; a < k; a++) {
    if (k - a <= bestCount) break;
    let count = 1;
    for (let b = a + 1; b < k; b++) if (values[b] === values[a]) count++;
    if (count > bestCount) {
      best = values[a];
      bestCount = count;
    }
  }
  return best;
}
