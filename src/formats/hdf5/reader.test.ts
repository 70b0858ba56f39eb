// The HDF5 reader against files h5py (native libhdf5) wrote: every region equals the samples
// written, from a local path and through byte ranges (fewer bytes than the file for a small
// region); what it cannot read is refused with the reason, never returned as wrong samples.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { tempDir } from '../../testing/tree.ts';
import { probeDataset, readDatasetRegion } from './reader.ts';
import type { Hdf5Source, Region } from './reader.ts';
import { requireH5py, writeHdf5 } from '../../testing/hdf5.ts';

const ROWS = 300;
const COLS = 520;
const sample = (y: number, x: number, max: number) => (y * 31 + x * 7 + ((x * y) % 13)) % max;

function samples<T extends Uint8Array | Uint16Array>(make: (n: number) => T, max: number): T {
  const a = make(ROWS * COLS);
  for (let y = 0; y < ROWS; y++) for (let x = 0; x < COLS; x++) a[y * COLS + x] = sample(y, x, max);
  return a;
}

function expected(r: Region, bytes: 1 | 2, max: number): Uint8Array {
  const out = bytes === 1 ? new Uint8Array(r.width * r.height) : new Uint16Array(r.width * r.height);
  for (let y = 0; y < r.height; y++) for (let x = 0; x < r.width; x++) out[y * r.width + x] = sample(r.y + y, r.x + x, max);
  return new Uint8Array(out.buffer);
}

/** A byte-range source over a file's bytes that counts what is asked of it. */
function ranged(bytes: Buffer): Hdf5Source & { fetched: number; calls: number } {
  const s = {
    size: bytes.length,
    fetched: 0,
    calls: 0,
    async readRange(start: number, end: number) {
      s.calls++;
      s.fetched += end - start;
      return bytes.subarray(start, end);
    },
  };
  return s;
}

/** Byte equality without a diff of 100,000 elements when it fails. */
function sameBytes(actual: Uint8Array | undefined, want: Uint8Array, what: string): void {
  assert.ok(actual, `${what}: no samples`);
  if (Buffer.from(actual.buffer, actual.byteOffset, actual.byteLength).equals(want)) return;
  const i = actual.findIndex((v, k) => v !== want[k]);
  assert.fail(`${what}: ${actual.length} vs ${want.length} bytes; first difference at byte ${i}: ${actual[i]} != ${want[i]}`);
}

const REGIONS: Region[] = [
  { x: 0, y: 0, width: COLS, height: ROWS },
  { x: 0, y: 0, width: 1, height: 1 },
  { x: COLS - 1, y: ROWS - 1, width: 1, height: 1 },
  { x: 37, y: 61, width: 200, height: 90 },
  { x: 300, y: 0, width: 220, height: 300 },
  { x: 0, y: 250, width: 520, height: 50 },
];

