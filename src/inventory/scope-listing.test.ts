import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseScopeListing } from './scope-listing.ts';

test('a find listing becomes base names with their scope paths; other lines are set apart', () => {
  const text = [
    '/cygdrive/e/Images/Fly Brain/Y2021/M08/D23/Merlin-6285_21-08-23_084156_0-0-0.dat',
    '  /cygdrive/e/Images/Fly Brain/Y2021/M08/D23/Merlin-6285_21-08-23_084156_0-0-1.dat\r',
    '',
    "find: '/cygdrive/e/Images/Fly Brain/Y2021/M08/D21/': No such file or directory",
  ].join('\n');
  const l = parseScopeListing(text);
  assert.deepEqual([...l.paths.keys()], ['Merlin-6285_21-08-23_084156_0-0-0', 'Merlin-6285_21-08-23_084156_0-0-1']);
  assert.equal(l.paths.get('Merlin-6285_21-08-23_084156_0-0-1'), '/cygdrive/e/Images/Fly Brain/Y2021/M08/D23/Merlin-6285_21-08-23_084156_0-0-1.dat');
  assert.deepEqual(l.ignored, ["find: '/cygdrive/e/Images/Fly Brain/Y2021/M08/D21/': No such file or directory"]);
});
