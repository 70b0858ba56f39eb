import { test } from 'node:test';
import assert from 'node:assert/strict';
import { boxShape, boxVoxels } from '../arrays/box.ts';
import type { Box, Vec3 } from '../arrays/box.ts';
import { downsampledBounds } from '../formats/precomputed/info.ts';
import { checkDownsampleBlock, downsample, downsampleAsync, downsampleBox, downsampleBoxes, footprintBox } from './downsample.ts';

/** Level-n voxel = rounded mean of every full-resolution voxel under it, computed the slow way. */
function exactMeans(data: ArrayLike<number>, box: Box, f: Vec3, level: number, round = true): { box: Box; data: number[] } {
  const F = f.map((v) => v ** level) as Vec3;
  let out = box;
  for (let l = 0; l < level; l++) out = downsampleBox(out, f);
  const [sx, sy] = boxShape(box);
  const [nx, ny, nz] = boxShape(out);
  const values: number[] = [];
  for (let z = 0; z < nz; z++)
    for (let y = 0; y < ny; y++)
      for (let x = 0; x < nx; x++) {
        let sum = 0;
        let n = 0;
        const o = [out.start[0] + x, out.start[1] + y, out.start[2] + z];
        for (let c = Math.max(o[2] * F[2], box.start[2]); c < Math.min((o[2] + 1) * F[2], box.end[2]); c++)
          for (let b = Math.max(o[1] * F[1], box.start[1]); b < Math.min((o[1] + 1) * F[1], box.end[1]); b++)
            for (let a = Math.max(o[0] * F[0], box.start[0]); a < Math.min((o[0] + 1) * F[0], box.end[0]); a++) {
              sum += data[(c - box.start[2]) * sx * sy + (b - box.start[1]) * sx + (a - box.start[0])];
              n++;
            }
        values.push(round ? Math.round(sum / n) : sum / n);
      }
  return { box: out, data: values };
}

function random(n: number, max: number, seed = 1): number[] {
  let s = seed;
  return Array.from({ length: n }, () => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return (s >>> 8) % max;
  });
}

test('2x2x1 averaging of a small block gives the rounded mean of each 2x2 square', () => {
  const data = Uint8Array.from([10, 20, 30, 41, 10, 20, 30, 40]); // 4 x 2 x 1
  const [l1] = downsample({ data, box: { start: [0, 0, 0], end: [4, 2, 1] }, factor: [2, 2, 1], levels: 1, method: 'average' });
  assert.deepEqual(l1.box, { start: [0, 0, 0], end: [2, 1, 1] });
  assert.deepEqual(Array.from(l1.data as Uint8Array), [15, 35]);
});

test('several levels from one read keep grey levels that repeated integer averaging loses', () => {
  const data = Uint8Array.from([0, 1, 0, 1, 0, 1, 0, 0]);
  const levels = downsample({ data, box: { start: [0, 0, 0], end: [8, 1, 1] }, factor: [2, 1, 1], levels: 3, method: 'average' });
  assert.deepEqual(levels.map((l) => Array.from(l.data as Uint8Array)), [[1, 1, 1, 0], [1, 0], [0]]);
  // Averaging the rounded level 1 again would give [1, 1] and then [1].
});

for (const [name, box, f, levels] of [
  ['odd offset and size, 2x2x1', { start: [3, -5, 1], end: [40, 18, 6] }, [2, 2, 1], 4],
  ['odd offset and size, 2x2x2', { start: [-3, 7, 5], end: [30, 26, 22] }, [2, 2, 2], 3],
  ['even offset, odd end, 2x2x1', { start: [4, 2, 0], end: [37, 19, 3] }, [2, 2, 1], 3],
  ['uneven factor 3x1x2', { start: [-4, 1, 3], end: [29, 9, 14] }, [3, 1, 2], 2],
] as [string, Box, Vec3, number][]) {
  test(`${name}: every level matches the exact mean and the info's exact bounds`, () => {
    const data = Uint16Array.from(random(boxVoxels(box), 65536));
    const out = downsample({ data, box, factor: f, levels, method: 'average' });
    let offset = box.start;
    let size = boxShape(box);
    out.forEach((level, i) => {
      const want = exactMeans(data, box, f, i + 1);
      assert.deepEqual(level.box, want.box);
      assert.deepEqual(Array.from(level.data as Uint16Array), want.data, `level ${i + 1}`);
      ({ offset, size } = downsampledBounds(offset, size, f));
      assert.deepEqual([level.box.start, boxShape(level.box)], [offset, size], 'same bounds as the added scale');
    });
  });
}

