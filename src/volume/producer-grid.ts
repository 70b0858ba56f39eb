// ChunkFlow's task grid, as its task producer makes it (seung-lab/ChunkFlow.jl at 47bef215,
// src/utils/producer.jl get_origin_set, and src/edges/cutoutchunk.jl): for grid index g from 1 to
// -g on each axis, a task whose `origin` is origin + (g - 1) * stride (-o, -s), which cuts out the
// 1-based, inclusive range origin .. origin + cutoutSize - 1 of the source (AlignedBigArray's
// 1-based aligned index) and writes it at origin - 1 + offset of the volume (BigArrays names a
// chunk by its 1-based range as (start - 1)-(stop), src/index.jl at 1b9126d). In 0-based source
// coordinates, end exclusive, the tasks together cover [origin - 1, origin - 1 + (g - 1) * stride +
// cutoutSize). Ferry writes that box once, in tasks `stride` apart from its start (ChunkFlow's
// cutouts overlap when the stride is smaller than the cutout: the overlap is written twice there).
import { boxShape, formatBox, intersectBoxes } from '../arrays/box.ts';
import type { Box, Vec3 } from '../arrays/box.ts';
import { FerryError } from '../errors.ts';

export interface ProducerGrid {
  /** The first task's origin, 1-based (taskproducer.jl -o). */
  origin: Vec3;
  /** Tasks along each axis (-g). */
  count: Vec3;
  /** From one task's origin to the next (-s). */
  stride: Vec3;
  /** Voxels each task cuts out (the config's cutoutSize). */
  cutout: Vec3;
}

export function checkProducerGrid(g: ProducerGrid): void {
  for (let d = 0; d < 3; d++) {
    if (!Number.isInteger(g.count[d]) || g.count[d] < 1) throw new FerryError(`--grid ${g.count.join(',')} must be whole numbers of tasks, at least 1`, { kind: 'usage' });
    if (g.stride[d] > g.cutout[d] && g.count[d] > 1) {
      throw new FerryError(`a stride of ${g.stride.join(',')} is wider than the cutout size ${g.cutout.join(',')}: ChunkFlow would leave gaps between the tasks`, {
        hint: 'use a stride no wider than the cutout (task) size; Ferry ingests whole boxes',
        kind: 'usage',
      });
    }
  }
}

/** The box (0-based source coordinates, end exclusive) the grid's tasks cover together. */
export function producerGridBox(g: ProducerGrid): Box {
  const start = [0, 1, 2].map((d) => g.origin[d] - 1) as Vec3;
  const end = [0, 1, 2].map((d) => start[d] + (g.count[d] - 1) * g.stride[d] + g.cutout[d]) as Vec3;
  return { start, end };
}

/**
 * `box` (a grid's) cut down to the rows, columns and planes of its tasks (`step` apart from its
 * start, the last one up to its end) that hold any of `data`: empty tasks at the edges are left
 * out, and the volume stays on the grid. Throws when the grid holds none of the data.
 */
export function trimToData(box: Box, step: Vec3, data: Box): Box {
  const common = intersectBoxes(box, data);
  if (!common) {
    throw new FerryError(`the task grid covers ${formatBox(box)} of the source, which holds none of its data (at ${formatBox(data)})`, {
      hint: 'move --origin or widen --grid so that the grid covers the sections (1-based coordinates, as taskproducer.jl -o)',
      kind: 'usage',
    });
  }
  const start = [0, 1, 2].map((d) => box.start[d] + Math.floor((common.start[d] - box.start[d]) / step[d]) * step[d]) as Vec3;
  const end = [0, 1, 2].map((d) => Math.min(box.end[d], box.start[d] + Math.ceil((common.end[d] - box.start[d]) / step[d]) * step[d])) as Vec3;
  return { start, end };
}

/** Where `inner` reaches outside `outer`, per axis, for a warning ("x: 3 voxels below, 10 above"). */
export function outside(inner: Box, outer: Box): string[] {
  const out: string[] = [];
  const shape = boxShape(inner);
  ['x', 'y', 'z'].forEach((axis, d) => {
    const below = Math.min(shape[d], Math.max(0, outer.start[d] - inner.start[d]));
    const above = Math.min(shape[d], Math.max(0, inner.end[d] - outer.end[d]));
    if (below > 0 || above > 0) out.push(`${axis}: ${below} below, ${above} above`);
  });
  return out;
}
