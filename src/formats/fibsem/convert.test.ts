import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { FerryError } from '../../errors.ts';
import { FolderStores } from '../../storage/location.ts';
import { convertDatToInLensPng } from './convert.ts';
import type { ConvertOptions } from './convert.ts';
import { toInLens } from './inlens.ts';
import { readDatChannels } from './pixels.ts';
import { syntheticDat } from '../../testing/fibsem-dat.ts';

const FIXTURE = fileURLToPath(new URL('./testdata/small_21-07-31_152727_0-0-1.dat', import.meta.url));
const stores = new FolderStores();
after(() => stores.close());

async function convert(dat: string, pngDir: string, logDir: string, opts: ConvertOptions = {}) {
  return convertDatToInLensPng(await stores.file(dat), await stores.folder(pngDir), await stores.folder(logDir), opts);
}

async function tempDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'ferry-inlens-'));
}

test('the real tile becomes an 8-bit grey <base>-InLens.png holding the rule\'s pixels, plus its log', async () => {
  const dir = await tempDir();
  try {
    const r = await convert(FIXTURE, join(dir, 'InLens'), join(dir, 'logs'));
    assert.equal(r.png, join(dir, 'InLens', 'small_21-07-31_152727_0-0-1-InLens.png'));
    assert.equal(r.log, join(dir, 'logs', 'small_21-07-31_152727_0-0-1.log'));
    const meta = await sharp(r.png).metadata();
    assert.deepEqual([meta.format, meta.width, meta.height, meta.channels, meta.depth], ['png', 100, 100, 1, 'uchar']);
    const data = await sharp(r.png).extractChannel(0).raw().toBuffer();
    const { channels } = await readDatChannels(await stores.file(FIXTURE));
    assert.deepEqual(new Uint8Array(data), toInLens(channels[0]).pixels);

    const log = await readFile(r.log, 'utf8');
    assert.match(log, /10000 real pixels, 100 percent/);
    assert.match(log, /mean= 2334\.5672 and std dev = 755\.79/);
    assert.match(log, /saved .*small_21-07-31_152727_0-0-1-InLens\.png/);
    // No temporary files are left beside the outputs.
    assert.deepEqual(await readdir(join(dir, 'InLens')), ['small_21-07-31_152727_0-0-1-InLens.png']);
    assert.deepEqual(await readdir(join(dir, 'logs')), ['small_21-07-31_152727_0-0-1.log']);

    // Converting again gives the same image.
    const first = await readFile(r.png);
    await convert(FIXTURE, join(dir, 'InLens'), join(dir, 'logs'));
    assert.deepEqual(await readFile(r.png), first);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('keepExisting adds what is missing and leaves a PNG that is there as it is', async () => {
  const dir = await tempDir();
  try {
    await mkdir(join(dir, 'InLens'));
    const png = join(dir, 'InLens', 'small_21-07-31_152727_0-0-1-InLens.png');
    await writeFile(png, 'the PNG the scope PC wrote');
    const r = await convert(FIXTURE, join(dir, 'InLens'), join(dir, 'logs'), { keepExisting: true });
    assert.equal(await readFile(png, 'utf8'), 'the PNG the scope PC wrote');
    assert.match(await readFile(r.log, 'utf8'), /compress_and_save: saved /);
    assert.deepEqual(await readdir(join(dir, 'InLens')), ['small_21-07-31_152727_0-0-1-InLens.png'], 'no temporary file is left');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('an 8-bit tile converts by the same rule', async () => {
  const dir = await tempDir();
  try {
    const dat = join(dir, 'Merlin-6285_21-08-23_084156_0-0-0.dat');
    const sample = (i: number, c: number) => (c === 0 ? (i * 31) % 256 : 7);
    await writeFile(dat, syntheticDat({ width: 30, height: 20, eightBit: true, sample }));
    const r = await convert(dat, join(dir, 'InLens'), join(dir, 'logs'));
    const data = await sharp(r.png).extractChannel(0).raw().toBuffer();
    const channel0 = Uint8Array.from({ length: 600 }, (_, i) => sample(i, 0));
    assert.deepEqual(new Uint8Array(data), toInLens(channel0).pixels);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a truncated tile writes neither PNG nor log', async () => {
  const dir = await tempDir();
  try {
    const full = syntheticDat({ width: 20, height: 20, sample: (i) => i });
    const dat = join(dir, 'Merlin-6285_21-08-23_084156_0-0-0.dat');
    await writeFile(dat, full.subarray(0, full.length - 100));
    await assert.rejects(convert(dat, join(dir, 'InLens'), join(dir, 'logs')), (e: unknown) => {
      assert.ok(e instanceof FerryError);
      assert.match(e.message, /truncated/);
      return true;
    });
    assert.deepEqual((await readdir(dir)).sort(), ['Merlin-6285_21-08-23_084156_0-0-0.dat']);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('an output folder that cannot be written is a clear error', async () => {
  const dir = await tempDir();
  try {
    const blocker = join(dir, 'InLens');
    await writeFile(blocker, 'a file where the folder should be');
    await assert.rejects(convert(FIXTURE, blocker, join(dir, 'logs')), (e: unknown) => {
      assert.ok(e instanceof FerryError);
      assert.match(e.message, /cannot write .*InLens/);
      return true;
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
