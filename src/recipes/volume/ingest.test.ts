// End to end through the real CLI: `ferry volume plan` + `ferry work` from PNG/TIFF sections to a
// folder, read back by Ferry's reader and by TensorStore, every voxel of every scale compared.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { scaleBox } from '../../formats/precomputed/grid.ts';
import { parseInfoBytes } from '../../formats/precomputed/info.ts';
import { readBox, readInfo } from '../../formats/precomputed/reader.ts';
import { openStore } from '../../storage/open.ts';
import { tempDir } from '../../testing/tree.ts';
import { readTaskRecords } from '../../volume/commit.ts';
import { expectedScales, ingest, requireTensorStore, sameVoxels, tensorStoreKvstore, tensorStoreRead, writeChunkFlowConfig, writeStack } from '../../testing/volume.ts';

async function checkFolder(dir: string, stackVoxels: Parameters<typeof expectedScales>[1], factor: [number, number, number], scales: number) {
  const store = await openStore(dir);
  try {
    const info = await readInfo(store);
    assert.equal(info.scales.length, scales);
    const expected = expectedScales(info, stackVoxels, factor);
    for (let k = 0; k < scales; k++) {
      const s = info.scales[k];
      sameVoxels(await readBox(store, info, s.key, scaleBox(s)), expected[k], `Ferry reading scale ${s.key}`);
    }
    const viaTs = await tensorStoreRead(tensorStoreKvstore(dir), info);
    for (let k = 0; k < scales; k++) sameVoxels(viaTs[k], expected[k], `TensorStore reading scale ${info.scales[k].key}`);
    return info;
  } finally {
    await store.close();
  }
}

