// A task's slabs, over many odd shapes: their reads tile the task's read box in z, their regions
// tile the task's box of every scale on chunk boundaries, and each region's footprint lies inside
// its slab's read, so writing slab by slab gives exactly what writing the whole task at once does.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Box, Vec3 } from '../arrays/box.ts';
import { checkChunkAligned, scaleBox } from '../formats/precomputed/grid.ts';
import { buildInfo, downsampledScale } from '../formats/precomputed/info.ts';
import type { Scale } from '../formats/precomputed/info.ts';
import { downsampleBox, footprintBox } from './downsample.ts';
import { taskSlabs } from './slabs.ts';
import { ingestTasks, maxScalesPerTask } from './task-grid.ts';

function random(seed: number): () => number {
  let s = seed;
  return () => ((s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
}

const inside = (a: Box, b: Box) => a.start.every((v, d) => v >= b.start[d] && a.end[d] <= b.end[d]);

test('slabs tile the read and every scale on chunk boundaries, each holding the footprints it writes', () => {
  const rnd = random(11);
  const int = (lo: number, hi: number) => lo + Math.floor(rnd() * (hi - lo + 1));
  let split = 0;
  for (let trial = 0; trial < 80; trial++) {
    const chunk: Vec3 = [int(1, 3) * 4, int(1, 3) * 4, int(1, 3) * 2];
    const factor: Vec3 = rnd() < 0.5 ? [2, 2, 1] : [2, 2, 2];
    const taskSize = chunk.map((c, d) => c * factor[d] ** 2 * int(1, 3)) as Vec3;
    const size: Vec3 = [int(5, 90), int(5, 90), int(3, 60)];
    const offset: Vec3 = [int(-9, 9), int(-9, 9), int(-7, 7)];
    let scale: Scale = buildInfo({ type: 'image', dataType: 'uint8', resolution: [4, 4, 40], size, voxelOffset: offset, chunkSize: chunk, encoding: 'raw' }).scales[0];
    const scales: Scale[] = [scale];
    const levels = Math.min(3, maxScalesPerTask(scale, taskSize, factor));
    for (let k = 1; k < levels; k++) scales.push((scale = downsampledScale(scale, factor)));
    const volume = scaleBox(scales[0]);
    const what = `size ${size} offset ${offset} chunk ${chunk} task ${taskSize} factor ${factor}`;
    for (const task of ingestTasks(scales[0], taskSize, factor, levels)) {
      const slabs = taskSlabs(task, scales, factor);
      if (slabs.length > 1) split++;
      assert.equal(slabs[0].read.start[2], task.read.start[2], what);
      assert.equal(slabs[slabs.length - 1].read.end[2], task.read.end[2], what);
      slabs.forEach((slab, j) => {
        assert.deepEqual([slab.read.start.slice(0, 2), slab.read.end.slice(0, 2)], [task.read.start.slice(0, 2), task.read.end.slice(0, 2)], what);
        if (j > 0) assert.equal(slab.read.start[2], slabs[j - 1].read.end[2], `slab ${j} follows on, ${what}`);
        let below = slab.read;
        for (let k = 0; k < levels; k++) {
          const region = slab.regions[k];
          const box = task.boxes[k];
          assert.deepEqual([region.start.slice(0, 2), region.end.slice(0, 2)], [box.start.slice(0, 2), box.end.slice(0, 2)], what);
          checkChunkAligned(scales[k], region);
          if (j > 0) assert.equal(region.start[2], slabs[j - 1].regions[k].end[2], `level ${k} region ${j} follows on, ${what}`);
          // What the slab's downsampling covers, and every full-resolution voxel its outputs average.
          assert.ok(inside(region, below), `level ${k} region of slab ${j} is made from the slab, ${what}`);
          const need = footprintBox(region, factor, k, volume);
          assert.ok(inside(need, slab.read), `level ${k} region of slab ${j} has its footprint in the slab, ${what}`);
          below = downsampleBox(below, factor);
        }
      });
      for (let k = 0; k < levels; k++) {
        assert.equal(slabs[0].regions[k].start[2], task.boxes[k].start[2], what);
        assert.equal(slabs[slabs.length - 1].regions[k].end[2], task.boxes[k].end[2], what);
      }
    }
  }
  assert.ok(split > 20, `tasks deeper than a chunk are split (${split})`);
});

test('a deep task of 64^3 chunks is read 64 sections at a time, 128 with a 2x2x2 scale', () => {
  const info = buildInfo({ type: 'image', dataType: 'uint8', resolution: [4, 4, 40], size: [2048, 2048, 256], voxelOffset: [0, 0, 0], chunkSize: [64, 64, 64], encoding: 'raw' });
  const s0 = info.scales[0];
  const [one] = ingestTasks(s0, [2048, 2048, 256], [2, 2, 1], 1);
  assert.deepEqual(taskSlabs(one, [s0], [2, 2, 1]).map((s) => [s.read.start[2], s.read.end[2]]), [[0, 64], [64, 128], [128, 192], [192, 256]]);
  const iso = [s0, downsampledScale(s0, [2, 2, 2])];
  const [two] = ingestTasks(s0, [2048, 2048, 256], [2, 2, 2], 2);
  const slabs = taskSlabs(two, iso, [2, 2, 2]);
  assert.deepEqual(slabs.map((s) => [s.read.start[2], s.read.end[2]]), [[0, 128], [128, 256]]);
  assert.deepEqual(slabs.map((s) => [s.regions[1].start[2], s.regions[1].end[2]]), [[0, 64], [64, 128]]);
});
