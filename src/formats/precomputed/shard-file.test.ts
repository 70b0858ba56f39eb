import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gunzipSync } from 'node:zlib';
import type { ShardingSpec } from './info.ts';
import { decodeShard, encodeShard, readMinishardIndex } from './shard-file.ts';

const spec = (s: Partial<ShardingSpec>): ShardingSpec => ({
  '@type': 'neuroglancer_uint64_sharded_v1',
  preshift_bits: 0,
  hash: 'identity',
  minishard_bits: 1,
  shard_bits: 0,
  minishard_index_encoding: 'raw',
  data_encoding: 'raw',
  ...s,
});

const u64 = (...v: number[]) => Buffer.from(new BigUint64Array(v.map(BigInt)).buffer);

test('lays out index, chunk data and minishard indexes exactly as the spec says', async () => {
  const s = spec({});
  // Identity hash, 1 minishard bit: ids 3 and 1 go to minishard 1, id 2 to minishard 0.
  const file = await encodeShard(s, [
    { id: 3n, data: Buffer.from('ccc') },
    { id: 2n, data: Buffer.from('bb') },
    { id: 1n, data: Buffer.from('a') },
  ]);
  const expected = Buffer.concat([
    // Shard index: minishard 0 index at [2, 26), minishard 1 index at [30, 78), after the 32-byte index.
    u64(2, 26, 30, 78),
    Buffer.from('bb'),
    u64(2, 0, 2), // ids (delta), offsets (delta from previous end), sizes
    Buffer.from('a'),
    Buffer.from('ccc'),
    u64(1, 2, 26, 0, 1, 3),
  ]);
  assert.deepEqual(file, expected);
});

test('gzip encodings round-trip and are really gzip', async () => {
  const s = spec({ minishard_bits: 2, preshift_bits: 1, data_encoding: 'gzip', minishard_index_encoding: 'gzip' });
  const chunks = Array.from({ length: 12 }, (_, i) => ({ id: BigInt(i), data: Buffer.alloc(100 + i, i) }));
  const file = await encodeShard(s, chunks);
  const back = decodeShard(s, file);
  assert.equal(back.size, 12);
  for (const c of chunks) assert.deepEqual(Buffer.from(back.get(c.id)!), c.data);
  const start = Number(file.readBigUInt64LE(0)) + 64;
  const end = Number(file.readBigUInt64LE(8)) + 64;
  assert.equal(gunzipSync(file.subarray(start, end)).byteLength % 24, 0);
});

test('range reads find a chunk through the shard index and its minishard index only', async () => {
  const s = spec({ minishard_bits: 3, hash: 'murmurhash3_x86_128', minishard_index_encoding: 'gzip' });
  const chunks = Array.from({ length: 40 }, (_, i) => ({ id: BigInt(i * 7), data: Buffer.from(`chunk ${i * 7}`) }));
  const file = await encodeShard(s, chunks);
  const reads: [number, number][] = [];
  const read = async (a: number, b: number) => {
    reads.push([a, b]);
    return file.subarray(a, b);
  };
  let found = 0;
  for (let m = 0; m < 8; m++) {
    for (const e of await readMinishardIndex(s, read, m)) {
      assert.equal(file.subarray(e.start, e.end).toString(), `chunk ${e.id}`);
      found++;
    }
  }
  assert.equal(found, 40);
  assert.ok(reads.every(([a, b]) => b - a < file.byteLength / 2), 'never reads the whole shard');
  assert.deepEqual(await readMinishardIndex(s, async () => undefined, 0), [], 'a missing shard has no chunks');
});

test('refuses chunks of different shards and duplicate ids, and reports corrupt files', async () => {
  const s = spec({ shard_bits: 1 });
  await assert.rejects(encodeShard(s, [{ id: 0n, data: Buffer.from('a') }, { id: 2n, data: Buffer.from('b') }]), /belongs to shard 1, not 0/);
  await assert.rejects(encodeShard(spec({}), [{ id: 1n, data: Buffer.from('a') }, { id: 1n, data: Buffer.from('b') }]), /appears twice/);
  const file = await encodeShard(spec({}), [{ id: 1n, data: Buffer.from('abc') }]);
  assert.throws(() => decodeShard(spec({}), file.subarray(0, file.byteLength - 4)), /corrupt shard/);
});
