import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gunzipSync } from 'node:zlib';
import { boxShape, boxVoxels } from '../../arrays/box.ts';
import type { Box, Vec3 } from '../../arrays/box.ts';
import { copyRegion } from '../../arrays/copy.ts';
import { allocateVoxels } from '../../arrays/voxels.ts';
import type { DataType, VoxelArray } from '../../arrays/voxels.ts';
import { scaleBox, taskBoxes } from './grid.ts';
import { buildInfo } from './info.ts';
import type { Encoding, Info } from './info.ts';
import { readBox, readInfo } from './reader.ts';
import { chooseShardingSpec, shardBoxes } from './sharding.ts';
import { writeBlock, writeInfo } from './writer.ts';
import { keysOf, testMemoryStore } from '../../testing/stores.ts';
import type { RecordingStore } from '../../testing/stores.ts';

/** A volume whose every voxel tells where it is, so a misplaced voxel cannot go unseen. */
function pattern(t: DataType, box: Box): VoxelArray {
  const [sx, sy, sz] = boxShape(box);
  const a = allocateVoxels(t, sx * sy * sz);
  let i = 0;
  for (let z = 0; z < sz; z++)
    for (let y = 0; y < sy; y++)
      for (let x = 0; x < sx; x++, i++) {
        const v = (box.start[0] + x) * 7 + (box.start[1] + y) * 13 + (box.start[2] + z) * 101;
        if (a instanceof BigUint64Array) a[i] = BigInt(v) << 33n;
        else (a as Uint16Array)[i] = t === 'uint8' ? v % 251 : v;
      }
  return a;
}

function sub(info: Info, data: VoxelArray, from: Box, box: Box): VoxelArray {
  const out = allocateVoxels(info.data_type, boxVoxels(box));
  copyRegion(data, from, out, box, box);
  return out;
}

function volume(t: DataType, encoding: Encoding, sharded = false): Info {
  const info = buildInfo({ type: 'image', dataType: t, resolution: [4, 4, 40], size: [70, 45, 11], voxelOffset: [5, -3, 2], chunkSize: [16, 16, 4], encoding });
  if (sharded) {
    info.scales[0].sharding = chooseShardingSpec(info.scales[0], { voxelBytes: 8, targetShardBytes: 16 * 16 * 4 * 8 * 8 });
  }
  return info;
}

async function writeAll(store: RecordingStore, info: Info, data: VoxelArray, boxes: Box[], opts = {}) {
  const scale = info.scales[0];
  const all = scaleBox(scale);
  const results = [];
  for (const b of boxes) results.push(await writeBlock(store, info, scale.key, b, sub(info, data, all, b), opts));
  await writeInfo(store, info);
  return results;
}

for (const [t, enc] of [
  ['uint8', 'raw'],
  ['uint16', 'raw'],
  ['uint64', 'raw'],
  ['uint16', 'png'],
] as [DataType, Encoding][]) {
  test(`unsharded ${t} ${enc}: every voxel reads back, edge chunks clipped, from any box`, async () => {
    const store = testMemoryStore();
    const info = volume(t, enc);
    const all = scaleBox(info.scales[0]);
    const data = pattern(t, all);
    await writeAll(store, info, data, [...taskBoxes(info.scales[0], [32, 32, 8])]);
    assert.ok(await store.stat('4_4_40/69-75_29-42_10-13'), 'far-corner chunk is clipped to the bounds');
    assert.equal(store.writes.at(-1)?.key, 'info');
    const back = await readInfo(store);
    assert.deepEqual(back, info);
    assert.deepEqual(await readBox(store, back, '4_4_40', all), data);
    const inner: Box = { start: [11, 0, 4], end: [60, 30, 12] };
    assert.deepEqual(await readBox(store, back, '4_4_40', inner), sub(info, data, all, inner));
    // Outside the volume reads as zero.
    const beyond = await readBox(store, back, '4_4_40', { start: [70, 0, 2], end: [80, 1, 3] });
    assert.deepEqual(Array.from(beyond.slice(5) as Uint8Array, Number), [0, 0, 0, 0, 0]);
  });
}

test('gzip Content-Encoding for object stores: plain names, gzip bodies, read back transparently', async () => {
  const store = testMemoryStore();
  const info = volume('uint8', 'raw');
  const all = scaleBox(info.scales[0]);
  const data = pattern('uint8', all);
  await writeAll(store, info, data, [all], { contentEncodingGzip: true });
  const chunk = '4_4_40/5-21_-3-13_2-6';
  assert.equal((await store.stat(chunk))?.contentEncoding, 'gzip');
  assert.equal(gunzipSync(await store.readBytes(chunk)).byteLength, 16 * 16 * 4);
  assert.ok(!(await keysOf(store)).some((k) => k.endsWith('.gz')));
  assert.equal(store.writes.find((w) => w.key === 'info')?.opts.cacheControl, 'no-cache');
  assert.deepEqual(await readBox(store, info, '4_4_40', all), data);
});

