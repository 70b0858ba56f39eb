// The same round trip to the real S3 server: raw chunks gzipped under Content-Encoding with their
// plain names, shards without it; read back by Ferry's reader and by TensorStore's S3 driver.
// Sections on S3 too: a folder of PNGs, a registry of TIFFs, an aligned stack of HDF5 sections.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { scaleBox } from '../../formats/precomputed/grid.ts';
import { readBox, readInfo } from '../../formats/precomputed/reader.ts';
import { openStore } from '../../storage/open.ts';
import { adminClient, createBucket, dropBucket, s3TestServer, useServerKeys } from '../../testing/s3.ts';
import { tempDir } from '../../testing/tree.ts';
import { requireH5py } from '../../testing/hdf5.ts';
import { ALIGNED_SECTIONS, ALIGNED_UNION, alignedVolume, expectedScales, ingest, requireTensorStore, sameVoxels, tensorStoreKvstore, tensorStoreRead, writeAlignedStack, writeStack } from '../../testing/volume.ts';

test('sections to S3, unsharded (gzip Content-Encoding) and sharded: every voxel of every scale, by Ferry and by TensorStore', async () => {
  requireTensorStore();
  const server = s3TestServer();
  useServerKeys(server);
  const client = adminClient(server);
  const bucket = await createBucket(client, 'ferry-volume');
  const root = await tempDir('ferry-volume-s3-');
  const s3 = ['--endpoint-url', server.endpoint, '--path-style', '--region', 'us-east-1'];
  try {
    const stack = await writeStack(join(root, 'sections'), [130, 100, 12], 'uint8');
    for (const sharded of [false, true]) {
      const prefix = sharded ? 'sharded' : 'plain';
      const url = `s3://${bucket}/${prefix}`;
      await ingest(join(root, 'ledger.sqlite'), [
        stack.dir, url, ...s3, '--voxel-size', '4,4,40', '--offset', '3,-5,2', '--chunk', '16,16,4', '--task-size', '64,64,8', '--scales', '3', '--nonzero-threshold', '0', '--run', prefix,
        ...(sharded ? ['--sharded'] : []),
      ]);
      const store = await openStore(url, { endpoint: server.endpoint, pathStyle: true, region: 'us-east-1' });
      try {
        const info = await readInfo(store);
        const keys: string[] = [];
        for await (const o of store.list(`${info.scales[0].key}/`)) keys.push(o.key);
        assert.ok(keys.length > 0 && keys.every((k) => !k.endsWith('.gz')), 'no .gz names');
        const first = await store.stat(keys[0]);
        assert.equal(first?.contentEncoding, sharded ? undefined : 'gzip', `${keys[0]} Content-Encoding`);
        if (sharded) assert.ok(keys.every((k) => k.endsWith('.shard')));
        const expected = expectedScales(info, stack.voxels, [2, 2, 1]);
        for (let k = 0; k < info.scales.length; k++) {
          const s = info.scales[k];
          sameVoxels(await readBox(store, info, s.key, scaleBox(s)), expected[k], `Ferry reading ${prefix} scale ${s.key} from S3`);
        }
        const viaTs = await tensorStoreRead(tensorStoreKvstore({ bucket, path: `${prefix}/`, endpoint: server.endpoint }), info);
        for (let k = 0; k < info.scales.length; k++) sameVoxels(viaTs[k], expected[k], `TensorStore reading ${prefix} scale ${info.scales[k].key} from S3`);
      } finally {
        await store.close();
      }
    }
  } finally {
    await dropBucket(client, bucket);
    await rm(root, { recursive: true, force: true });
  }
});

