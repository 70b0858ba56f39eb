import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FerryError } from '../../errors.ts';
import { FolderStores } from '../../storage/location.ts';
import { parseDatHeader } from './header.ts';
import { readDatHeader } from './read.ts';
import { syntheticDat } from '../../testing/fibsem-dat.ts';

// A real version-9 tile from EM_recon_pipeline's test resources (/work/shared/fixtures/fibsem).
const FIXTURE = fileURLToPath(new URL('./testdata/small_21-07-31_152727_0-0-1.dat', import.meta.url));
const stores = new FolderStores();
after(() => stores.close());
const headerOf = async (path: string) => readDatHeader(await stores.file(path));

const close = (actual: number, expected: number, tol: number) =>
  assert.ok(Math.abs(actual - expected) <= tol, `${actual} is not within ${tol} of ${expected}`);

test('the real version-9 file decodes to the values in the research note', async () => {
  const h = await headerOf(FIXTURE);
  assert.equal(h.FileMagicNum, 3555587570);
  assert.equal(h.FileVersion, 9);
  assert.equal(h.FileType, 1);
  assert.equal(h.SWdate, '04/20/2021');
  assert.equal(h.ChanNum, 2);
  assert.equal(h.EightBit, 0);
  assert.equal(h.XResolution, 100);
  assert.equal(h.YResolution, 100);
  assert.deepEqual([h.AI1, h.AI2, h.AI3, h.AI4], [1, 1, 0, 0]);
  assert.equal(h.DetA, 'InLens');
  assert.equal(h.DetB, 'ESB @ 600 V');
  close(h.PixelSize, 7.9999, 1e-3);
  close(h.WD, 3.42, 1e-2);
  assert.equal(h.FirstX, -2625);
  assert.equal(h.FirstY, -1326);
  assert.equal(h.SampleID, 'Z0720-07m_VNC_Sec06');
  assert.equal(h.MachineID, 'Jeiss8/Merlin-6284');
  assert.equal(h.Scaling.length, 2);
  assert.equal(h.Scaling[0][0], 2e6);
  close(h.Scaling[0][1], -6972.36, 1e-2);
  close(h.Scaling[0][2], 0.311, 1e-3);
  close(h.Scaling[0][3], 0.1, 1e-6);
  assert.equal(h.FileLength, 41024);
  assert.equal(h.Mode, 0);
  assert.ok(h.Notes.startsWith('Z0720-07m_VNC_Sec06, BF 212X87um'));
});

// Field offsets per version, written here from fibsem-tools io/dat.py independently of the reader.
interface Layout {
  versions: number[];
  f64: boolean;
  pixelSize: number;
  wd: number;
  stageX: number;
  detC: number;
}
const OLD: Layout = { versions: [1, 2], f64: true, pixelSize: 416, wd: 424, stageX: 512, detC: 700 };
const NEW: Layout = { versions: [3, 4, 5, 6, 7, 8, 9], f64: false, pixelSize: 464, wd: 468, stageX: 534, detC: 410 };

