import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseTileName } from './tile-name.ts';

test('a standard name gives the pipeline\'s base id, row, column and time', () => {
  const n = parseTileName('Merlin-6285_21-08-23_084156_0-1-2.dat');
  assert.deepEqual(n, {
    core: 'Merlin-6285_21-08-23_084156_0-1-2',
    baseId: '21-08-23_084156_0-1-2',
    time: Date.UTC(2021, 7, 23, 8, 41, 56) / 1000,
    row: 1,
    col: 2,
  });
});

test('row and column are one digit: a two-digit row does not match, a two-digit column reads its first digit', () => {
  assert.equal(parseTileName('Merlin-6285_21-08-23_084156_0-10-2.dat'), undefined);
  const n = parseTileName('Merlin-6285_21-08-23_084156_0-0-12.dat')!;
  assert.equal(n.col, 1);
  assert.equal(n.baseId, '21-08-23_084156_0-0-1');
});

test('two-digit years 69 to 99 are the 1900s, as strptime %y reads them', () => {
  assert.equal(parseTileName('S_69-01-01_000000_0-0-0.dat')!.time, Date.UTC(1969, 0, 1) / 1000);
  assert.equal(parseTileName('S_68-01-01_000000_0-0-0.dat')!.time, Date.UTC(2068, 0, 1) / 1000);
});

test('a date strptime refuses is not a tile name', () => {
  assert.equal(parseTileName('Merlin_21-13-01_000000_0-0-0.dat'), undefined);
  assert.equal(parseTileName('Merlin_21-04-31_000000_0-0-0.dat'), undefined);
  assert.equal(parseTileName('Merlin_21-04-30_240000_0-0-0.dat'), undefined);
  assert.equal(parseTileName('notes.txt'), undefined);
});

test('the last timestamp in a name is the one used (the pattern\'s leading .* is greedy)', () => {
  assert.equal(parseTileName('Merlin_21-01-01_000000_0-0-0_copy_21-02-02_111111_0-1-1.dat')!.baseId, '21-02-02_111111_0-1-1');
});
