// Paths and URLs name files and folders the way users typed them, and a file opens as its
// folder's store plus a key.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { tempDir } from '../testing/tree.ts';
import { FolderStores, absoluteLocation, joinLocation, localPath, resolveLocation, splitLocation } from './location.ts';

test('locations split, join and resolve as paths do for paths and as keys do for URLs', () => {
  assert.deepEqual(splitLocation('/data/raw/t.dat'), { folder: '/data/raw', name: 't.dat' });
  assert.deepEqual(splitLocation('t.dat'), { folder: '.', name: 't.dat' });
  assert.deepEqual(splitLocation('s3://bkt/run/InLens/'), { folder: 's3://bkt/run/', name: 'InLens' });
  assert.deepEqual(splitLocation('gs://bkt/t.dat'), { folder: 'gs://bkt/', name: 't.dat' });
  assert.throws(() => splitLocation('s3://bkt'), /names a bucket, not a file/);

  assert.equal(joinLocation('/data/InLens', 't-InLens.png'), '/data/InLens/t-InLens.png');
  assert.equal(joinLocation('s3://bkt/InLens', 't-InLens.png'), 's3://bkt/InLens/t-InLens.png');
  assert.equal(joinLocation('s3://bkt/InLens/', 't-InLens.png'), 's3://bkt/InLens/t-InLens.png');

  assert.equal(resolveLocation('/data/reg', 'sections/s1.png'), '/data/reg/sections/s1.png');
  assert.equal(resolveLocation('/data/reg', '/elsewhere/s1.png'), '/elsewhere/s1.png');
  assert.equal(resolveLocation('s3://bkt/reg/', '../sections/s1.png'), 's3://bkt/sections/s1.png');
  assert.equal(resolveLocation('s3://bkt/reg/', '/top/s1.png'), 's3://bkt/top/s1.png');
  assert.equal(resolveLocation('s3://bkt/reg/', 'gs://other/s1.png'), 'gs://other/s1.png');

  assert.equal(absoluteLocation('rel/x'), resolve('rel/x'));
  assert.equal(absoluteLocation('s3://bkt/x'), 's3://bkt/x');
});

test('files open as their folder\'s store and a key, one store per folder; a local key has a local path', async () => {
  const root = await tempDir('ferry-location-');
  const stores = new FolderStores();
  try {
    await mkdir(join(root, 'a b'));
    await writeFile(join(root, 'a b', 'tile #1.dat'), 'x');
    const f = await stores.file(join(root, 'a b', 'tile #1.dat'));
    assert.equal(f.key, 'tile #1.dat');
    assert.equal(f.name, join(root, 'a b', 'tile #1.dat'));
    assert.equal((await f.store.stat(f.key))?.size, 1);
    assert.equal(localPath(f.store, f.key), join(root, 'a b', 'tile #1.dat'));
    assert.equal(localPath(f.store, 'sub/x.png'), join(root, 'a b', 'sub', 'x.png'));
    assert.equal((await stores.file(join(root, 'a b', 'other.dat'))).store, f.store, 'the folder is opened once');
    await assert.rejects(stores.file(`${root}/`), /names a folder, not a file/);
    assert.equal(localPath({ url: 's3://bkt/p/', capabilities: { local: false, keepsContentEncoding: true, serverChecksum: 'md5-etag' } }, 'x.png'), undefined);
  } finally {
    await stores.close();
    await rm(root, { recursive: true, force: true });
  }
});
