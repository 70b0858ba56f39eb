import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseScopeListing, scopePathsOf } from './scope-listing.ts';

test('a find listing becomes base names with their scope paths; other lines are set apart', () => {
  const text = [
    '/cygdrive/e/Images/Fly Brain/Y2021/M08/D23/Merlin-6285_21-08-23_084156_0-0-0.dat',
    '  /cygdrive/e/Images/Fly Brain/Y2021/M08/D23/Merlin-6285_21-08-23_084156_0-0-1.dat\r',
    '',
    "find: '/cygdrive/e/Images/Fly Brain/Y2021/M08/D21/': No such file or directory",
  ].join('\n');
  const l = parseScopeListing(text);
  assert.deepEqual(l.names, ['Merlin-6285_21-08-23_084156_0-0-0', 'Merlin-6285_21-08-23_084156_0-0-1']);
  assert.deepEqual(scopePathsOf(l, ['Merlin-6285_21-08-23_084156_0-0-1', 'Merlin-6285_21-08-23_084156_0-0-2']), new Map([['Merlin-6285_21-08-23_084156_0-0-1', '/cygdrive/e/Images/Fly Brain/Y2021/M08/D23/Merlin-6285_21-08-23_084156_0-0-1.dat']]));
  assert.deepEqual(l.ignored, ["find: '/cygdrive/e/Images/Fly Brain/Y2021/M08/D21/': No such file or directory"]);
});

test('a tile listed twice (copied to a second day folder) is fetched from the path listed last', () => {
  const l = parseScopeListing('/r/Y2021/M08/D23/Merlin-6285_21-08-23_084156_0-0-0.dat\n/r/Y2021/M08/D24/Merlin-6285_21-08-23_084156_0-0-0.dat\n');
  assert.deepEqual(scopePathsOf(l, ['Merlin-6285_21-08-23_084156_0-0-0']).get('Merlin-6285_21-08-23_084156_0-0-0'), '/r/Y2021/M08/D24/Merlin-6285_21-08-23_084156_0-0-0.dat');
});

test('a line with a NUL character names no file: it is set apart, not a tile', () => {
  const l = parseScopeListing('/r/Y2021/M08/D23/Merlin-6285_21-08-23_084156_0-0-0.dat\n/r/Y2021/M08/D23/bad\0name.dat\n');
  assert.deepEqual(l.names, ['Merlin-6285_21-08-23_084156_0-0-0']);
  assert.deepEqual(l.ignored, ['/r/Y2021/M08/D23/bad\0name.dat']);
});
