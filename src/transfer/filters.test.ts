import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeFilter, makeFolderFilter } from './filters.ts';

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

test('a pattern that cannot mean what was typed is refused with what is wrong, not taken to match nothing', () => {
  const refused: [string, RegExp][] = [
    ['[z-a]*.tif', /range z-a runs backwards/],
    ['img[1.tif', /'\[' is never closed/],
    ['*.{tif,png', /'\{' is never closed/],
    ['*.tif}', /'\}' closes no '\{'/],
    ['[[:alfa:]]*', /\[:alfa:\] is not a character class/],
    ['', /empty pattern/],
  ];
  for (const [p, why] of refused) {
    assert.throws(() => makeFilter({ include: [p] }), (e: Error & { kind?: string }) => why.test(e.message) && e.kind === 'usage' && e.message.includes('--include'), p);
  }
  assert.throws(() => makeFilter({ exclude: ['[b-a]'] }), /--exclude "\[b-a\]": the range b-a runs backwards/);
  for (const p of ['*.tif', 'raw/**/*.dat', 'img[[]1].tif', '[]ab]*', '[!a-c]*.tif', '[[:digit:]]*', '*.{tif,png}', 'a-b[x-]']) {
    assert.doesNotThrow(() => makeFilter({ include: [p] }), p);
  }
  assert.equal(makeFilter({ include: ['img[[]1].tif'] })('d/img[1].tif'), true);
});

test('a folder is left out of what is reported only when an exclude pattern leaves out all it holds', () => {
  const folder = makeFolderFilter({ include: ['*.tif'], exclude: ['private/**', 'half/*'] });
  assert.equal(folder('private/'), false);
  assert.equal(folder('half/'), true, "half/* leaves out half/x but not half/x/y");
  assert.equal(folder('raw/'), true, 'an --include does not hide a folder: it may hold what it includes');
});