test('the async form, into given arrays a few planes at a time, gives the same levels as the plain one', async () => {
  for (const [box, f, method] of [
    [{ start: [3, -5, 1], end: [40, 18, 9] }, [2, 2, 1], 'average'],
    [{ start: [-3, 7, 4], end: [30, 26, 21] }, [2, 2, 2], 'mode'],
  ] as [Box, Vec3, 'average' | 'mode'][]) {
    const data = Uint16Array.from(random(boxVoxels(box), method === 'mode' ? 5 : 65536, 3));
    const want = downsample({ data, box, factor: f, levels: 2, method });
    // Stale values in the arrays handed in must not leak into the result.
    const into = downsampleBoxes(box, f, 2).map((b) => new Uint16Array(boxVoxels(b)).fill(7));
    const got = await downsampleAsync({ data, box, factor: f, levels: 2, method }, { into, sliceMs: 0 });
    assert.deepEqual(got.map((l) => l.box), want.map((l) => l.box));
    got.forEach((l, i) => assert.equal(l.data, into[i], 'filled in place'));
    assert.deepEqual(got.map((l) => Array.from(l.data as Uint16Array)), want.map((l) => Array.from(l.data as Uint16Array)));
  }
  const wrong = [new Uint16Array(3)];
  await assert.rejects(downsampleAsync({ data: new Uint16Array(16), box: { start: [0, 0, 0], end: [4, 4, 1] }, factor: [2, 2, 1], levels: 1, method: 'average' }, { into: wrong }), /level 1 needs 4 uint16 voxels/);
});

test('float32 images are averaged without rounding; channels are averaged separately', () => {
  const box: Box = { start: [0, 0, 0], end: [3, 2, 1] };
  const data = Float32Array.from([0.5, 1.5, 2, 1, 1, 1, /* channel 2 */ 10, 20, 30, 40, 50, 60]);
  const [l1] = downsample({ data, box, channels: 2, factor: [2, 2, 1], levels: 1, method: 'average' });
  assert.deepEqual(Array.from(l1.data as Float32Array), [1, 1.5, 30, 45]);
});

test('mode keeps the most frequent label, bigint labels included, with exact bounds', () => {
  const box: Box = { start: [1, 0, 0], end: [6, 2, 1] };
  // x = 1..5: output voxels cover x {1}, {2,3}, {4,5}.
  const labels = [7, 3, 3, 5, 9, /**/ 7, 3, 8, 9, 9];
  const [l1] = downsample({ data: Uint32Array.from(labels), box, factor: [2, 2, 1], levels: 1, method: 'mode' });
  assert.deepEqual(l1.box, { start: [0, 0, 0], end: [3, 1, 1] });
  assert.deepEqual(Array.from(l1.data as Uint32Array), [7, 3, 9]);
  const big = BigUint64Array.from(labels.map((v) => BigInt(v) << 40n));
  const [b1, b2] = downsample({ data: big, box, factor: [2, 2, 1], levels: 2, method: 'mode' });
  assert.deepEqual(Array.from(b1.data as BigUint64Array), [7n << 40n, 3n << 40n, 9n << 40n]);
  assert.deepEqual(b2.box, { start: [0, 0, 0], end: [2, 1, 1] });
  // Level 2 covers level-1 x {0, 1} (a tie: the first wins) and {2}.
  assert.deepEqual(Array.from(b2.data as BigUint64Array), [7n << 40n, 9n << 40n]);
});

test('mode never invents a label and 2x2x2 takes all eight voxels into account', () => {
  const box: Box = { start: [0, 0, 0], end: [2, 2, 2] };
  const [l1] = downsample({ data: Uint32Array.from([1, 2, 2, 3, 4, 4, 4, 1]), box, factor: [2, 2, 2], levels: 1, method: 'mode' });
  assert.deepEqual(Array.from(l1.data as Uint32Array), [4]);
});

test('refuses what it cannot do, saying why', () => {
  const box: Box = { start: [0, 0, 0], end: [2, 2, 1] };
  assert.throws(() => downsample({ data: new BigUint64Array(4), box, factor: [2, 2, 1], levels: 1, method: 'average' }), /averaging uint64/);
  assert.throws(() => downsample({ data: new Uint8Array(3), box, factor: [2, 2, 1], levels: 1, method: 'average' }), /holds 3 voxels/);
  assert.throws(() => downsample({ data: new Uint8Array(4), box, factor: [2, 0, 1], levels: 1, method: 'average' }), /cannot downsample by 2,0,1/);
});

test('a task reads the footprint of what it writes, so odd offsets split no output voxel', () => {
  const volume: Box = { start: [3, 0, 1], end: [1003, 600, 9] };
  // Output box of level 2 (2x2x1) for voxels x 100..164: full resolution 400..656.
  const fp = footprintBox({ start: [100, 0, 1], end: [164, 64, 9] }, [2, 2, 1], 2, volume);
  assert.deepEqual(fp, { start: [400, 0, 1], end: [656, 256, 9] });
  // At the volume's start the footprint is clipped to it.
  assert.deepEqual(footprintBox({ start: [0, 0, 1], end: [64, 64, 9] }, [2, 2, 1], 2, volume).start, [3, 0, 1]);
  checkDownsampleBlock(fp, [2, 2, 1], 2, volume);
  checkDownsampleBlock({ start: [3, 0, 1], end: [256, 256, 9] }, [2, 2, 1], 2, volume);
  assert.throws(() => checkDownsampleBlock({ start: [67, 0, 1], end: [256, 256, 9] }, [2, 2, 1], 2, volume), /cuts through voxels of downsampling level 2/);
});
