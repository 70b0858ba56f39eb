// A released buffer is handed out again for a request it fits, not for one it would waste.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { takeBuffer } from './buffer-pool.ts';

test('large buffers are reused for requests they fit; small ones are plain allocations', () => {
  const MiB = 1 << 20;
  const a = takeBuffer(8 * MiB);
  a.bytes[0] = 42;
  const memory = a.bytes.buffer;
  a.release();
  a.release(); // twice is harmless
  const b = takeBuffer(6 * MiB);
  assert.equal(b.bytes.buffer, memory, 'the free 8 MiB buffer serves 6 MiB');
  assert.equal(b.bytes.byteLength, 6 * MiB);
  assert.equal(b.bytes[0], 42, 'contents are left as they were');
  const c = takeBuffer(6 * MiB);
  assert.notEqual(c.bytes.buffer, memory, 'a buffer in use is not handed out twice');
  b.release();
  assert.notEqual(takeBuffer(2 * MiB).bytes.buffer, memory, 'nor one more than twice the size asked');
  const small = takeBuffer(1000);
  assert.equal(small.bytes.byteLength, 1000);
  c.release();
  small.release();
});
