// Seed 003's own input end to end through the real CLI: an aligned stack (HDF5 sections, plain and
// gzip-chunked, and a PNG, of different sizes at negative and positive offsets, with a registry in
// both line forms) to a folder, unsharded and sharded, then the seed's ChunkFlow config with its
// task producer's grid. TensorStore reads every voxel back at the aligned coordinates.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Box, Vec3 } from '../../arrays/box.ts';
import { requireH5py } from '../../testing/hdf5.ts';
import { readInfo } from '../../formats/precomputed/reader.ts';
import { openStore } from '../../storage/open.ts';
import { runFerry } from '../../testing/cli.ts';
import { tempDir } from '../../testing/tree.ts';
import { ALIGNED_SECTIONS, ALIGNED_UNION, alignedVolume, expectedScales, ingest, requireTensorStore, sameVoxels, tensorStoreKvstore, tensorStoreRead, writeAlignedStack, writeChunkFlowConfig } from '../../testing/volume.ts';
import type { AlignedSection } from '../../testing/volume.ts';

/** Every scale of the volume in `dir`, as TensorStore reads it, against the aligned stack over `box` (aligned coordinates). */
async function checkAgainstTensorStore(dir: string, sections: AlignedSection[], box: Box, offset: Vec3) {
  const store = await openStore(dir);
  try {
    const info = await readInfo(store);
    const s0 = info.scales[0];
    assert.deepEqual([s0.voxel_offset, s0.size], [box.start.map((v, d) => v + offset[d]), box.end.map((v, d) => v - box.start[d])], 'bounds of scale 0');
    const expected = expectedScales(info, alignedVolume(sections, box), [2, 2, 1]);
    const viaTs = await tensorStoreRead(tensorStoreKvstore(dir), info);
    for (let k = 0; k < info.scales.length; k++) sameVoxels(viaTs[k], expected[k], `TensorStore reading scale ${info.scales[k].key}`);
    return info;
  } finally {
    await store.close();
  }
}

