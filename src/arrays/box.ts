// Points and boxes of a 3D voxel grid, [x, y, z]. A box is end exclusive, in whatever coordinates
// its user works in (a scale's absolute voxels, a task's, a section stack's from 0).
export type Vec3 = [number, number, number];

export interface Box {
  start: Vec3;
  end: Vec3;
}

export function boxShape(b: Box): Vec3 {
  return [b.end[0] - b.start[0], b.end[1] - b.start[1], b.end[2] - b.start[2]];
}

export function boxVoxels(b: Box): number {
  const s = boxShape(b);
  return Math.max(0, s[0]) * Math.max(0, s[1]) * Math.max(0, s[2]);
}

export function intersectBoxes(a: Box, b: Box): Box | undefined {
  const start: Vec3 = [0, 0, 0];
  const end: Vec3 = [0, 0, 0];
  for (let d = 0; d < 3; d++) {
    start[d] = Math.max(a.start[d], b.start[d]);
    end[d] = Math.min(a.end[d], b.end[d]);
    if (end[d] <= start[d]) return undefined;
  }
  return { start, end };
}

export function formatBox(b: Box): string {
  return `[${b.start.join(',')}]..[${b.end.join(',')}]`;
}
