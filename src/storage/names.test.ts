import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { bytesOfKey, displayKey, keyOfName, objectKey } from './names.ts';

test('every byte string is one key and back, exactly; valid UTF-8 stays as it reads', () => {
  const samples = [
    Buffer.from('café/plain ascii'),
    Buffer.from('caf\xe9.txt', 'latin1'),
    Buffer.from([0xed, 0xa0, 0x80]), // a UTF-16 surrogate written as UTF-8: not valid
    Buffer.from([0xc0, 0xaf, 0xf4, 0x90, 0x80, 0x80, 0xf0, 0x9f, 0x98, 0x80]), // overlong, above U+10FFFF, an emoji
    Buffer.from('\ufffd real replacement character'),
    ...Array.from({ length: 2000 }, () => randomBytes(1 + Math.floor(Math.random() * 40))),
  ];
  for (const b of samples) {
    const key = keyOfName(b);
    assert.ok(bytesOfKey(key).equals(b), b.toString('hex'));
    assert.equal(key.isWellFormed(), b.toString('utf8') === key, 'a key is well formed exactly when the name is UTF-8');
  }
  assert.equal(keyOfName(Buffer.from('café')), 'café');
});

test('a key with bytes that are not UTF-8 shows them as \\xNN and is refused as an object key, by name', () => {
  const key = keyOfName(Buffer.from('r\xe9sultats/caf\xe9.txt', 'latin1'));
  assert.equal(displayKey(key), 'r\\xE9sultats/caf\\xE9.txt');
  assert.throws(() => objectKey(key, 's3://b/p/'), (e: Error & { kind?: string }) =>
    e.message === 's3://b/p/r\\xE9sultats/caf\\xE9.txt: the name is not valid UTF-8, which an object key must be' && e.kind === 'item');
  assert.equal(objectKey('café', 's3://b/'), 'café');
});