test('aligned HDF5 and PNG sections at their offsets to a folder, unsharded and sharded: voxel for voxel at the aligned coordinates', async () => {
  requireH5py();
  requireTensorStore();
  const root = await tempDir('ferry-aligned-');
  try {
    const registry = await writeAlignedStack(join(root, 'aligned'), ALIGNED_SECTIONS);
    for (const sharded of [false, true]) {
      const out = join(root, sharded ? 'sharded' : 'plain');
      const { plan } = await ingest(join(root, 'ledger.sqlite'), [
        registry, out, '--voxel-size', '4,4,40', '--chunk', '16,16,4', '--task-size', '32,32,4', '--scales', '2', '--nonzero-threshold', '0', '--run', out,
        ...(sharded ? ['--sharded'] : []),
      ]);
      assert.match(plan.stdout, /Source: 150 x 106 x 5 uint8 \(registry .*registry\.txt\)/);
      assert.match(plan.stdout, /Aligned space: the sections cover \[-50,-21,0\]\.\.\[100,85,5\] \(0-based, end exclusive\); pixel \(i, j\) of the section on registry line n is at \(xoff \+ i, yoff \+ j, n - 1\)/);
      assert.match(plan.stdout, /Volume: voxel = source coordinate \+ offset \(0,0,0\): source \[-50,-21,0\]\.\.\[100,85,5\] is voxel_offset -50,-21,0, size 150,106,5/);
      const info = await checkAgainstTensorStore(out, ALIGNED_SECTIONS, ALIGNED_UNION, [0, 0, 0]);
      // Negative offsets are kept: the first chunk is named from the union's corner.
      const names = await readdir(join(out, info.scales[0].key));
      if (!sharded) assert.ok(names.includes('-50--34_-21--5_0-4'), `first chunk in ${names.slice(0, 4)}`);
      else assert.ok(names.length > 0 && names.every((n) => n.endsWith('.shard')));
    }
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});

test("the seed's ChunkFlow config with the task producer's grid: the grid's tasks that hold sections, placed by origin and offset", async () => {
  requireH5py();
  requireTensorStore();
  const root = await tempDir('ferry-aligned-');
  try {
    // 6-field lines, and registerFile naming the folder (AlignedBigArray then reads its registry.txt).
    await writeAlignedStack(join(root, 'aligned'), ALIGNED_SECTIONS, { sixFields: true });
    const out = join(root, 'image');
    // BigArrays writes the chunks to the scale's folder and reads the info from its parent.
    await writeChunkFlowConfig(join(root, 'ingest2folder.json'), {
      params: { origin: [-63, -31, 1], cutoutSize: [32, 32, 4], offset: [64, 32, 0], voxelSize: [4, 4, 40], nonzeroRatioThreshold: 0 },
      registerFile: 'aligned',
      path: 'image/4_4_40/',
    });
    // taskproducer.jl -o -63,-31,1 -s 32,32,4 -g 5,5,3 covers aligned x -64..96, y -32..128, z 0..12 (0-based):
    // x stops short of the sections' 100, y and z reach past them.
    const { plan } = await ingest(join(root, 'ledger.sqlite'), ['--task', join(root, 'ingest2folder.json'), '--grid', '5,5,3', '--chunk', '16,16,4']);
    assert.match(plan.stderr + plan.stdout, /the task grid covers \[-64,-32,0\]\.\.\[96,128,12\] of the source but its data reaches \[-50,-21,0\]\.\.\[100,85,5\] \(x: 0 below, 4 above\)/);
    assert.match(plan.stdout, /Task grid: origin -63,-31,1 \(1-based\), 5 x 5 x 3 tasks, stride 32,32,4, cutouts of 32,32,4: source \[-64,-32,0\]\.\.\[96,128,12\]; the tasks that hold sections keep \[-64,-32,0\]\.\.\[96,96,8\]/);
    assert.match(plan.stdout, /40 task\(s\) of 32,32,4 voxels/);
    // ChunkFlow writes the task at origin o to voxel o - 1 + offset: here the grid's corner is voxel 0,0,0.
    const box: Box = { start: [-64, -32, 0], end: [96, 96, 8] };
    await checkAgainstTensorStore(out, ALIGNED_SECTIONS, box, [64, 32, 0]);
    assert.ok((await readdir(join(out, '4_4_40'))).includes('0-16_0-16_0-4'), 'the chunk BigArrays would name for the first task');
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});

test('a section missing from disk is named at plan time; with --fill-gaps it reads as zeros', async () => {
  requireH5py();
  requireTensorStore();
  const root = await tempDir('ferry-aligned-');
  try {
    const sections = ALIGNED_SECTIONS.map((s, z) => (z === 2 ? { ...s, absent: true } : s));
    const registry = await writeAlignedStack(join(root, 'aligned'), sections);
    const out = join(root, 'out');
    const ledger = join(root, 'ledger.sqlite');
    const refused = await runFerry(['volume', 'plan', registry, out, '--voxel-size', '4,4,40', '--chunk', '16,16,4', '--ledger', ledger]);
    assert.equal(refused.code, 2, refused.stderr);
    assert.match(refused.stderr, /section .*aligned\/1,3_prealigned\.h5 \(registry line 3\) does not exist/);
    assert.match(refused.stderr, /--fill-gaps/);
    assert.doesNotMatch(refused.stderr, /\n\s+at /, 'no stack trace');
    const { plan } = await ingest(ledger, [registry, out, '--voxel-size', '4,4,40', '--chunk', '16,16,4', '--task-size', '64,64,4', '--nonzero-threshold', '0', '--fill-gaps']);
    assert.match(plan.stderr + plan.stdout, /1 section\(s\) the registry lists do not exist and are written as zeros \(--fill-gaps\): z 2/);
    // The missing section no longer widens the union: x starts at -37.
    await checkAgainstTensorStore(out, sections, { start: [-37, -21, 0], end: [100, 85, 5] }, [0, 0, 0]);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});
