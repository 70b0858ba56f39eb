// Storage specs: URLs, the one options schema job parameters are checked against, and opening a
// store from a spec.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { openStore } from './open.ts';
import { StoreOptionsSchema, StoreSpecSchema } from './spec-schema.ts';
import { definedOptions, localPathOf, parseStoreUrl } from './spec.ts';

test('URLs name a folder, a bucket and prefix, or a memory prefix', () => {
  assert.deepEqual(parseStoreUrl('s3://bucket/raw'), { scheme: 's3', bucket: 'bucket', path: 'raw/' });
  assert.deepEqual(parseStoreUrl('gs://bucket'), { scheme: 'gs', bucket: 'bucket', path: '' });
  assert.deepEqual(parseStoreUrl('memory://demo/bucket'), { scheme: 'memory', bucket: '', path: 'demo/bucket/' });
  assert.throws(() => parseStoreUrl('s3://Bad_Bucket/x'), /"Bad_Bucket" is not a valid bucket name/);
  assert.throws(() => parseStoreUrl('ftp://host/x'), /unsupported URL scheme "ftp:\/\/"/);
});

test('only a local path or file:// URL has a local path', () => {
  assert.equal(localPathOf('data/run1'), 'data/run1');
  assert.equal(localPathOf('file:///data/run%201'), '/data/run 1');
  assert.equal(localPathOf('s3://bucket/run1'), undefined);
  assert.equal(localPathOf('memory://run1'), undefined);
});

test('job parameters keep only the options that are set', () => {
  assert.equal(definedOptions(undefined), undefined);
  assert.equal(definedOptions({ profile: undefined }), undefined);
  assert.deepEqual(definedOptions({ profile: 'lab', partSize: undefined, pathStyle: false }), { profile: 'lab', pathStyle: false });
});

test('the options schema takes what the drivers declare and refuses wrong values', () => {
  const good = { endpoint: 'http://127.0.0.1:7480', pathStyle: true, partSize: 16 * 1024 * 1024, partConcurrency: 4, keyFile: '/k.json' };
  assert.deepEqual(StoreOptionsSchema.parse(good), good);
  for (const bad of [{ partSize: -1 }, { partConcurrency: 1.5 }, { pathStyle: 'yes' }, { region: 3 }]) {
    assert.equal(StoreOptionsSchema.safeParse(bad).success, false, JSON.stringify(bad));
  }
  assert.equal(StoreSpecSchema.safeParse({ url: '', options: {} }).success, false, 'a spec names a store');
});

test('a spec opens the store it names', async () => {
  const store = await openStore({ url: 'memory://spec-test/', options: { partSize: 1024 } });
  assert.equal(store.url, 'memory://spec-test/');
  await store.close();
});
