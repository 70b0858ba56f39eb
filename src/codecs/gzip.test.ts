// The kept gzip streams give exactly what a fresh zlib.gzip gives, chunk after chunk, many at
// once and at several levels, so a task's chunks do not depend on which stream compressed them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gunzipSync, gzipSync } from 'node:zlib';
import { gzipChunk } from './gzip.ts';

function chunk(i: number): Buffer {
  const b = Buffer.alloc(1000 + ((i * 7919) % 70000));
  let s = i + 1;
  // Part noise, part runs: some chunks compress well, some hardly at all.
  for (let k = 0; k < b.length; k++) b[k] = k % 3 === 0 && i % 2 ? 7 : (s = (Math.imul(s, 1103515245) + 12345) >>> 0) >>> 24;
  return b;
}

test('gzipChunk equals zlib.gzip, byte for byte, for many chunks at once and at several levels', async () => {
  const inputs = Array.from({ length: 120 }, (_, i) => chunk(i));
  const levels = inputs.map((_, i) => [1, 6, 9][i % 3]);
  const outs = await Promise.all(inputs.map((b, i) => gzipChunk(b, levels[i])));
  outs.forEach((o, i) => {
    assert.ok(o.equals(gzipSync(inputs[i], { level: levels[i] })), `chunk ${i}`);
    assert.ok(gunzipSync(o).equals(inputs[i]));
  });
  // Results are views into shared output buffers, not one allocation per chunk.
  assert.ok(new Set(outs.map((o) => o.buffer)).size < outs.length / 4);
  // And again, on the streams the first round left behind.
  const again = await Promise.all(inputs.slice(0, 10).map((b, i) => gzipChunk(b, levels[i])));
  again.forEach((o, i) => assert.ok(o.equals(outs[i])));
});

test('a bad level fails its chunk and leaves the others working', async () => {
  await assert.rejects(gzipChunk(chunk(1), 42), /level/);
  assert.ok((await gzipChunk(chunk(2), 6)).equals(gzipSync(chunk(2), { level: 6 })));
});
