import { test } from 'node:test';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import type { Vec3 } from '../../arrays/box.ts';
import { decodeChunk, encodeChunk } from './encoding.ts';
import type { ChunkFormat } from './encoding.ts';

const shape: Vec3 = [5, 3, 2];
const fmt = (f: Partial<ChunkFormat>): ChunkFormat => ({ encoding: 'raw', dataType: 'uint8', numChannels: 1, ...f });

test('raw is little-endian voxels, x fastest, no header', async () => {
  const v = new Uint16Array(30).map((_, i) => 0x0100 * i + 1);
  const bytes = await encodeChunk(fmt({ dataType: 'uint16' }), shape, v);
  assert.equal(bytes.byteLength, 60);
  assert.equal(bytes.readUInt16LE(2), v[1]);
  assert.deepEqual(await decodeChunk(fmt({ dataType: 'uint16' }), shape, bytes), v);
  const big = new BigUint64Array(30).map((_, i) => BigInt(i) << 40n);
  assert.deepEqual(await decodeChunk(fmt({ dataType: 'uint64' }), shape, await encodeChunk(fmt({ dataType: 'uint64' }), shape, big)), big);
  await assert.rejects(decodeChunk(fmt({}), shape, Buffer.alloc(29)), /has 29 bytes; a raw 5x3x2x1 uint8 chunk has 30/);
});

test('png is a grey image X wide and Y*Z high, 16-bit stored big-endian, and round-trips exactly', async () => {
  const v8 = new Uint8Array(30).map((_, i) => i * 8);
  const png8 = await encodeChunk(fmt({ encoding: 'png' }), shape, v8);
  const meta8 = await sharp(png8).metadata();
  assert.deepEqual([meta8.format, meta8.width, meta8.height, meta8.channels, meta8.depth], ['png', 5, 6, 1, 'uchar']);
  assert.deepEqual(await decodeChunk(fmt({ encoding: 'png' }), shape, png8), v8);

  const v16 = new Uint16Array(30).map((_, i) => i * 2011 + 3);
  const png16 = await encodeChunk(fmt({ encoding: 'png', dataType: 'uint16' }), shape, v16);
  // IHDR: bit depth 16, colour type 0 (grey).
  assert.equal(png16[24], 16);
  assert.equal(png16[25], 0);
  const raw = await sharp(png16).raw({ depth: 'ushort' }).toBuffer();
  assert.ok(raw.byteLength >= 60);
  assert.deepEqual(await decodeChunk(fmt({ encoding: 'png', dataType: 'uint16' }), shape, png16), v16);
});

test('jpeg is an 8-bit grey image that decodes close to the input', async () => {
  const v = new Uint8Array(64 * 64 * 2).map((_, i) => (i % 64) * 4);
  const s: Vec3 = [64, 64, 2];
  const jpg = await encodeChunk(fmt({ encoding: 'jpeg', jpegQuality: 95 }), s, v);
  const meta = await sharp(jpg).metadata();
  assert.deepEqual([meta.format, meta.width, meta.height, meta.channels], ['jpeg', 64, 128, 1]);
  const back = await decodeChunk(fmt({ encoding: 'jpeg' }), s, jpg);
  let worst = 0;
  for (let i = 0; i < v.length; i++) worst = Math.max(worst, Math.abs(Number(back[i]) - v[i]));
  assert.ok(worst <= 8, `jpeg error ${worst}`);
});

test('refuses encodings it cannot code and images of the wrong shape', async () => {
  await assert.rejects(encodeChunk(fmt({ encoding: 'jpeg', dataType: 'uint16' }), shape, new Uint16Array(30)), /cannot code jpeg chunks of 1-channel uint16/);
  await assert.rejects(encodeChunk(fmt({ encoding: 'compressed_segmentation', dataType: 'uint32' }), shape, new Uint32Array(30)), /cannot code compressed_segmentation/);
  const png = await encodeChunk(fmt({ encoding: 'png' }), shape, new Uint8Array(30));
  await assert.rejects(decodeChunk(fmt({ encoding: 'png' }), [5, 2, 2], png), /is a 5x6x1 image; expected 5x4x1/);
  await assert.rejects(decodeChunk(fmt({ encoding: 'png' }), shape, Buffer.from('not a png')), /not a readable png image/);
});
