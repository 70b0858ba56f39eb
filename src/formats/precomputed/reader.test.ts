import { test } from 'node:test';
import assert from 'node:assert/strict';
import { boxVoxels } from '../../arrays/box.ts';
import { scaleBox } from './grid.ts';
import { buildInfo } from './info.ts';
import { readBox } from './reader.ts';
import { chooseShardingSpec, shardBoxes } from './sharding.ts';
import { writeBlock } from './writer.ts';
import { keysOf, testMemoryStore } from '../../testing/stores.ts';

function volume(sharded: boolean) {
  const info = buildInfo({ type: 'segmentation', dataType: 'uint32', resolution: [8, 8, 8], size: [64, 48, 20], voxelOffset: [0, 0, -4], chunkSize: [16, 16, 8], encoding: 'raw' });
  if (sharded) info.scales[0].sharding = chooseShardingSpec(info.scales[0], { voxelBytes: 4, targetShardBytes: 16 * 16 * 8 * 4 * 8 });
  return info;
}

test('a shard that was never written reads as zeros; the others read back', async () => {
  const info = volume(true);
  const scale = info.scales[0];
  const store = testMemoryStore();
  const shards = [...shardBoxes(scale, scale.sharding!)];
  const first = shards[0].box;
  await writeBlock(store, info, scale.key, first, new Uint32Array(boxVoxels(first)).fill(77));
  const all = (await readBox(store, info, scale.key, scaleBox(scale))) as Uint32Array;
  const ones = all.reduce((n, v) => n + (v === 77 ? 1 : 0), 0);
  assert.equal(ones, boxVoxels(first));
  assert.equal(all.length - ones, all.reduce((n, v) => n + (v === 0 ? 1 : 0), 0));
});

test('a read error on a chunk that exists is not mistaken for a missing chunk', async () => {
  for (const sharded of [false, true]) {
    const info = volume(sharded);
    const scale = info.scales[0];
    const store = testMemoryStore();
    const all = scaleBox(scale);
    await writeBlock(store, info, scale.key, all, new Uint32Array(boxVoxels(all)).fill(5));
    const victim = (await keysOf(store))[1];
    const read = store.readIfExists.bind(store);
    store.readIfExists = async (key, range) => {
      if (key === victim) throw new Error('EACCES: permission denied');
      return read(key, range);
    };
    await assert.rejects(readBox(store, info, scale.key, all), /permission denied/, sharded ? 'sharded' : 'unsharded');
  }
});
