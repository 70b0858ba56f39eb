// Cross-check against TensorStore, an independent implementation of the precomputed format:
// what Ferry writes TensorStore reads voxel for voxel, and what TensorStore writes Ferry reads.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { boxShape, boxVoxels } from '../../arrays/box.ts';
import type { Box, Vec3 } from '../../arrays/box.ts';
import { allocateVoxels, bytesOfVoxels } from '../../arrays/voxels.ts';
import type { DataType, VoxelArray } from '../../arrays/voxels.ts';
import { downsample } from '../../volume/downsample.ts';
import { scaleBox, taskBoxes } from './grid.ts';
import { addScales, buildInfo } from './info.ts';
import type { Info } from './info.ts';
import { readBox, readInfo } from './reader.ts';
import { chooseShardingSpec, shardBoxes } from './sharding.ts';
import { writeBlock, writeInfo } from './writer.ts';
import { openFileStore } from '../../storage/file.ts';
import { keysOf } from '../../testing/stores.ts';

const SCRIPT = join(import.meta.dirname, 'testdata', 'tensorstore_io.py');
const PYTHON = process.env.FERRY_PYTHON ?? 'python3';

function python(args: string[]): string {
  const r = spawnSync(PYTHON, [SCRIPT, ...args], { encoding: 'utf8', maxBuffer: 1 << 26 });
  assert.equal(r.status, 0, `${PYTHON} ${SCRIPT} ${args.join(' ')} failed:\n${r.stderr}`);
  return r.stdout;
}

function requireTensorStore(): void {
  const r = spawnSync(PYTHON, ['-c', 'import tensorstore'], { encoding: 'utf8' });
  if (r.status !== 0) {
    assert.fail(
      `TensorStore is not importable by ${PYTHON} (${(r.stderr || r.error?.message || '').trim().split('\n').at(-1)}). ` +
        'Install it with `bash scripts/services/tensorstore.sh install` (python3 -m pip install tensorstore).',
    );
  }
}

/** Same formula as pattern() in tensorstore_io.py: (7x + 13y + 101z) mod m, absolute coordinates. */
function pattern(t: DataType, box: Box, modulus: number): VoxelArray {
  const [sx, sy, sz] = boxShape(box);
  const a = allocateVoxels(t, sx * sy * sz) as Uint16Array;
  let i = 0;
  for (let z = box.start[2]; z < box.end[2]; z++)
    for (let y = box.start[1]; y < box.end[1]; y++)
      for (let x = box.start[0]; x < box.end[0]; x++) a[i++] = (((x * 7 + y * 13 + z * 101) % modulus) + modulus) % modulus;
  return a;
}

function sameVoxels(actual: VoxelArray, expected: VoxelArray, what: string): void {
  const a = bytesOfVoxels(actual);
  const e = bytesOfVoxels(expected);
  if (a.equals(e)) return;
  const i = actual.findIndex((v: number | bigint, k: number) => v !== expected[k]);
  assert.fail(`${what}: ${a.length} vs ${e.length} bytes; first differing voxel ${i}: ${actual[i]} != ${expected[i]}`);
}

function crop(data: VoxelArray, from: Box, box: Box, t: DataType): VoxelArray {
  const out = allocateVoxels(t, boxVoxels(box));
  const [fx, fy] = boxShape(from);
  const [bx, by, bz] = boxShape(box);
  for (let z = 0; z < bz; z++)
    for (let y = 0; y < by; y++) {
      const s = ((z + box.start[2] - from.start[2]) * fy + (y + box.start[1] - from.start[1])) * fx + (box.start[0] - from.start[0]);
      (out as Uint8Array).set((data as Uint8Array).subarray(s, s + bx), (z * by + y) * bx);
    }
  return out;
}

/** Writes both scales with Ferry (scale 1 downsampled from scale 0) and returns what each holds. */
async function ferryWrite(dir: string, info: Info, data0: VoxelArray, perScaleBoxes: (i: number) => Box[]): Promise<VoxelArray[]> {
  const store = await openFileStore(dir);
  const full = scaleBox(info.scales[0]);
  const [r0, r1] = [info.scales[0].resolution, info.scales[1].resolution];
  const factor: Vec3 = [r1[0] / r0[0], r1[1] / r0[1], r1[2] / r0[2]];
  const [level1] = downsample({ data: data0, box: full, factor, levels: 1, method: 'average' });
  const perScale = [data0, level1.data];
  for (let i = 0; i < 2; i++) {
    const scale = info.scales[i];
    assert.deepEqual(scaleBox(scale), i === 0 ? full : level1.box);
    for (const b of perScaleBoxes(i)) await writeBlock(store, info, scale.key, b, crop(perScale[i], scaleBox(scale), b, info.data_type));
  }
  await writeInfo(store, info);
  return perScale;
}

async function tensorStoreReads(dir: string, info: Info, expected: VoxelArray[]): Promise<void> {
  const out = await mkdtemp(join(tmpdir(), 'ferry-ts-out-'));
  try {
    const scales = JSON.parse(python(['read', dir, out])) as { key: string; start: number[]; shape: number[] }[];
    assert.equal(scales.length, info.scales.length);
    for (let i = 0; i < scales.length; i++) {
      assert.deepEqual([scales[i].start, scales[i].shape], [info.scales[i].voxel_offset, info.scales[i].size], `scale ${i} bounds`);
      const bytes = await readFile(join(out, `${i}.bin`));
      const got = allocateVoxels(info.data_type, expected[i].length);
      bytesOfVoxels(got).set(bytes);
      sameVoxels(got, expected[i], `TensorStore reading Ferry's scale ${info.scales[i].key}`);
    }
  } finally {
    await rm(out, { recursive: true, force: true });
  }
}