test('regions of uint8 and uint16 sections, plain, gzip-chunked, shuffled with checksums, big-endian: equal to what h5py wrote, locally and by byte range', async () => {
  requireH5py();
  const dir = await tempDir('ferry-h5-');
  try {
    const u8 = samples((n) => new Uint8Array(n), 256);
    const u16 = samples((n) => new Uint16Array(n), 65536);
    const files = [
      { name: 'plain8.h5', samples: u8, bytes: 1 as const, max: 256 },
      { name: 'gzip8.h5', samples: u8, bytes: 1 as const, max: 256, chunks: [64, 64], compression: 'gzip' as const },
      { name: 'gzip16-shuffle-fletcher32.h5', samples: u16, bytes: 2 as const, max: 65536, chunks: [50, 128], compression: 'gzip' as const, shuffle: true, fletcher32: true },
      { name: 'big-endian16.h5', samples: u16, bytes: 2 as const, max: 65536, stored: '>u2' },
    ];
    await writeHdf5(files.map((f) => ({ out: join(dir, f.name), samples: f.samples, shape: [ROWS, COLS], chunks: f.chunks, compression: f.compression, shuffle: f.shuffle, fletcher32: f.fletcher32, stored: f.stored })));
    for (const f of files) {
      const path = join(dir, f.name);
      const header = await probeDataset({ path }, 'img');
      assert.deepEqual([header.shape, header.dtype], [[ROWS, COLS], f.bytes === 1 ? 'uint8' : 'uint16'], f.name);
      const remote = ranged(await readFile(path));
      // All at once: the reads spread over the reader's threads and come back to the right caller.
      const got = await Promise.all(REGIONS.flatMap((r) => [readDatasetRegion({ path }, 'img', r), readDatasetRegion(remote, 'img', r)]));
      REGIONS.forEach((r, i) => {
        const want = expected(r, f.bytes, f.max);
        sameBytes(got[2 * i].data, want, `${f.name} ${JSON.stringify(r)} from the local file`);
        sameBytes(got[2 * i + 1].data, want, `${f.name} ${JSON.stringify(r)} by byte range`);
      });
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a small region of a large section on an object store costs a fraction of the file in range reads', async () => {
  requireH5py();
  const dir = await tempDir('ferry-h5-');
  try {
    const [rows, cols] = [2048, 4096];
    const big = new Uint8Array(rows * cols);
    // Noise, so that gzip leaves the file about as large as its samples.
    let seed = 1;
    for (let i = 0; i < big.length; i++) {
      seed ^= seed << 13;
      seed ^= seed >>> 17;
      seed ^= seed << 5;
      big[i] = seed >>> 24;
    }
    await writeHdf5([
      { out: join(dir, 'plain.h5'), samples: big, shape: [rows, cols] },
      { out: join(dir, 'gzip.h5'), samples: big, shape: [rows, cols], chunks: [128, 128], compression: 'gzip' },
    ]);
    for (const name of ['plain.h5', 'gzip.h5']) {
      const bytes = await readFile(join(dir, name));
      const source = ranged(bytes);
      const r = { x: 1000, y: 700, width: 100, height: 60 };
      const { data } = await readDatasetRegion(source, 'img', r);
      const want = new Uint8Array(r.width * r.height);
      for (let y = 0; y < r.height; y++) want.set(big.subarray((r.y + y) * cols + r.x, (r.y + y) * cols + r.x + r.width), y * r.width);
      sameBytes(data, want, name);
      assert.ok(source.fetched < bytes.length / 2, `${name}: fetched ${source.fetched} of ${bytes.length} bytes`);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('what the reader cannot read is refused with the reason, never returned as samples', async () => {
  requireH5py();
  const dir = await tempDir('ferry-h5-');
  try {
    const u8 = samples((n) => new Uint8Array(n), 256);
    await writeHdf5([
      { out: join(dir, 'lzf.h5'), samples: u8, shape: [ROWS, COLS], chunks: [32, 32], compression: 'lzf' },
      { out: join(dir, 'float.h5'), samples: new Float32Array(u8), shape: [ROWS, COLS] },
      { out: join(dir, 'cube.h5'), samples: u8, shape: [2, ROWS / 2, COLS] },
      { out: join(dir, 'other.h5'), samples: u8, shape: [ROWS, COLS], dataset: 'raw' },
      { out: join(dir, 'plain.h5'), samples: u8, shape: [ROWS, COLS] },
    ]);
    await writeFile(join(dir, 'text.h5'), 'not an HDF5 file at all\n'.repeat(100));
    const region = { x: 0, y: 0, width: 8, height: 8 };
    // libhdf5 in WebAssembly has no lzf: h5wasm would hand back a buffer anyway; the reader refuses.
    await assert.rejects(probeDataset({ path: join(dir, 'lzf.h5') }, 'img'), /required filter 'lzf' is not registered/);
    await assert.rejects(readDatasetRegion(ranged(await readFile(join(dir, 'lzf.h5'))), 'img', region), /required filter 'lzf' is not registered/);
    await assert.rejects(probeDataset({ path: join(dir, 'text.h5') }, 'img'), /is not an HDF5 file \(file signature not found\)/);
    await assert.rejects(probeDataset({ path: join(dir, 'nowhere.h5') }, 'img'), /does not exist/);
    await assert.rejects(probeDataset({ path: join(dir, 'other.h5') }, 'img'), /has no dataset 'img' \(it holds 'raw'\)/);
    const float = await readDatasetRegion({ path: join(dir, 'float.h5') }, 'img', region);
    assert.deepEqual([float.header.dtype, float.data], ['float32', undefined]);
    const cube = await readDatasetRegion({ path: join(dir, 'cube.h5') }, 'img', region);
    assert.deepEqual([cube.header.shape, cube.data], [[2, ROWS / 2, COLS], undefined]);
    const outside = await readDatasetRegion({ path: join(dir, 'plain.h5') }, 'img', { x: COLS - 4, y: 0, width: 8, height: 8 });
    assert.equal(outside.data, undefined, 'a region past the edge is not read');
    // The object store's own error, not libhdf5's account of a failed read.
    const failing = { size: 5000, readRange: async () => Promise.reject(new Error('503 SlowDown from the store')) };
    await assert.rejects(probeDataset(failing, 'img'), /503 SlowDown from the store/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
