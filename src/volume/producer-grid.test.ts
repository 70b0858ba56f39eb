// ChunkFlow's task grid: the box its producer's tasks cover, against an enumeration of the tasks
// as get_origin_set makes them; trimmed to the data on task boundaries.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Box, Vec3 } from '../arrays/box.ts';
import { checkProducerGrid, outside, producerGridBox, trimToData } from './producer-grid.ts';
import type { ProducerGrid } from './producer-grid.ts';

/** Every task as ChunkFlow makes it: origin + (g - 1) * stride, cutting 1-based origin .. origin + cutout - 1. */
function chunkflowTasks(g: ProducerGrid): { first: Vec3; last: Vec3 }[] {
  const out: { first: Vec3; last: Vec3 }[] = [];
  for (let gz = 1; gz <= g.count[2]; gz++) {
    for (let gy = 1; gy <= g.count[1]; gy++) {
      for (let gx = 1; gx <= g.count[0]; gx++) {
        const origin = [gx, gy, gz].map((gi, d) => g.origin[d] + (gi - 1) * g.stride[d]) as Vec3;
        out.push({ first: origin, last: origin.map((o, d) => o + g.cutout[d] - 1) as Vec3 });
      }
    }
  }
  return out;
}

test("the grid's box is the union of ChunkFlow's cutouts, 0-based and end exclusive", () => {
  const grids: ProducerGrid[] = [
    { origin: [-16383, -4095, 1], count: [5, 4, 3], stride: [2048, 2048, 64], cutout: [4096, 4096, 64] },
    { origin: [1, 1, 1], count: [2, 3, 1], stride: [64, 64, 8], cutout: [64, 64, 8] },
    { origin: [-7, 5, 3], count: [1, 1, 2], stride: [10, 10, 4], cutout: [16, 16, 4] },
  ];
  for (const g of grids) {
    const tasks = chunkflowTasks(g);
    const union: Box = {
      start: [0, 1, 2].map((d) => Math.min(...tasks.map((t) => t.first[d])) - 1) as Vec3,
      end: [0, 1, 2].map((d) => Math.max(...tasks.map((t) => t.last[d]))) as Vec3,
    };
    assert.deepEqual(producerGridBox(g), union, JSON.stringify(g));
  }
  // The seed's command: taskproducer.jl -o -16383,-4095,1 -s 2048,2048,64 -g 50,44,16 with cutouts of 4096,4096,64.
  assert.deepEqual(producerGridBox({ origin: [-16383, -4095, 1], count: [50, 44, 16], stride: [2048, 2048, 64], cutout: [4096, 4096, 64] }), {
    start: [-16384, -4096, 0],
    end: [88064, 88064, 1024],
  });
});

test('trimming keeps the rows, columns and planes of tasks that hold data, on task boundaries', () => {
  const grid: Box = { start: [-100, -50, 0], end: [540, 270, 64] };
  const step: Vec3 = [64, 64, 16];
  assert.deepEqual(trimToData(grid, step, { start: [-30, 20, 3], end: [100, 200, 20] }), { start: [-36, 14, 0], end: [156, 206, 32] });
  // Data past the grid's far edge: the last task ends at the grid's end.
  assert.deepEqual(trimToData(grid, step, { start: [500, 260, 60], end: [900, 900, 90] }), { start: [476, 206, 48], end: [540, 270, 64] });
  assert.throws(() => trimToData(grid, step, { start: [600, 0, 0], end: [700, 10, 10] }), /the task grid covers \[-100,-50,0\]\.\.\[540,270,64\] of the source, which holds none of its data/);
});

test('a stride wider than the cutout would leave gaps: refused; data outside the grid is reported per axis', () => {
  assert.throws(() => checkProducerGrid({ origin: [1, 1, 1], count: [2, 2, 1], stride: [128, 64, 8], cutout: [64, 64, 8] }), /wider than the cutout size 64,64,8/);
  checkProducerGrid({ origin: [1, 1, 1], count: [1, 2, 1], stride: [128, 64, 8], cutout: [64, 64, 8] });
  assert.deepEqual(outside({ start: [-10, 0, 0], end: [100, 50, 5] }, { start: [0, 0, 0], end: [90, 64, 5] }), ['x: 10 below, 10 above']);
  assert.deepEqual(outside({ start: [0, 0, 0], end: [10, 10, 10] }, { start: [0, 0, 0], end: [10, 10, 10] }), []);
});
