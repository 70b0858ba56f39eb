import { test } from 'node:test';
import assert from 'node:assert/strict';
import { countOf, difference, fromNames, fromPacked, nameAt, namesOf } from './name-list.ts';

const tile = (i: number) => `Merlin-6285_21-08-${String(23 + Math.floor(i / 3000)).padStart(2, '0')}_${String(i % 3000).padStart(6, '0')}_0-0-${i % 3}`;

test('names in any order, repeated, become one sorted list without repeats', () => {
  const l = fromNames(['b', 'a', 'c', 'a', '']);
  assert.deepEqual(namesOf(l), ['', 'a', 'b', 'c']);
  assert.equal(countOf(l), 4);
  assert.equal(nameAt(l, 2), 'b');
  assert.deepEqual(namesOf(fromNames([])), []);
});

test('difference is the set difference, in order, for long lists with gaps anywhere, on both sides', () => {
  const all = Array.from({ length: 10_000 }, (_, i) => tile(i));
  // Gaps alone, in runs, at the very start and end, and names b has that a lacks.
  const aGone = new Set([0, 1, 63, 64, 65, 500, 5000, 5001, 5002, 5003, 9999]);
  const bGone = new Set([2, 64, 127, 128, 129, 130, 131, 4000, 9998]);
  const a = all.filter((_, i) => !aGone.has(i));
  const b = [...all.filter((_, i) => !bGone.has(i)), 'Merlin-6285_99-99-99_000000_0-0-0', 'A-first'];
  const inA = new Set(a);
  const inB = new Set(b);
  assert.deepEqual(difference(fromNames(a), fromNames(b)), a.filter((n) => !inB.has(n)));
  assert.deepEqual(difference(fromNames(b), fromNames(a)), [...b].sort().filter((n) => !inA.has(n)));
  assert.deepEqual(difference(fromNames(a), fromNames([])), a);
  assert.deepEqual(difference(fromNames([]), fromNames(a)), []);
});

test('names of different lengths compare as strings do, not by length', () => {
  const a = fromNames(['x_1', 'x_10', 'x_2']);
  assert.deepEqual(difference(a, fromNames(['x_10'])), ['x_1', 'x_2']);
  assert.deepEqual(difference(fromNames(['x', 'x-1', 'x.1']), fromNames(['x-1'])), ['x', 'x.1']);
});

test('packed names in byte order are taken as they are; past U+FFFF, where byte order and string order differ, they are sorted', () => {
  const inOrder = fromPacked('a\0b\0c\0');
  assert.deepEqual(namesOf(inOrder), ['a', 'b', 'c']);
  // UTF-8 puts U+E000 before U+10000; a string's code units put U+10000 (a surrogate pair) first.
  assert.deepEqual(namesOf(fromPacked('a\uE000\0a\u{10000}\0')), ['a\u{10000}', 'a\uE000']);
  assert.deepEqual(namesOf(fromPacked('')), []);
});