test('chunks below the non-zero threshold are neither written nor deleted, and are reported', async () => {
  const store = testMemoryStore();
  const info = volume('uint8', 'raw');
  const all = scaleBox(info.scales[0]);
  const data = allocateVoxels('uint8', boxVoxels(all)) as Uint8Array;
  data[0] = 9; // one voxel in the first chunk: 1/1024 non-zero
  data[data.length - 1] = 200; // the far corner chunk (6x13x3 voxels): 1/234 non-zero
  const [r] = await writeAll(store, info, data, [all], { nonzeroThreshold: 0.002 });
  assert.deepEqual(r.written.map((w) => w.key), ['4_4_40/69-75_29-42_10-13']);
  assert.equal(r.skipped.length, 5 * 3 * 3 - 1);
  assert.ok(r.skipped.includes('4_4_40/5-21_-3-13_2-6'));
  assert.deepEqual(store.writes.map((w) => w.key), ['4_4_40/69-75_29-42_10-13', 'info']);
  const back = (await readBox(store, info, '4_4_40', all)) as Uint8Array;
  assert.equal(back[0], 0, 'the skipped chunk reads as zero');
  assert.equal(back[back.length - 1], 200);
});

test('sharded gzip: one block per shard writes whole shards that read back voxel for voxel', async () => {
  const store = testMemoryStore();
  const info = volume('uint16', 'raw', true);
  const scale = info.scales[0];
  const all = scaleBox(scale);
  const data = pattern('uint16', all);
  const shards = [...shardBoxes(scale, scale.sharding!)];
  assert.ok(shards.length > 1);
  const results = await writeAll(store, info, data, shards.map((s) => s.box));
  assert.deepEqual(results.map((r) => r.written.length), shards.map(() => 1), 'one shard file per block');
  const keys = await keysOf(store);
  assert.ok(keys.filter((k) => k !== 'info').every((k) => /^4_4_40\/[0-9a-f]+\.shard$/.test(k)));
  assert.ok(store.writes.every((w) => w.opts.contentEncoding === undefined), 'never Content-Encoding on shards');
  assert.deepEqual(await readBox(store, info, '4_4_40', all), data);
  const inner: Box = { start: [20, 10, 3], end: [41, 30, 9] };
  assert.deepEqual(await readBox(store, info, '4_4_40', inner), sub(info, data, all, inner));
});

test('a block holding part of a shard is refused, since a shard cannot be patched', async () => {
  const store = testMemoryStore();
  const info = volume('uint16', 'raw', true);
  const scale = info.scales[0];
  const box: Box = { start: [5, -3, 2], end: [21, 13, 6] };
  await assert.rejects(
    writeBlock(store, info, scale.key, box, allocateVoxels('uint16', boxVoxels(box))),
    /holds 1 of the \d+ chunks of shard .*\.shard/,
  );
  assert.equal(store.writes.length, 0);
});

test('a block off the chunk grid or of the wrong length is refused before anything is written', async () => {
  const store = testMemoryStore();
  const info = volume('uint8', 'raw');
  const box: Box = { start: [6, -3, 2], end: [21, 13, 6] };
  await assert.rejects(writeBlock(store, info, '4_4_40', box, allocateVoxels('uint8', boxVoxels(box))), /does not fall on chunk boundaries/);
  const ok: Box = { start: [5, -3, 2], end: [21, 13, 6] };
  await assert.rejects(writeBlock(store, info, '4_4_40', ok, allocateVoxels('uint8', 3)), /needs 1024 voxels, got 3/);
  await assert.rejects(readInfo(store), new RegExp(`no precomputed volume at ${store.url}: there is no info file`));
  assert.equal(store.writes.length, 0);
});


test('a failed write fails the block after the other writes settle', async () => {
  const store = testMemoryStore();
  const write = store.write.bind(store);
  store.write = async (key, body, opts) => {
    if (key === '4_4_40/21-37_-3-13_2-6') throw new Error('connection reset');
    return write(key, body, opts);
  };
  const info = volume('uint8', 'raw');
  const all = scaleBox(info.scales[0]);
  await assert.rejects(writeBlock(store, info, '4_4_40', all, pattern('uint8', all), { concurrency: 4 }), /connection reset/);
  assert.equal(await store.stat('info'), undefined);
});