for (const layout of [OLD, NEW]) {
  for (const version of layout.versions) {
    test(`version ${version} fields sit at that version's offsets`, () => {
      // v1 stores Scaling as f64 per channel, so more than two channels would run into XResolution.
      const channels = version === 1 ? 2 : 3;
      const buf = syntheticDat({ version, width: 4, height: 3, channels });
      const real = (v: number, o: number) => (layout.f64 ? buf.writeDoubleBE(v, o) : buf.writeFloatBE(v, o));
      real(4.5, layout.pixelSize);
      real(3.25, layout.wd);
      real(12.5, layout.stageX);
      buf.write('DetCname', layout.detC, 'latin1');
      buf.write('InLens', 380, 'latin1');
      buf.writeUInt8(3, 600);
      // Scaling: f64 per channel in v1, f32 per channel in v2-6, always two f32 rows from v7.
      const rows = version >= 7 ? 2 : channels;
      for (let r = 0; r < rows; r++) {
        for (let c = 0; c < 4; c++) {
          const o = 36 + (r * 4 + c) * (version === 1 ? 8 : 4);
          if (version === 1) buf.writeDoubleBE(r * 10 + c, o);
          else buf.writeFloatBE(r * 10 + c, o);
        }
      }
      if (version <= 3) {
        buf.writeUInt8(7, 108);
        buf.writeInt16BE(-5, 109);
        buf.writeDoubleBE(3125000, 112);
      } else {
        buf.writeUInt16BE(300, 108);
        buf.writeFloatBE(3125000, 112);
        buf.writeFloatBE(-9, 128);
        buf.writeUInt16BE(16, 136);
      }
      if (version >= 5) buf.write('Jeiss3/Merlin-1', 800, 'latin1');
      if (version >= 6) buf.writeUInt32BE(4242, 878);
      if (version >= 8) buf.writeFloatBE(13.5, 886);
      if (version >= 9) {
        buf.writeInt32BE(-100, 70);
        buf.writeInt32BE(200, 74);
        buf.write('Z0720-07m_VNC_Sec26', 155, 'latin1');
      }

      const h = parseDatHeader(buf);
      assert.equal(h.FileVersion, version);
      assert.equal(h.ChanNum, channels);
      assert.equal(h.XResolution, 4);
      assert.equal(h.YResolution, 3);
      assert.equal(h.PixelSize, 4.5);
      assert.equal(h.WD, 3.25);
      assert.equal(h.StageX, 12.5);
      assert.equal(h.DetA, 'InLens');
      assert.equal(h.DetC, 'DetCname');
      assert.equal(h.Mode, 3);
      assert.equal(h.Scaling.length, rows);
      assert.deepEqual(h.Scaling[rows - 1], [0, 1, 2, 3].map((c) => (rows - 1) * 10 + c));
      assert.equal(h.ScanRate, 3125000);
      if (version <= 3) {
        assert.equal(h.Oversampling, 7);
        assert.equal(h.AIDelay, -5);
        assert.equal(h.Detmin, -10);
        assert.equal(h.DecimatingFactor, undefined);
      } else {
        assert.equal(h.Oversampling, 300);
        assert.equal(h.Detmin, -9);
        assert.equal(h.DecimatingFactor, 16);
        assert.equal(h.AIDelay, undefined);
      }
      assert.equal(h.MachineID, version >= 5 ? 'Jeiss3/Merlin-1' : undefined);
      assert.equal(h.FIBSliceNum, version >= 6 ? 4242 : undefined);
      assert.equal(h.MillingI, version >= 8 ? 13.5 : undefined);
      assert.equal(h.FirstX, version >= 9 ? -100 : undefined);
      assert.equal(h.FirstY, version >= 9 ? 200 : undefined);
      assert.equal(h.SampleID, version >= 9 ? 'Z0720-07m_VNC_Sec26' : undefined);
    });
  }
}

async function rejects(bytes: Uint8Array, code: string, pattern: RegExp): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'ferry-dat-'));
  try {
    const path = join(dir, 'Merlin-6285_21-08-23_084156_0-0-0.dat');
    await writeFile(path, bytes);
    await assert.rejects(headerOf(path), (e: unknown) => {
      assert.ok(e instanceof FerryError, `expected a FerryError, got ${String(e)}`);
      assert.equal(e.code, code);
      assert.match(e.message, pattern);
      assert.ok(e.message.includes(path), 'the message names the file');
      assert.ok(e.hint, 'the error says what to do');
      return true;
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

test('a foreign file is rejected by its magic number', async () => {
  const png = Buffer.alloc(2048);
  Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]).copy(png);
  await rejects(png, 'DatBadMagic', /not a FIB-SEM \.dat file \(magic number 2303741511, expected 3555587570\)/);
});

test('versions outside 1-9 are rejected', async () => {
  for (const version of [0, 10]) {
    await rejects(syntheticDat({ version, width: 2, height: 2 }), 'DatUnknownVersion', new RegExp(`unknown \\.dat version ${version}`));
  }
});

test('a truncated file reports expected and actual bytes', async () => {
  const full = syntheticDat({ width: 10, height: 10 });
  await rejects(full.subarray(0, full.length - 7), 'DatTruncated', /header says 1424 bytes, file has 1417/);
});

test('a file shorter than its FileLength is truncated even when the pixels are all there', async () => {
  await rejects(syntheticDat({ width: 10, height: 10, fileLength: 2000 }), 'DatTruncated', /header says 2000 bytes, file has 1424/);
});

test('a file cut inside the header is truncated', async () => {
  await rejects(syntheticDat({ width: 10, height: 10 }).subarray(0, 600), 'DatTruncated', /expected 1024 bytes, got 600/);
});

test('a zero-length file is reported as empty', async () => {
  await rejects(new Uint8Array(0), 'DatEmpty', /empty \.dat file \(0 bytes\)/);
});

test('a header with impossible geometry is reported as corrupt', async () => {
  await rejects(syntheticDat({ width: 0, height: 10 }), 'DatCorruptHeader', /resolution is 0 x 10/);
  const noChannels = syntheticDat({ width: 2, height: 2 });
  noChannels.writeUInt8(0, 32);
  await rejects(noChannels, 'DatCorruptHeader', /ChanNum is 0/);
});

test('a missing file is a clear error', async () => {
  await assert.rejects(headerOf('/nonexistent/x.dat'), /\/nonexistent\/x\.dat: cannot open \.dat file: no such file/);
});
