import { test } from 'node:test';
import assert from 'node:assert/strict';
import { murmurhash3Uint64, murmurhash3X86_128 } from './murmurhash3.ts';

function u32le(words: number[]): Uint8Array {
  const out = new Uint8Array(words.length * 4);
  const v = new DataView(out.buffer);
  words.forEach((w, i) => v.setUint32(i * 4, w, true));
  return out;
}

test('matches the SMHasher verification value for MurmurHash3_x86_128 (0xB3ECE62A)', () => {
  // SMHasher's VerificationTest: hash keys {0}, {0,1}, ..., {0..254} with seed 256-i, hash the
  // concatenated digests with seed 0, and read the first 4 bytes little-endian.
  const digests = new Uint8Array(256 * 16);
  for (let i = 0; i < 256; i++) {
    const key = new Uint8Array(i);
    for (let j = 0; j < i; j++) key[j] = j;
    digests.set(u32le(murmurhash3X86_128(key, 256 - i)), i * 16);
  }
  const final = murmurhash3X86_128(digests, 0);
  assert.equal(final[0], 0xb3ece62a);
});

test('matches published 8-byte vectors (TensorStore murmurhash3_test, from pymmh3) for seeds 0, 1, 2', () => {
  const id = (n: bigint) => {
    const b = new Uint8Array(8);
    new DataView(b.buffer).setBigUint64(0, n, true);
    return b;
  };
  assert.deepEqual(murmurhash3X86_128(id(0n), 0), [0xe028ae41, 0x4772b084, 0x4772b084, 0x4772b084]);
  assert.deepEqual(murmurhash3X86_128(id(0n), 1), [0x5ad58a7e, 0x54337108, 0x54337108, 0x54337108]);
  assert.deepEqual(murmurhash3X86_128(id(0n), 2), [0x64010da2, 0x62e8bc17, 0x62e8bc17, 0x62e8bc17]);
  assert.deepEqual(murmurhash3X86_128(id(1n), 0).slice(0, 2), [0x16d4ce9a, 0xe8bd67d6]);
});

test('the chunk-id hash is h1 | h2 << 32 with seed 0', () => {
  assert.equal(murmurhash3Uint64(0n), 0x4772b084e028ae41n);
  assert.equal(murmurhash3Uint64(1n), 0xe8bd67d616d4ce9an);
});

test('empty input with seed 0 hashes to zero, as the reference does', () => {
  assert.deepEqual(murmurhash3X86_128(new Uint8Array(0), 0), [0, 0, 0, 0]);
});
