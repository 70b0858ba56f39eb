// A task is read and written one z-slab at a time, so it holds a few sections' worth of voxels
// instead of its whole box, and decoding the next slab overlaps compressing this one. A slab
// boundary must cut no chunk of any scale the task writes and no footprint of any of their
// voxels: a full-resolution z that is a multiple of every level's factor and, divided by it, a
// chunk boundary of that level inside the task's box.
import type { Box, Vec3 } from '../arrays/box.ts';
import { chunkShape } from '../formats/precomputed/grid.ts';
import type { ScaleGeometry } from '../formats/precomputed/grid.ts';
import type { IngestTask } from './task-grid.ts';

export interface Slab {
  /** Full-resolution voxels (absolute) the slab reads: all of the task's read box in x and y. */
  read: Box;
  /** The part of the task's box of each scale that the slab writes. */
  regions: Box[];
}

/** The task's slabs, in z order; one slab (the whole task) when no boundary fits. */
export function taskSlabs(task: IngestTask, scales: ScaleGeometry[], factor: Vec3): Slab[] {
  const levels = task.boxes.length;
  const F = Array.from({ length: levels }, (_, k) => factor[2] ** k);
  const isCut = (p: number) => {
    for (let k = 0; k < levels; k++) {
      if (p % F[k] !== 0) return false;
      const q = p / F[k];
      const box = task.boxes[k];
      if (q <= box.start[2] || q >= box.end[2]) return false;
      if ((q - scales[k].voxel_offset[2]) % chunkShape(scales[k])[2] !== 0) return false;
    }
    return true;
  };
  const cuts = [task.read.start[2]];
  // Boundaries are multiples of the coarsest factor: step by it.
  const top = F[levels - 1];
  for (let p = Math.ceil((task.read.start[2] + 1) / top) * top; p < task.read.end[2]; p += top) if (isCut(p)) cuts.push(p);
  cuts.push(task.read.end[2]);
  const slabs: Slab[] = [];
  for (let j = 0; j + 1 < cuts.length; j++) {
    const first = j === 0;
    const last = j + 2 === cuts.length;
    slabs.push({
      read: { start: [task.read.start[0], task.read.start[1], cuts[j]], end: [task.read.end[0], task.read.end[1], cuts[j + 1]] },
      regions: task.boxes.map((box, k) => ({
        start: [box.start[0], box.start[1], first ? box.start[2] : cuts[j] / F[k]],
        end: [box.end[0], box.end[1], last ? box.end[2] : cuts[j + 1] / F[k]],
      })),
    });
  }
  return slabs;
}