test('8-bit PNG sections to an unsharded folder: 3 scales, odd offset, edge chunks, several tasks', async () => {
  requireTensorStore();
  const root = await tempDir('ferry-volume-');
  try {
    const stack = await writeStack(join(root, 'sections'), [150, 130, 11], 'uint8', { firstNumber: 7 });
    const out = join(root, 'out');
    const { plan } = await ingest(join(root, 'ledger.sqlite'), [
      stack.dir, out, '--voxel-size', '4,4,40', '--offset', '5,-3,1', '--chunk', '16,16,4', '--task-size', '64,64,8', '--scales', '3', '--nonzero-threshold', '0',
    ]);
    assert.match(plan.stdout, /18 task\(s\)/);
    const info = await checkFolder(out, stack.voxels, [2, 2, 1], 3);
    assert.deepEqual(info.scales.map((s) => s.voxel_offset), [[5, -3, 1], [2, -2, 1], [1, -1, 1]]);
    // A folder holds plain raw chunks (no gzip) under their Neuroglancer names, so any static server works.
    const names = await readdir(join(out, '4_4_40'));
    assert.ok(names.includes('5-21_-3-13_1-5'), `first chunk name in ${names.slice(0, 3)}`);
    assert.ok(names.includes('149-155_125-127_9-12'), 'clipped edge chunk');
    assert.equal((await stat(join(out, '4_4_40', '149-155_125-127_9-12'))).size, 6 * 2 * 3);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});

test('16-bit TIFF sections to a sharded folder with 2x2x2 scales: one task per shard group, TensorStore agrees', async () => {
  requireTensorStore();
  const root = await tempDir('ferry-volume-');
  try {
    const stack = await writeStack(join(root, 'sections'), [100, 70, 20], 'uint16', { format: 'tiff' });
    const out = join(root, 'out');
    await ingest(join(root, 'ledger.sqlite'), [
      stack.dir, out, '--voxel-size', '8,8,8', '--offset', '-7,9,3', '--chunk', '8,8,4', '--task-size', '32,32,16', '--scales', '3', '--factor', '2,2,2', '--sharded', '--nonzero-threshold', '0',
    ]);
    const info = await checkFolder(out, stack.voxels, [2, 2, 2], 3);
    assert.ok(info.scales.every((s) => s.sharding?.data_encoding === 'gzip'));
    const shards = (await readdir(join(out, info.scales[0].key))).filter((n) => n.endsWith('.shard'));
    assert.ok(shards.length >= 4, `several shards in scale 0: ${shards}`);
    assert.equal((await readdir(join(out, info.scales[0].key))).length, shards.length, 'nothing but shard files');
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});

test('empty chunks are not written and are recorded; re-planning the finished volume adds nothing', async () => {
  const root = await tempDir('ferry-volume-');
  try {
    const hole = { start: [0, 0, 0] as [number, number, number], end: [40, 32, 8] as [number, number, number] };
    const stack = await writeStack(join(root, 'sections'), [64, 48, 8], 'uint8', { hole });
    const out = join(root, 'out');
    const ledger = join(root, 'ledger.sqlite');
    const args = [stack.dir, out, '--voxel-size', '4,4,40', '--chunk', '16,16,8', '--task-size', '32,32,8'];
    await ingest(ledger, args);
    const names = await readdir(join(out, '4_4_40'));
    // The hole covers chunks x 0-32, y 0-32 (2 x 2); x 32-48 is half zeros and stays.
    for (const gone of ['0-16_0-16_0-8', '16-32_0-16_0-8', '0-16_16-32_0-8', '16-32_16-32_0-8']) assert.ok(!names.includes(gone), `${gone} was written`);
    assert.equal(names.length, 4 * 3 - 4);
    const store = await openStore(out);
    try {
      const info = await readInfo(store);
      const skipped = (await readTaskRecords(store, info)).flatMap((r) => r.skipped).sort();
      assert.deepEqual(skipped, ['4_4_40/0-16_0-16_0-8', '4_4_40/0-16_16-32_0-8', '4_4_40/16-32_0-16_0-8', '4_4_40/16-32_16-32_0-8']);
      sameVoxels(await readBox(store, info, '4_4_40', scaleBox(info.scales[0])), stack.voxels, 'skipped chunks read as zeros');
    } finally {
      await store.close();
    }
    const again = await ingest(ledger, args);
    assert.match(again.plan.stdout, /already complete/);
    assert.match(again.plan.stdout, /Planned 0 new job/);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});

test('a re-run after a crash half-way (a record, a chunk and the info lost) finishes the volume with the same info', async () => {
  const root = await tempDir('ferry-volume-');
  try {
    const stack = await writeStack(join(root, 'sections'), [64, 64, 8], 'uint8');
    const out = join(root, 'out');
    const ledger = join(root, 'ledger.sqlite');
    const args = [stack.dir, out, '--voxel-size', '4,4,40', '--chunk', '16,16,8', '--task-size', '32,32,8', '--scales', '2'];
    await ingest(ledger, args);
    const info = await readFile(join(out, 'info'));
    // As if the last task died half-way: its record and the info gone, one of its chunks gone.
    const records = join(out, '.ferry-ingest', (await readdir(join(out, '.ferry-ingest')))[0]);
    await rm(join(records, 'task_1_1_0.json'));
    await rm(join(out, 'info'));
    await rm(join(out, '4_4_40', '48-64_48-64_0-8'));
    // A new run of the same plan (another run name) finds three tasks recorded; the fourth finishes.
    await ingest(ledger, [...args, '--run', 'again']);
    assert.ok((await readFile(join(out, 'info'))).equals(info));
    await stat(join(out, '4_4_40', '48-64_48-64_0-8'));
    parseInfoBytes(info);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});

test('ChunkFlow task description with a registry file, then that volume re-written sharded from its precomputed form', async () => {
  const root = await tempDir('ferry-volume-');
  try {
    const stack = await writeStack(join(root, 'sections'), [70, 50, 6], 'uint8');
    const names = (await readdir(stack.dir)).sort();
    // The registry lists the sections in z order, relative to itself, each placed at 0,0 (the aligned form, 6 fields).
    await writeFile(join(root, 'registry.txt'), `# aligned sections\n${names.map((n) => `sections/${n} 0 0 70 50 1`).join('\n')}\n`);
    const out = join(root, 'image');
    // ChunkFlow's path is the scale's folder; its parent holds the info.
    await writeChunkFlowConfig(join(root, 'ingest2folder.json'), {
      params: { origin: [1, 1, 1], cutoutSize: [32, 32, 6], offset: [10, 20, 0], voxelSize: [4, 4, 40], nonzeroRatioThreshold: 0.01 },
      registerFile: 'registry.txt',
      path: join(out, '4_4_40'),
    });
    const ledger = join(root, 'ledger.sqlite');
    const { plan } = await ingest(ledger, ['--task', join(root, 'ingest2folder.json'), '--chunk', '16,16,6']);
    assert.match(plan.stdout, /registry/);
    const store = await openStore(out);
    let info;
    try {
      info = await readInfo(store);
      assert.deepEqual(info.scales[0].voxel_offset, [10, 20, 0]);
      sameVoxels(await readBox(store, info, info.scales[0].key, scaleBox(info.scales[0])), stack.voxels, 'volume from the registry');
    } finally {
      await store.close();
    }
    // The written volume as a source: same offset, now sharded with a second scale.
    const resharded = join(root, 'sharded');
    await ingest(ledger, [out, resharded, '--voxel-size', '4,4,40', '--chunk', '16,16,6', '--task-size', '32,32,6', '--scales', '2', '--sharded', '--nonzero-threshold', '0']);
    await checkFolder(resharded, stack.voxels, [2, 2, 1], 2);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});
