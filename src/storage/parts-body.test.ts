import { test } from 'node:test';
import assert from 'node:assert/strict';
import { partsBody } from './parts-body.ts';

test('a body of pieces reads back any range, within one piece or across several', async () => {
  const pieces = [Buffer.from('abc'), Buffer.alloc(0), Buffer.from('defgh'), Buffer.from('ij')];
  const body = partsBody(pieces, 10);
  assert.equal(body.size, 10);
  const read = async (start: number, end: number) => (await body.readRange({ start, end })).toString();
  assert.equal(await read(0, 10), 'abcdefghij');
  assert.equal(await read(4, 7), 'efg');
  assert.equal(await read(2, 9), 'cdefghi');
  assert.equal(await read(9, 12), 'j');
  assert.equal(await read(10, 10), '');
  assert.throws(() => partsBody(pieces, 11), /hold 10 bytes, not 11/);
});
