// The expected texts are what CPython 3's json.dumps(value) prints for the same value.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pythonJsonDumps } from './python-json.ts';

test('separators, nesting, null and empty objects as json.dumps writes them', () => {
  assert.equal(pythonJsonDumps({ title: 'a', neurons: { k: { n: null, e: {} } } }), '{"title": "a", "neurons": {"k": {"n": null, "e": {}}}}');
  assert.equal(pythonJsonDumps({}), '{}');
  assert.equal(pythonJsonDumps({ a: 'x', skipped: undefined, b: 'y' }), '{"a": "x", "b": "y"}');
});

test('non-ASCII, DEL, control characters and astral characters are escaped as ensure_ascii does', () => {
  assert.equal(
    pythonJsonDumps({ x: 'Área \u007f\n\t\u0001"\\/ \u{1F600} \ufeff' }),
    '{"x": "\\u00c1rea \\u007f\\n\\t\\u0001\\"\\\\/ \\ud83d\\ude00 \\ufeff"}',
  );
});

test('a Map keeps insertion order for keys JavaScript objects would move to the front', () => {
  assert.equal(pythonJsonDumps(new Map([['AA0002', 'b'], ['10', 'c'], ['2', 'd']])), '{"AA0002": "b", "10": "c", "2": "d"}');
});
