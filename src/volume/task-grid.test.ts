// The task grid's promises, over many odd shapes: at every scale the tasks' boxes cover the
// scale exactly once and fall on chunk boundaries, each task reads every voxel its outputs
// average over, and with sharding every shard lies inside one task.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { boxVoxels, intersectBoxes } from '../arrays/box.ts';
import type { Vec3 } from '../arrays/box.ts';
import { checkChunkAligned, scaleBox } from '../formats/precomputed/grid.ts';
import { buildInfo, downsampledScale } from '../formats/precomputed/info.ts';
import type { Scale } from '../formats/precomputed/info.ts';
import { shardBoxes } from '../formats/precomputed/sharding.ts';
import { footprintBox } from './downsample.ts';
import { checkScalesFit, ingestTasks, maxScalesPerTask, shardingForTasks, taskCounts } from './task-grid.ts';

function random(seed: number): () => number {
  let s = seed;
  return () => ((s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
}

test('task boxes tile every scale once, on chunk boundaries, and reads cover every footprint (odd sizes and offsets)', () => {
  const rnd = random(7);
  const int = (lo: number, hi: number) => lo + Math.floor(rnd() * (hi - lo + 1));
  for (let trial = 0; trial < 60; trial++) {
    const chunk: Vec3 = [int(1, 3) * 4, int(1, 3) * 4, int(1, 2) * 2];
    const factor: Vec3 = rnd() < 0.5 ? [2, 2, 1] : [2, 2, 2];
    const taskSize = chunk.map((c, d) => c * factor[d] ** 2 * int(1, 2)) as Vec3;
    const size: Vec3 = [int(5, 90), int(5, 90), int(3, 30)];
    const offset: Vec3 = [int(-9, 9), int(-9, 9), int(-5, 5)];
    let scale: Scale = buildInfo({ type: 'image', dataType: 'uint8', resolution: [4, 4, 40], size, voxelOffset: offset, chunkSize: chunk, encoding: 'raw' }).scales[0];
    const scales: Scale[] = [scale];
    const levels = Math.min(3, maxScalesPerTask(scale, taskSize, factor));
    checkScalesFit(scale, taskSize, factor, levels);
    for (let k = 1; k < levels; k++) scales.push((scale = downsampledScale(scale, factor)));
    const tasks = [...ingestTasks(scales[0], taskSize, factor, levels)];
    const what = `size ${size} offset ${offset} chunk ${chunk} task ${taskSize} factor ${factor}`;
    for (let k = 0; k < levels; k++) {
      const boxes = tasks.map((t) => t.boxes[k]);
      assert.equal(boxes.reduce((n, b) => n + boxVoxels(b), 0), boxVoxels(scaleBox(scales[k])), `scale ${k} voxels, ${what}`);
      for (let i = 0; i < boxes.length; i++) {
        checkChunkAligned(scales[k], boxes[i]);
        for (let j = i + 1; j < boxes.length; j++) assert.equal(intersectBoxes(boxes[i], boxes[j]), undefined, `tasks ${i} and ${j} overlap at scale ${k}, ${what}`);
      }
      for (const t of tasks) {
        const need = footprintBox(t.boxes[k], factor, k, scaleBox(scales[0]));
        assert.deepEqual(intersectBoxes(need, t.read), need, `task ${t.key} reads its level ${k} footprint, ${what}`);
      }
    }
  }
});

test('sharded scales: every shard lies inside one task box at every level', () => {
  const chunk: Vec3 = [16, 16, 8];
  const taskSize: Vec3 = [128, 128, 32];
  const factor: Vec3 = [2, 2, 1];
  let scale: Scale = buildInfo({ type: 'image', dataType: 'uint16', resolution: [4, 4, 40], size: [300, 270, 70], voxelOffset: [3, -5, 1], chunkSize: chunk, encoding: 'raw' }).scales[0];
  const scales = [scale];
  for (let k = 1; k < 3; k++) scales.push((scale = downsampledScale(scale, factor)));
  const counts = taskCounts(scales[0], taskSize);
  const tasks = [...ingestTasks(scales[0], taskSize, factor, 3)];
  scales.forEach((s, k) => {
    const taskChunks = [0, 1, 2].map((d) => taskSize[d] / factor[d] ** k / chunk[d]) as Vec3;
    const spec = shardingForTasks(s, taskChunks, counts, { voxelBytes: 2, dataEncoding: 'gzip' });
    const shards = [...shardBoxes(s, spec)];
    assert.ok(shards.length >= tasks.length, `scale ${k}: at least one shard per task (${shards.length})`);
    for (const { box } of shards) {
      const owners = tasks.filter((t) => intersectBoxes(t.boxes[k], box));
      assert.equal(owners.length, 1, `shard ${JSON.stringify(box)} of scale ${k} has ${owners.length} writers`);
      assert.deepEqual(intersectBoxes(owners[0].boxes[k], box), box);
    }
  });
  assert.throws(() => shardingForTasks(scales[0], [3, 8, 4], counts, { voxelBytes: 2, dataEncoding: 'gzip' }), /power of two of chunks/);
});
