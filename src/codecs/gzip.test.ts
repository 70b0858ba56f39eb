// Both gzip engines write standard gzip members that Node's zlib reads back to the same bytes,
// chunk after chunk, many at once, at several levels and sizes; the zlib engine (the fall-back
// when the libdeflate addon is missing) gives exactly what a fresh zlib.gzip gives; and Ferry's
// default levels keep libdeflate's output within 5% of zlib level 6 on EM-like and label chunks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { crc32, gunzipSync, gzipSync } from 'node:zlib';
import { emChunks, labelChunk } from '../testing/em-data.ts';
import { seededRandom } from '../testing/random.ts';
import { tempDir } from '../testing/tree.ts';
import { loadLibdeflate } from './deflate-native.ts';
import { gzipEngine } from './gzip.ts';
import type { GzipEngine } from './gzip.ts';

function chunk(i: number): Buffer {
  const b = Buffer.alloc(1000 + ((i * 7919) % 70000));
  let s = i + 1;
  // Part noise, part runs: some chunks compress well, some hardly at all.
  for (let k = 0; k < b.length; k++) b[k] = k % 3 === 0 && i % 2 ? 7 : (s = (Math.imul(s, 1103515245) + 12345) >>> 0) >>> 24;
  return b;
}

function random(n: number, seed: number): Buffer {
  const rnd = seededRandom(seed);
  return Buffer.from(Uint8Array.from({ length: n }, () => (rnd() * 256) | 0));
}

/** Sizes at the edges: nothing, a byte, around libdeflate's and zlib's block and window sizes, over an output buffer. */
const EDGES = [0, 1, 2, 31, 32, 33, 255, 256, 32767, 32768, 32769, 65535, 65536, 65537, 262144, 5 << 20];

function edgeInputs(): Buffer[] {
  return EDGES.flatMap((n, i) => [Buffer.alloc(n, 0), random(n, i + 1), chunk(i).subarray(0, n)]);
}

/** One standard gzip member (RFC 1952) of exactly `data`: header, deflate, CRC-32 and length. */
function assertGzipOf(member: Buffer, data: Buffer, what: string): void {
  assert.deepEqual([member[0], member[1], member[2]], [0x1f, 0x8b, 8], `${what}: gzip magic and deflate method`);
  assert.equal(member.readUInt32LE(member.length - 8), crc32(data), `${what}: CRC-32`);
  assert.equal(member.readUInt32LE(member.length - 4), data.length % 2 ** 32, `${what}: length`);
  assert.ok(gunzipSync(member).equals(data), `${what}: Node's zlib reads back the same bytes`);
}

const libdeflate = loadLibdeflate();

function engines(): GzipEngine[] {
  assert.ok(libdeflate, 'the libdeflate addon is built (src/codecs/deflate-native.test.ts says how)');
  return [gzipEngine(libdeflate), gzipEngine(undefined)];
}

test('both engines write standard gzip of every chunk, many at once, at several levels and edge sizes', async () => {
  for (const engine of engines()) {
    const inputs = [...Array.from({ length: 120 }, (_, i) => chunk(i)), ...edgeInputs()];
    const levels = inputs.map((_, i) => [1, 6, 9][i % 3]);
    const outs = await Promise.all(inputs.map((b, i) => engine.gzipChunk(b, levels[i])));
    outs.forEach((o, i) => assertGzipOf(o, inputs[i], `${engine.name}: chunk ${i} (${inputs[i].length} bytes, level ${levels[i]})`));
    // Results are views into shared output buffers, not one allocation per chunk.
    assert.ok(new Set(outs.slice(0, 120).map((o) => o.buffer)).size < 30, engine.name);
    // And again, on the compressors the first round left behind: the same bytes.
    const again = await Promise.all(inputs.slice(0, 10).map((b, i) => engine.gzipChunk(b, levels[i])));
    again.forEach((o, i) => assert.ok(o.equals(outs[i]), `${engine.name}: chunk ${i} again`));
  }
});

test('the zlib engine gives exactly what zlib.gzip gives, and is what a missing addon leaves', async () => {
  const engine = gzipEngine(loadLibdeflate(pathToFileURL(join(await tempDir(), 'deflate_addon.node'))));
  assert.equal(engine.name, 'zlib');
  assert.equal(engine.defaultLevel('image'), 6);
  assert.equal(engine.defaultLevel('segmentation'), 6);
  const inputs = [...Array.from({ length: 60 }, (_, i) => chunk(i)), ...edgeInputs()];
  const levels = inputs.map((_, i) => [1, 6, 9][i % 3]);
  const outs = await Promise.all(inputs.map((b, i) => engine.gzipChunk(b, levels[i])));
  outs.forEach((o, i) => assert.ok(o.equals(gzipSync(inputs[i], { level: levels[i] })), `chunk ${i}`));
});

/** Compressed bytes of `chunks` at Ferry's default level for `kind`, against zlib level 6. */
async function sizeAgainstZlib6(engine: GzipEngine, chunks: Uint8Array[], kind: 'image' | 'segmentation'): Promise<number> {
  const outs = await Promise.all(chunks.map((c) => engine.gzipChunk(c, engine.defaultLevel(kind))));
  outs.forEach((o, i) => assertGzipOf(o, Buffer.from(chunks[i]), `${kind} chunk ${i}`));
  const zlib6 = chunks.reduce((n, c) => n + gzipSync(c, { level: 6 }).length, 0);
  return outs.reduce((n, o) => n + o.length, 0) / zlib6;
}

test("libdeflate's default levels stay within 5% of zlib level 6's size: EM images and segmentation labels", async () => {
  const [engine] = engines();
  for (const noise of [25, 5, 3]) {
    const ratio = await sizeAgainstZlib6(engine, emChunks(8, noise, 256), 'image');
    assert.ok(ratio <= 1.05, `EM chunks with noise of ${noise} grey levels: ${ratio.toFixed(3)} x zlib -6`);
  }
  for (const bytes of [4, 8] as const) {
    const ratio = await sizeAgainstZlib6(engine, [1, 2, 3].map((seed) => labelChunk(seed, bytes)), 'segmentation');
    assert.ok(ratio <= 1.05, `uint${bytes * 8} labels: ${ratio.toFixed(3)} x zlib -6`);
  }
});

test('a bad level fails its chunk and leaves the others working, in both engines', async () => {
  for (const engine of engines()) {
    await assert.rejects(engine.gzipChunk(chunk(1), 42), /level/);
    assertGzipOf(await engine.gzipChunk(chunk(2), 6), chunk(2), engine.name);
  }
});
