import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkTab } from './tab-check.ts';

const day = (t: string, tile: string) => `Merlin-6285_21-08-23_${t}_${tile}`;
const tiles = (t: string) => ['0-0-0', '0-0-1', '0-0-2'].map((k) => day(t, k));
// Three layers of three tiles; the middle layer never left the scope.
const ALL = [...tiles('084156'), ...tiles('084212'), ...tiles('084230')];
const TRANSFERRED = [...tiles('084156'), ...tiles('084230')];

test('the seed scenario: tiles on the scope that never arrived are missing dat and missing png', () => {
  const r = checkTab({
    inLensPng: TRANSFERRED.map((n) => `${n}-InLens.png`),
    transferredDat: TRANSFERRED.map((n) => `${n}.dat`),
    archiveDat: TRANSFERRED.map((n) => `${n}.dat`),
    logs: TRANSFERRED.map((n) => `${n}.log`),
    scopeDat: ALL,
  });
  assert.deepEqual(r.counts, { inLensPng: 6, transferredDat: 6, archivedDat: 6, scopeDat: 9, logs: 6 });
  assert.deepEqual(r.missingDat, tiles('084212'));
  assert.deepEqual(r.missingInLensPng, tiles('084212'));
  assert.deepEqual(r.unarchivedDat, []);
  assert.equal(r.complete, false);
});

test('everything present: complete, and first / last / count come from the archive', () => {
  const r = checkTab({
    inLensPng: ALL.map((n) => `${n}-InLens.png`),
    transferredDat: ALL.map((n) => `${n}.dat`),
    archiveDat: ALL.map((n) => `${n}.dat`),
    logs: ALL.map((n) => `${n}.log`),
    scopeDat: ALL,
    expected: { firstDat: `${ALL[0]}.dat`, lastDat: ALL[8], count: 9 },
  });
  assert.equal(r.complete, true);
  assert.deepEqual(r.firstDat, { actual: ALL[0], expected: ALL[0], ok: true });
  assert.deepEqual(r.lastDat, { actual: ALL[8], expected: ALL[8], ok: true });
  assert.deepEqual(r.datCount, { actual: 9, expected: 9, ok: true });
});

test('unarchived dat, non-standard names, and other files in the stage folders', () => {
  const r = checkTab({
    inLensPng: [...ALL.map((n) => `${n}-InLens.png`), 'thumbs.db', 'x.png'],
    transferredDat: ALL.map((n) => `${n}.dat`),
    archiveDat: ALL.slice(1).map((n) => `${n}.dat`),
    logs: ALL.map((n) => `${n}.log`),
    scopeDat: [...ALL, 'Merlin-6285_21-08-23_084212_0-0-1_retake', 'Merlin-6285_21-08-23_084212_0-0-10'],
  });
  assert.deepEqual(r.unarchivedDat, [ALL[0]]);
  assert.deepEqual(r.nonStandardDat, ['Merlin-6285_21-08-23_084212_0-0-10', 'Merlin-6285_21-08-23_084212_0-0-1_retake']);
  assert.equal(r.counts.inLensPng, 9);
  assert.equal(r.counts.transferredDat, 9, 'transferred = transferred folder ∪ archive');
  assert.deepEqual(r.missingDat, []);
  assert.equal(r.complete, false, 'an unarchived dat is not complete');
});

test('scope names outside the logs range belong to other acquisitions and are ignored', () => {
  const r = checkTab({
    inLensPng: [],
    transferredDat: [],
    archiveDat: tiles('084212').map((n) => `${n}.dat`),
    logs: tiles('084212').map((n) => `${n}.log`),
    scopeDat: ALL,
  });
  assert.equal(r.counts.scopeDat, 3);
  assert.deepEqual(r.range, { first: day('084212', '0-0-0'), last: day('084212', '0-0-2') });
  assert.deepEqual(r.missingDat, []);
  assert.deepEqual(r.missingInLensPng, tiles('084212'));
});

