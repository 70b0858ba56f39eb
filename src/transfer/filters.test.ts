import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeFilter } from './filters.ts';

test('a pattern without a slash matches file names at any depth; exclude wins', () => {
  const f = makeFilter({ include: ['*.tif', 'meta/*.json'], exclude: ['**/tmp/**', 'bad.tif'] });
  assert.equal(f('a.tif'), true);
  assert.equal(f('deep/er/a.tif'), true);
  assert.equal(f('meta/x.json'), true);
  assert.equal(f('other/x.json'), false);
  assert.equal(f('a/tmp/b.tif'), false);
  assert.equal(f('x/bad.tif'), false);
  assert.equal(f('a.png'), false);
  assert.equal(makeFilter({})('anything'), true);
});