test('sections on S3, a folder of PNGs and a registry of 16-bit TIFFs, ingested to a folder: every voxel', async () => {
  const server = s3TestServer();
  useServerKeys(server);
  const client = adminClient(server);
  const bucket = await createBucket(client, 'ferry-sections');
  const root = await tempDir('ferry-volume-s3-sections-');
  const s3 = ['--endpoint-url', server.endpoint, '--path-style', '--region', 'us-east-1'];
  const store = await openStore(`s3://${bucket}/`, { endpoint: server.endpoint, pathStyle: true, region: 'us-east-1' });
  try {
    const png = await writeStack(join(root, 'png'), [70, 50, 6], 'uint8');
    const tiff = await writeStack(join(root, 'tiff'), [40, 30, 5], 'uint16', { format: 'tiff' });
    for (const [stack, prefix] of [[png, 'stack/'], [tiff, 'aligned/tiff/']] as const) {
      for (const name of await readdir(stack.dir)) await store.write(prefix + name, await readFile(join(stack.dir, name)));
    }
    // The registry lists the TIFFs relative to its own folder, in z order, one file a line.
    const names = (await readdir(tiff.dir)).sort();
    await store.write('aligned/registry.txt', Buffer.from(names.map((n) => `tiff/${n}`).join('\n')));
    for (const [src, stack, run] of [[`s3://${bucket}/stack/`, png, 'png'], [`s3://${bucket}/aligned/registry.txt`, tiff, 'tiff']] as const) {
      const out = join(root, `out-${run}`);
      const { plan } = await ingest(join(root, 'ledger.sqlite'), [src, out, ...s3, '--voxel-size', '4,4,40', '--chunk', '16,16,2', '--task-size', '32,32,4', '--nonzero-threshold', '0', '--run', run]);
      assert.match(plan.stdout, new RegExp(`\\((sections|registry) ${src.replace(/[.]/g, '\\.')}\\)`));
      const local = await openStore(out);
      try {
        const info = await readInfo(local);
        assert.equal(info.data_type, stack.dataType);
        sameVoxels(await readBox(local, info, info.scales[0].key, scaleBox(info.scales[0])), stack.voxels, `the ${run} stack from S3`);
      } finally {
        await local.close();
      }
    }
  } finally {
    await store.close();
    await dropBucket(client, bucket);
    await rm(root, { recursive: true, force: true });
  }
});

test('aligned HDF5 sections on S3 (read by byte range) to S3, unsharded and sharded: TensorStore reads every voxel at the aligned coordinates', async () => {
  requireH5py();
  requireTensorStore();
  const server = s3TestServer();
  useServerKeys(server);
  const client = adminClient(server);
  const bucket = await createBucket(client, 'ferry-aligned');
  const root = await tempDir('ferry-volume-s3-aligned-');
  const s3 = ['--endpoint-url', server.endpoint, '--path-style', '--region', 'us-east-1'];
  const options = { endpoint: server.endpoint, pathStyle: true, region: 'us-east-1' };
  const store = await openStore(`s3://${bucket}/`, options);
  try {
    const local = join(root, 'aligned');
    await writeAlignedStack(local, ALIGNED_SECTIONS);
    for (const name of await readdir(local)) await store.write(`pinky/5_finished/${name}`, await readFile(join(local, name)));
    for (const sharded of [false, true]) {
      const prefix = sharded ? 'sharded' : 'plain';
      const { plan } = await ingest(join(root, 'ledger.sqlite'), [
        `s3://${bucket}/pinky/5_finished/registry.txt`, `s3://${bucket}/${prefix}`, ...s3,
        '--voxel-size', '4,4,40', '--chunk', '16,16,4', '--task-size', '32,32,4', '--scales', '2', '--nonzero-threshold', '0', '--run', prefix,
        ...(sharded ? ['--sharded'] : []),
      ]);
      assert.match(plan.stdout, /voxel_offset -50,-21,0, size 150,106,5/);
      const out = await openStore(`s3://${bucket}/${prefix}`, options);
      try {
        const info = await readInfo(out);
        const expected = expectedScales(info, alignedVolume(ALIGNED_SECTIONS, ALIGNED_UNION), [2, 2, 1]);
        const viaTs = await tensorStoreRead(tensorStoreKvstore({ bucket, path: `${prefix}/`, endpoint: server.endpoint }), info);
        for (let k = 0; k < info.scales.length; k++) sameVoxels(viaTs[k], expected[k], `TensorStore reading ${prefix} scale ${info.scales[k].key} from S3`);
      } finally {
        await out.close();
      }
    }
  } finally {
    await store.close();
    await dropBucket(client, bucket);
    await rm(root, { recursive: true, force: true });
  }
});
