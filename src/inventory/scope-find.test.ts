import { test } from 'node:test';
import assert from 'node:assert/strict';
import { acquisitionDays } from './scope-find.ts';

test('the scope is listed from two days before the first tile to the last, across month ends', () => {
  assert.deepEqual(acquisitionDays(['Merlin-6285_21-09-01_000105_0-0-0', 'Merlin-6285_21-08-31_235959_0-0-1', 'not-a-tile']), [
    '2021-08-29',
    '2021-08-30',
    '2021-08-31',
    '2021-09-01',
  ]);
  assert.deepEqual(acquisitionDays(['notes.txt']), []);
});
