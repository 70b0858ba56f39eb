import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { FerryError } from '../errors.ts';
import { tempDir } from '../testing/tree.ts';
import { encodeMrc, MRC_HEADER_BYTES, parseMrc, parseMrcHeader } from './mrc.ts';

const stack = (nx: number, ny: number, nz: number) => Float32Array.from({ length: nx * ny * nz }, (_, i) => (i % 7) - 2.5 + i / 1000);

test('an MRC2014 float32 stack round-trips with its header fields', () => {
  const data = stack(6, 4, 3);
  const buf = encodeMrc(data, { nx: 6, ny: 4, nz: 3, pixelSize: 1.23, labels: ['Ferry synthetic movie'] });
  assert.equal(buf.length, MRC_HEADER_BYTES + 6 * 4 * 3 * 4);
  // Fixed fields of the standard: the map string, little-endian stamp and format version.
  assert.equal(buf.toString('latin1', 208, 212), 'MAP ');
  assert.deepEqual([buf[212], buf[213]], [0x44, 0x44]);
  assert.equal(buf.readInt32LE(108), 20140);
  assert.deepEqual([buf.readInt32LE(64), buf.readInt32LE(68), buf.readInt32LE(72)], [1, 2, 3]);
  const { header, data: back } = parseMrc(buf);
  assert.deepEqual([header.nx, header.ny, header.nz, header.mode, header.ispg, header.extendedBytes], [6, 4, 3, 2, 0, 0]);
  assert.ok(Math.abs(header.voxelSize[0] - 1.23) < 1e-6 && Math.abs(header.voxelSize[1] - 1.23) < 1e-6);
  assert.deepEqual(back, data);
  assert.equal(header.dmin, Math.min(...data));
  assert.equal(header.dmax, Math.max(...data));
  assert.ok(Math.abs(header.dmean - data.reduce((a, b) => a + b, 0) / data.length) < 1e-5);
  assert.deepEqual(header.labels, ['Ferry synthetic movie']);
});

test("RELION reads Ferry's MRC stacks: dimensions, pixel size and values", async () => {
  const dir = await tempDir();
  try {
    const data = stack(64, 32, 5);
    const path = join(dir, 'movie.mrc');
    await writeFile(path, encodeMrc(data, { nx: 64, ny: 32, nz: 5, pixelSize: 0.885 }));
    const bin = process.env.FERRY_RELION_BIN ? join(process.env.FERRY_RELION_BIN, 'relion_image_handler') : 'relion_image_handler';
    const out = execFileSync(bin, ['--i', path, '--stats'], { encoding: 'utf8' });
    const m = /\(x,y,z,n\)= (\d+) x (\d+) x (\d+) x (\d+) ; avg= (\S+) .*angpix = (\S+)/.exec(out);
    assert.ok(m, out);
    assert.deepEqual(m.slice(1, 5).map(Number), [64, 32, 5, 1]);
    assert.ok(Math.abs(Number(m[5]) - data.reduce((a, b) => a + b, 0) / data.length) < 1e-4, out);
    assert.ok(Math.abs(Number(m[6]) - 0.885) < 1e-4, out);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('integer modes are read as numbers; an extended header is skipped', () => {
  const buf = Buffer.alloc(MRC_HEADER_BYTES + 8 + 4 * 2);
  buf.writeInt32LE(2, 0);
  buf.writeInt32LE(2, 4);
  buf.writeInt32LE(1, 8);
  buf.writeInt32LE(1, 12); // int16
  buf.writeInt32LE(8, 92); // 8 bytes of extended header
  buf.write('MAP ', 208, 'latin1');
  buf[212] = 0x44;
  [-3, 0, 7, 32000].forEach((v, i) => buf.writeInt16LE(v, MRC_HEADER_BYTES + 8 + i * 2));
  assert.deepEqual([...parseMrc(buf).data], [-3, 0, 7, 32000]);
});

test('what is not a readable MRC file is a FerryError saying why', () => {
  const good = encodeMrc(stack(2, 2, 1), { nx: 2, ny: 2, nz: 1, pixelSize: 1 });
  const fails = (buf: Buffer, re: RegExp) => assert.throws(() => parseMrc(buf, 'x.mrc'), (e: unknown) => e instanceof FerryError && re.test(e.message));
  fails(good.subarray(0, 100), /^x\.mrc is not an MRC file: 100 bytes/);
  const noMap = Buffer.from(good);
  noMap.write('PAM ', 208, 'latin1');
  fails(noMap, /no "MAP " at byte 208/);
  fails(good.subarray(0, good.length - 1), /^x\.mrc is truncated: its header needs 1040 bytes, the file has 1039$/);
  const complex = Buffer.from(good);
  complex.writeInt32LE(4, 12);
  fails(complex, /MRC mode 4, which Ferry does not read/);
  const bigEndian = Buffer.from(good);
  bigEndian[212] = 0x11;
  assert.throws(() => parseMrcHeader(bigEndian), /big-endian/);
});
