import assert from 'node:assert/strict';
import { test } from 'node:test';
import { childFolder, childKey } from './keys.ts';
import { parseStoreUrl } from './spec.ts';

test('a key is normalised; one that would leave its root, or names nothing, is refused', () => {
  assert.equal(childKey('/a//./b/', 'k'), 'a/b');
  assert.equal(childKey('a/x/../b', 'k'), 'a/b');
  for (const bad of ['..', '../x', 'a/../../x', 'cpg0016-jump/../../../etc', '', '/', './.', 'a\0b']) {
    assert.throws(() => childKey(bad, 'the key'), (e: Error & { kind?: string }) => e.kind === 'config' && /^the key /.test(e.message), bad);
  }
});

test('a folder below a location of any kind stays below it', () => {
  assert.equal(childFolder('s3://b/LAB', 'cpg/x', 'k'), 's3://b/LAB/cpg/x/');
  assert.equal(childFolder('/data/out/', 'a/b', 'k'), '/data/out/a/b/');
  // In a file:// URL a name keeps its '%' and '#': the URL is decoded once, by the store.
  const url = childFolder('file:///data/out', 'p%20#1', 'k');
  assert.equal(parseStoreUrl(url).path, '/data/out/p%20#1/');
  assert.throws(() => childFolder('gs://b/p', '../../other-bucket/x', 'k'), /leaves the destination/);
});

test('a store URL with ".." in its key prefix, or a malformed %-escape, is a clear error', () => {
  assert.throws(() => parseStoreUrl('s3://bucket/LAB/../../other/x'), /has a "\.\." in its key prefix/);
  assert.throws(() => parseStoreUrl('gs://bucket/..'), /has a "\.\." in its key prefix/);
  assert.throws(() => parseStoreUrl('file:///tmp/%zz'), /malformed %-escape/);
  assert.equal(parseStoreUrl('s3://bucket/a..b/c').path, 'a..b/c/');
});