test('the operator\'s first and last names widen the range, so tiles lost at the end are reported', () => {
  const firstTwoLayers = [...tiles('084156'), ...tiles('084212')];
  const r = checkTab({
    inLensPng: firstTwoLayers.map((n) => `${n}-InLens.png`),
    transferredDat: firstTwoLayers.map((n) => `${n}.dat`),
    archiveDat: firstTwoLayers.map((n) => `${n}.dat`),
    logs: firstTwoLayers.map((n) => `${n}.log`),
    scopeDat: ALL,
    expected: { firstDat: ALL[0], lastDat: `${ALL[8]}.dat`, count: 9 },
  });
  assert.deepEqual(r.missingDat, tiles('084230'));
  assert.deepEqual(r.lastDat, { actual: ALL[5], expected: ALL[8], ok: false });
  assert.deepEqual(r.datCount, { actual: 6, expected: 9, ok: false });
  assert.equal(r.complete, false);
});

test('an expectation that is not met fails the check even when nothing is missing', () => {
  const r = checkTab({
    inLensPng: ALL.map((n) => `${n}-InLens.png`),
    transferredDat: [],
    archiveDat: ALL.map((n) => `${n}.dat`),
    logs: ALL.map((n) => `${n}.log`),
    scopeDat: ALL,
    expected: { count: 10 },
  });
  assert.deepEqual([r.missingDat, r.missingInLensPng, r.unarchivedDat], [[], [], []]);
  assert.equal(r.firstDat.ok, undefined);
  assert.equal(r.datCount.ok, false);
  assert.equal(r.complete, false);
});

test('folders listed in any order, a name given twice: the same report as from sorted listings', () => {
  const shuffled = [ALL[4], ALL[0], ALL[8], ALL[2], ALL[6], ALL[1], ALL[7], ALL[3], ALL[5]];
  const sorted = checkTab({
    inLensPng: TRANSFERRED.map((n) => `${n}-InLens.png`),
    transferredDat: ALL.map((n) => `${n}.dat`),
    archiveDat: TRANSFERRED.map((n) => `${n}.dat`),
    logs: ALL.map((n) => `${n}.log`),
    scopeDat: ALL,
  });
  const r = checkTab({
    inLensPng: [...TRANSFERRED].reverse().map((n) => `${n}-InLens.png`),
    transferredDat: [...shuffled, ALL[3]].map((n) => `/groups/dat/${n}.dat`),
    archiveDat: [...TRANSFERRED].reverse().map((n) => `${n}.dat`),
    logs: shuffled.map((n) => `${n}.log`),
    scopeDat: [...shuffled, ALL[4]],
  });
  assert.deepEqual(r, sorted);
  assert.deepEqual(r.counts, { inLensPng: 6, transferredDat: 9, archivedDat: 6, scopeDat: 9, logs: 9 });
  assert.deepEqual(r.unarchivedDat, tiles('084212'));
  assert.deepEqual(r.missingInLensPng, tiles('084212'));
  assert.deepEqual(r.missingDat, []);
  assert.deepEqual(r.firstDat.actual, ALL[0]);
  assert.deepEqual(r.lastDat.actual, ALL[8]);
});

test('a name that another one starts with: core order, not file-name order, decides', () => {
  // 'X-retake.dat' sorts before 'X.dat' as a file name, after 'X' as a core.
  const retake = `${ALL[0]}-retake`;
  const r = checkTab({
    inLensPng: [],
    transferredDat: [`${ALL[0]}.dat`, `${retake}.dat`, `${ALL[1]}.dat`],
    archiveDat: [`${ALL[0]}.dat`, `${retake}.dat`],
    logs: [`${ALL[0]}.log`, `${ALL[1]}.log`],
    scopeDat: [ALL[0], retake, ALL[1]],
  });
  assert.deepEqual(r.unarchivedDat, [ALL[1]]);
  assert.deepEqual(r.counts, { inLensPng: 0, transferredDat: 3, archivedDat: 2, scopeDat: 2, logs: 2 });
  assert.deepEqual(r.nonStandardDat, [retake]);
  assert.deepEqual(r.missingDat, []);
  assert.deepEqual([r.firstDat.actual, r.lastDat.actual], [ALL[0], retake]);
});
