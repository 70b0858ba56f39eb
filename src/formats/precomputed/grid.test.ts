import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FerryError } from '../../errors.ts';
import { checkChunkAligned, checkTaskSize, chunkBox, chunkKey, chunksIn, gridShape, taskBoxes } from './grid.ts';
import type { ScaleGeometry } from './grid.ts';

const scale: ScaleGeometry = { key: '4_4_40', size: [100, 70, 10], voxel_offset: [10, -20, 5], chunk_sizes: [[32, 32, 4]] };

test('chunk names use absolute voxel coordinates and are clipped at the far edge', () => {
  assert.deepEqual(gridShape(scale), [4, 3, 3]);
  assert.equal(chunkKey(scale, chunkBox(scale, [0, 0, 0])), '4_4_40/10-42_-20-12_5-9');
  assert.equal(chunkKey(scale, chunkBox(scale, [3, 2, 2])), '4_4_40/106-110_44-50_13-15');
});

test('iterates exactly the chunks a box overlaps, x fastest', () => {
  const keys = [...chunksIn(scale, { start: [40, -20, 5], end: [75, 13, 9] })].map((c) => chunkKey(scale, c.box));
  assert.deepEqual(keys, [
    '4_4_40/10-42_-20-12_5-9',
    '4_4_40/42-74_-20-12_5-9',
    '4_4_40/74-106_-20-12_5-9',
    '4_4_40/10-42_12-44_5-9',
    '4_4_40/42-74_12-44_5-9',
    '4_4_40/74-106_12-44_5-9',
  ]);
  assert.equal([...chunksIn(scale)].length, 4 * 3 * 3);
  assert.equal([...chunksIn(scale, { start: [0, 0, 0], end: [10, 10, 10] })].length, 0);
});

test('task boxes tile the volume on chunk boundaries, clipped at the bounds', () => {
  const boxes = [...taskBoxes(scale, [64, 64, 8])];
  assert.equal(boxes.length, 2 * 2 * 2);
  assert.deepEqual(boxes[0], { start: [10, -20, 5], end: [74, 44, 13] });
  assert.deepEqual(boxes[7], { start: [74, 44, 13], end: [110, 50, 15] });
  const covered = boxes.reduce((n, b) => n + [...chunksIn(scale, b)].length, 0);
  assert.equal(covered, 36, 'every chunk belongs to exactly one task');
});

test('a task size that is not a multiple of the chunk size is refused with a hint', () => {
  assert.throws(
    () => checkTaskSize(scale, [64, 48, 8]),
    (e: unknown) => e instanceof FerryError && /not a multiple of the chunk size 32,32,4/.test(e.message) && /256,256,32/.test(e.hint ?? ''),
  );
  assert.throws(() => [...taskBoxes(scale, [0, 64, 8])], /not a multiple/);
});

test('a block must start and end on chunk boundaries or the volume edge', () => {
  checkChunkAligned(scale, { start: [42, -20, 5], end: [110, 12, 15] });
  assert.throws(() => checkChunkAligned(scale, { start: [41, -20, 5], end: [110, 12, 15] }), /does not fall on chunk boundaries/);
  assert.throws(() => checkChunkAligned(scale, { start: [42, -20, 5], end: [100, 12, 15] }), /does not fall on chunk boundaries/);
});
