import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Vec3 } from '../../arrays/box.ts';
import { chunkBox, chunksIn, gridShape } from './grid.ts';
import type { ScaleGeometry } from './grid.ts';
import type { ShardingSpec } from './info.ts';
import {
  chooseShardingSpec,
  compressedMortonCode,
  decodeCompressedMorton,
  shardBlockLevel,
  shardBox,
  shardBoxes,
  shardFileName,
  shardLocation,
} from './sharding.ts';

const spec = (s: Partial<ShardingSpec>): ShardingSpec => ({
  '@type': 'neuroglancer_uint64_sharded_v1',
  preshift_bits: 0,
  hash: 'identity',
  minishard_bits: 0,
  shard_bits: 0,
  minishard_index_encoding: 'raw',
  data_encoding: 'raw',
  ...s,
});

test('compressed Morton code interleaves x, y, z and drops axes whose bits run out', () => {
  const grid: Vec3 = [4, 2, 1];
  // Bits: level 0 -> x0, y0 ; level 1 -> x1. z has none.
  assert.equal(compressedMortonCode([1, 0, 0], grid), 0b001n);
  assert.equal(compressedMortonCode([0, 1, 0], grid), 0b010n);
  assert.equal(compressedMortonCode([2, 0, 0], grid), 0b100n);
  assert.equal(compressedMortonCode([3, 1, 0], grid), 0b111n);
  // x=101 y=011 z=110: levels (x,y,z) 0 -> 1,1,0; 1 -> 0,1,1; 2 -> 1,0,1.
  assert.equal(compressedMortonCode([5, 3, 6], [8, 8, 8]), 0b101_110_011n);
  // A 3 x 5 x 1 grid: x has 2 bits, y 3; bits are x0 y0 x1 y1 y2.
  assert.equal(compressedMortonCode([2, 4, 0], [3, 5, 1]), 0b1_0_1_0_0n);
  for (const g of [[0, 0, 0], [2, 4, 0], [1, 3, 0]] as Vec3[]) assert.deepEqual(decodeCompressedMorton(compressedMortonCode(g, [3, 5, 1]), [3, 5, 1]), g);
});

test('places chunks by hash: minishard from the low bits, shard from the next, after the preshift', () => {
  const s = spec({ preshift_bits: 1, minishard_bits: 2, shard_bits: 3 });
  // id 0b1_011_10_1 >> 1 = 0b1_011_10: minishard 0b10, shard 0b011 (bit above is masked off).
  assert.deepEqual(shardLocation(s, 0b1011101n), { minishard: 2, shard: 3n });
  const m = spec({ hash: 'murmurhash3_x86_128', minishard_bits: 4, shard_bits: 8 });
  // murmurhash3 of id 0 is 0x4772b084e028ae41: minishard 0x1, shard 0xe4.
  assert.deepEqual(shardLocation(m, 0n), { minishard: 1, shard: 0xe4n });
});

test('shard file names are lower-case hex padded to ceil(shard_bits / 4)', () => {
  assert.equal(shardFileName(spec({ shard_bits: 9 }), 0x1an), '01a.shard');
  assert.equal(shardFileName(spec({ shard_bits: 0 }), 0n), '0.shard');
});

const scale: ScaleGeometry = { key: 's', size: [1000, 520, 130], voxel_offset: [-7, 3, 0], chunk_sizes: [[64, 64, 16]] };

test('the chosen spec makes every shard a rectangular block of chunks, owned by exactly one box', () => {
  // 64*64*16 uint8 = 64 KiB a chunk; 1 MiB holds 16 chunks -> blocks of 2x2x2 (8 chunks).
  const s = chooseShardingSpec(scale, { voxelBytes: 1, targetShardBytes: 1 << 20 });
  assert.equal(shardBlockLevel(scale, s), 1);
  assert.equal(s.preshift_bits + s.minishard_bits, 3);
  assert.equal(s.hash, 'identity');
  const grid = gridShape(scale);
  const owner = new Map<string, bigint>();
  for (const { shard, box } of shardBoxes(scale, s)) {
    for (const c of chunksIn(scale, box)) {
      const key = c.g.join(',');
      assert.equal(owner.has(key), false, `chunk ${key} in two shard boxes`);
      owner.set(key, shard);
      assert.equal(shardLocation(s, compressedMortonCode(c.g, grid)).shard, shard, `chunk ${key} hashed to another shard`);
    }
  }
  assert.equal(owner.size, grid[0] * grid[1] * grid[2]);
  assert.deepEqual(shardBox(scale, s, 0n), { start: [-7, 3, 0], end: [121, 131, 32] });
});

test('shard boxes stay rectangular when one axis runs out of Morton bits', () => {
  const flat: ScaleGeometry = { key: 'f', size: [4096, 2048, 64], voxel_offset: [0, 0, 0], chunk_sizes: [[64, 64, 64]] };
  const s = chooseShardingSpec(flat, { voxelBytes: 1, targetShardBytes: 64 * 262144 });
  // grid 64 x 32 x 1: level 3 holds 2^6 = 64 chunks -> 8 x 8 x 1 blocks.
  assert.equal(shardBlockLevel(flat, s), 3);
  assert.equal(s.preshift_bits + s.minishard_bits, 6);
  const boxes = [...shardBoxes(flat, s)];
  assert.equal(boxes.length, 8 * 4);
  for (const { box } of boxes) assert.deepEqual([box.end[0] - box.start[0], box.end[1] - box.start[1], box.end[2] - box.start[2]], [512, 512, 64]);
  assert.deepEqual(chunkBox(flat, [63, 31, 0]).end, [4096, 2048, 64]);
  // A target larger than the volume gives one shard holding everything.
  const one = chooseShardingSpec(flat, { voxelBytes: 1 });
  assert.equal(one.shard_bits, 0);
  assert.equal([...shardBoxes(flat, one)].length, 1);
});

test('murmurhash specs are not rectangular and the shard-box helpers say so', () => {
  const m = spec({ hash: 'murmurhash3_x86_128', minishard_bits: 3, shard_bits: 2 });
  assert.equal(shardBlockLevel(scale, m), undefined);
  assert.throws(() => shardBox(scale, m, 0n), /does not make shards rectangular/);
});