test('TensorStore reads an unsharded raw volume Ferry wrote: 2 scales, odd offset, edge chunks', async () => {
  requireTensorStore();
  const dir = await mkdtemp(join(tmpdir(), 'ferry-ts-'));
  try {
    const info = addScales(
      buildInfo({ type: 'image', dataType: 'uint8', resolution: [4, 4, 40], size: [150, 77, 19], voxelOffset: [3, -5, 2], chunkSize: [32, 32, 8], encoding: 'raw' }),
      [2, 2, 1],
      1,
    );
    const data0 = pattern('uint8', scaleBox(info.scales[0]), 251);
    const expected = await ferryWrite(dir, info, data0, (i) => [...taskBoxes(info.scales[i], [64, 64, 16])]);
    await tensorStoreReads(dir, info, expected);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('TensorStore reads a sharded gzip volume Ferry wrote: 2 scales, several shards, one block per shard', async () => {
  requireTensorStore();
  const dir = await mkdtemp(join(tmpdir(), 'ferry-ts-'));
  try {
    const chooser = (s: Parameters<typeof chooseShardingSpec>[0]) => chooseShardingSpec(s, { voxelBytes: 2, targetShardBytes: 8 * 16 * 16 * 8 * 2 });
    const base = buildInfo({ type: 'image', dataType: 'uint16', resolution: [4, 4, 40], size: [130, 90, 37], voxelOffset: [-7, 9, 3], chunkSize: [16, 16, 8], encoding: 'raw' });
    base.scales[0].sharding = chooser(base.scales[0]);
    const info = addScales(base, [2, 2, 2], 1, { sharding: chooser });
    const data0 = pattern('uint16', scaleBox(info.scales[0]), 65521);
    const shardCount = [...shardBoxes(info.scales[0], info.scales[0].sharding!)].length;
    assert.ok(shardCount > 4, `expected several shards, got ${shardCount}`);
    const expected = await ferryWrite(dir, info, data0, (i) => [...shardBoxes(info.scales[i], info.scales[i].sharding!)].map((s) => s.box));
    await tensorStoreReads(dir, info, expected);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('TensorStore reads 16-bit png chunks Ferry wrote (X wide, Y*Z high, big-endian)', async () => {
  requireTensorStore();
  const dir = await mkdtemp(join(tmpdir(), 'ferry-ts-'));
  try {
    const info = addScales(
      buildInfo({ type: 'image', dataType: 'uint16', resolution: [8, 8, 8], size: [45, 38, 9], voxelOffset: [1, 2, 3], chunkSize: [16, 16, 4], encoding: 'png' }),
      [2, 2, 1],
      1,
    );
    const data0 = pattern('uint16', scaleBox(info.scales[0]), 65521);
    const expected = await ferryWrite(dir, info, data0, (i) => [scaleBox(info.scales[i])]);
    await tensorStoreReads(dir, info, expected);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('Ferry reads what TensorStore wrote: unsharded raw, sharded gzip and png scales', async () => {
  requireTensorStore();
  const dir = await mkdtemp(join(tmpdir(), 'ferry-ts-'));
  try {
    const modulus = 65521;
    const spec = {
      multiscale: { type: 'image', data_type: 'uint16', num_channels: 1 },
      modulus,
      scales: [
        { resolution: [4, 4, 40], size: [100, 70, 13], voxel_offset: [-3, 5, 1], chunk_size: [32, 32, 8], encoding: 'raw' },
        {
          resolution: [8, 8, 40],
          size: [51, 35, 13],
          voxel_offset: [-2, 2, 1],
          chunk_size: [16, 16, 4],
          encoding: 'raw',
          sharding: { '@type': 'neuroglancer_uint64_sharded_v1', preshift_bits: 1, hash: 'murmurhash3_x86_128', minishard_bits: 2, shard_bits: 2, minishard_index_encoding: 'gzip', data_encoding: 'gzip' },
        },
        { resolution: [16, 16, 40], size: [26, 18, 13], voxel_offset: [-1, 1, 1], chunk_size: [8, 8, 4], encoding: 'png' },
      ],
    };
    const specPath = join(dir, '..', `${dir.split('/').at(-1)}.json`);
    await writeFile(specPath, JSON.stringify(spec));
    try {
      python(['write', dir, specPath]);
    } finally {
      await rm(specPath, { force: true });
    }
    const store = await openFileStore(dir);
    assert.ok((await keysOf(store)).some((k) => k.endsWith('.shard')), 'TensorStore wrote shard files');
    const info = await readInfo(store);
    assert.equal(info.scales.length, 3);
    for (const scale of info.scales) {
      const box = scaleBox(scale);
      sameVoxels(await readBox(store, info, scale.key, box), pattern('uint16', box, modulus), `Ferry reading TensorStore's scale ${scale.key} (${scale.encoding}${scale.sharding ? ', sharded' : ''})`);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
