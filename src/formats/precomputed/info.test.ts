import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FerryError } from '../../errors.ts';
import { addScales, buildInfo, checkSameInfo, downsampledBounds, findScale, parseInfo, parseInfoBytes, scaleKey, serializeInfo } from './info.ts';

const base = () =>
  buildInfo({
    type: 'image',
    dataType: 'uint8',
    resolution: [4, 4, 40],
    size: [1000, 801, 65],
    voxelOffset: [3, -5, 1],
    chunkSize: [64, 64, 64],
    encoding: 'raw',
  });

test('builds an info with one scale keyed by its resolution', () => {
  const info = base();
  assert.equal(info['@type'], 'neuroglancer_multiscale_volume');
  assert.equal(info.num_channels, 1);
  assert.deepEqual(info.scales[0], {
    key: '4_4_40',
    size: [1000, 801, 65],
    resolution: [4, 4, 40],
    voxel_offset: [3, -5, 1],
    chunk_sizes: [[64, 64, 64]],
    encoding: 'raw',
  });
  assert.equal(scaleKey([8.5, 8, 40]), '8.5_8_40');
});

test('an info survives serialize and parse unchanged, extra fields included', () => {
  const info = { ...base(), mesh: 'mesh', custom: { a: 1 } };
  assert.deepEqual(parseInfoBytes(serializeInfo(info)), info);
});

test('downsampled bounds follow [floor(off/f), ceil((off+size)/f)) for odd sizes and offsets', () => {
  assert.deepEqual(downsampledBounds([3, -5, 1], [4, 5, 65], [2, 2, 1]), { offset: [1, -3, 1], size: [3, 3, 65] });
  // 3..7 covers output voxels 1, 2, 3: ceil(size/f) alone would say 2 and drop a voxel.
  assert.deepEqual(downsampledBounds([3, 0, 0], [4, 1, 1], [2, 1, 1]).size, [3, 1, 1]);
  assert.deepEqual(downsampledBounds([0, 0, 0], [1, 1, 1], [2, 2, 2]), { offset: [0, 0, 0], size: [1, 1, 1] });
});

test('adding scales doubles resolution and keeps exact bounds at every level', () => {
  const info = addScales(base(), [2, 2, 1], 2);
  assert.deepEqual(
    info.scales.map((s) => [s.key, s.voxel_offset, s.size]),
    [
      ['4_4_40', [3, -5, 1], [1000, 801, 65]],
      ['8_8_40', [1, -3, 1], [501, 401, 65]],
      ['16_16_40', [0, -2, 1], [251, 201, 65]],
    ],
  );
  assert.deepEqual(findScale(info, '16_16_40').resolution, [16, 16, 40]);
  const vol = addScales(base(), [2, 2, 2], 1);
  assert.deepEqual(vol.scales[1].size, [501, 401, 33]);
  assert.deepEqual(vol.scales[1].resolution, [8, 8, 80]);
});

function rejects(json: unknown, pattern: RegExp) {
  assert.throws(
    () => parseInfo(json),
    (e: unknown) => e instanceof FerryError && pattern.test(e.message) && e.exitCode === 2 && !!e.hint,
  );
}

test('rejects infos Neuroglancer would reject, saying what is wrong', () => {
  const good = base();
  const scale = good.scales[0];
  rejects({ ...good, data_type: 'uint12' }, /data_type/);
  rejects({ ...good, scales: [] }, /scales/);
  rejects({ ...good, scales: [{ ...scale, size: [0, 1, 1] }] }, /scales\.0\.size/);
  rejects({ ...good, scales: [{ ...scale, chunk_size: [1, 1, 1], chunk_sizes: undefined }] }, /chunk_sizes/);
  rejects({ ...good, type: 'segmentation', num_channels: 2 }, /segmentation has 2 channels/);
  rejects({ ...good, data_type: 'uint16', scales: [{ ...scale, encoding: 'jpeg' }] }, /jpeg holds uint8/);
  rejects({ ...good, data_type: 'float32', scales: [{ ...scale, encoding: 'png' }] }, /png holds uint8 or uint16/);
  rejects({ ...good, scales: [{ ...scale, resolution: [8, 8, 40] }, { ...scale, key: 'b' }] }, /finer resolution/);
  rejects({ ...good, scales: [scale, { ...scale }] }, /repeats the key/);
  rejects(
    {
      ...good,
      scales: [
        {
          ...scale,
          chunk_sizes: [
            [64, 64, 64],
            [32, 32, 32],
          ],
          sharding: { '@type': 'neuroglancer_uint64_sharded_v1', preshift_bits: 0, hash: 'identity', minishard_bits: 0, shard_bits: 0 },
        },
      ],
    },
    /sharded but lists 2 chunk sizes/,
  );
  assert.throws(() => parseInfoBytes(Buffer.from('{nope')), /info is not JSON/);
  assert.throws(() => findScale(good, '1_1_1'), /no scale "1_1_1".*/);
});

test('resuming against an info that disagrees with the plan names the first difference', () => {
  const planned = addScales(base(), [2, 2, 1], 1);
  checkSameInfo(structuredClone(planned), planned, 'file:///out/');
  const found = structuredClone(planned);
  found.scales[1].chunk_sizes = [[32, 32, 32]];
  assert.throws(
    () => checkSameInfo(found, planned, 'file:///out/'),
    (e: unknown) => e instanceof FerryError && /info at file:\/\/\/out\/ disagrees with the plan \(scales\.1\.chunk_sizes\.0\.0: 32 there, 64 planned\)/.test(e.message),
  );
});
