import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkSwc, formatSwcProblems } from './swc.ts';

const lines = (text: string) => checkSwc(text).problems.map((p) => `${p.line}: ${p.message}`);

test('a tree with comments, blank lines and CRLF endings is valid', () => {
  const r = checkSwc('# ORIGINAL_SOURCE Janelia\r\n\r\n1 1 0 0 0 5.5 -1\r\n2 3 1.5 -2 3e2 1 1   # a comment\r\n3 2 1 1 1 1 2\r\n');
  assert.deepEqual(r.problems, []);
  assert.deepEqual(r.nodes.map((n) => [n.id, n.parent, n.line]), [[1, -1, 3], [2, 1, 4], [3, 2, 5]]);
  assert.equal(r.nodes[1].z, 300);
});

test('parents may come after their children', () => {
  assert.deepEqual(lines('2 3 0 0 0 1 1\n1 1 0 0 0 1 -1\n'), []);
});

test('lines without seven columns are reported with their line numbers', () => {
  assert.deepEqual(lines('# header\n1 1 0 0 0 1 -1\n2 3 0 0 0 1\n3 3 0 0 0 1 2 9\n'), [
    '3: 6 columns, an SWC node has 7 (n type x y z radius parent)',
    '4: 8 columns, an SWC node has 7 (n type x y z radius parent)',
  ]);
});

test('non-numeric values, ids and parents are named', () => {
  assert.deepEqual(lines('1 1 0 0 0 1 -1\n2 3 0 abc 0 1 1\n2.5 3 0 0 0 1 1\n3 3 0 0 0 1 1.0\n0 3 0 0 0 1 1\n'), [
    '2: y "abc" is not a number',
    '3: n "2.5" is not an integer',
    '4: parent "1.0" is not an integer',
    '5: node id 0 is not positive',
  ]);
});

test('a parent that is not in the file is reported on the child\'s line', () => {
  assert.deepEqual(lines('1 1 0 0 0 1 -1\n2 3 0 0 0 1 1\n3 3 0 0 0 1 7\n'), ['3: node 3 has parent 7, which is not in the file']);
});

test('exactly one root: a second root and a missing root are both errors', () => {
  assert.deepEqual(lines('1 1 0 0 0 1 -1\n2 3 0 0 0 1 1\n5 1 0 0 0 1 -1\n'), ['3: node 5 is a second root (the first is node 1 on line 1)']);
  assert.deepEqual(lines('1 1 0 0 0 1 2\n2 3 0 0 0 1 1\n'), [
    '0: no root (a node with parent -1)',
    '1: node 1 is on a cycle of parents that never reaches the root',
  ]);
});

test('a duplicate id, a cycle beside the tree and an empty file are reported', () => {
  assert.deepEqual(lines('1 1 0 0 0 1 -1\n1 3 0 0 0 1 1\n'), ['2: node 1 is defined again (first on line 1)']);
  assert.deepEqual(lines('1 1 0 0 0 1 -1\n2 3 0 0 0 1 3\n3 3 0 0 0 1 2\n'), ['2: node 2 is on a cycle of parents that never reaches the root']);
  assert.deepEqual(lines('# only comments\n\n'), ['0: no nodes']);
});

test('problems print as file:line: message', () => {
  assert.deepEqual(formatSwcProblems('G-001/consensus.swc', checkSwc('1 1 0 0 0 1\n').problems), [
    'G-001/consensus.swc: no nodes',
    'G-001/consensus.swc:1: 6 columns, an SWC node has 7 (n type x y z radius parent)',
  ]);
});
