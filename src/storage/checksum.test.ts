import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { crc32cCombine, crc32cFromBase64, crc32cOf, crc32cOfParts, crc32cToBase64 } from './checksum.ts';

test('crc32c matches the published check value for "123456789"', () => {
  assert.equal(crc32cOf(Buffer.from('123456789')), 0xe3069283);
  assert.equal(crc32cToBase64(0xe3069283), '4waSgw==');
  assert.equal(crc32cFromBase64('4waSgw=='), 0xe3069283);
});

test('combining part checksums gives the checksum of the whole', () => {
  const whole = randomBytes(3_000_001);
  const cuts = [0, 1, 1_048_576, 2_500_000, whole.length];
  const parts = cuts.slice(1).map((end, i) => {
    const b = whole.subarray(cuts[i], end);
    return { crc: crc32cOf(b), size: b.length };
  });
  assert.equal(crc32cOfParts(parts), crc32cOf(whole));
  assert.equal(crc32cCombine(crc32cOf(whole), 0, 0), crc32cOf(whole));
});
