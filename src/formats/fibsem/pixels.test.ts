import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FolderStores } from '../../storage/location.ts';
import { openDat } from './read.ts';
import { readDatChannelCodes, readDatChannels } from './pixels.ts';
import { syntheticDat } from '../../testing/fibsem-dat.ts';

const FIXTURE = fileURLToPath(new URL('./testdata/small_21-07-31_152727_0-0-1.dat', import.meta.url));
const stores = new FolderStores();
after(() => stores.close());

async function withDat(bytes: Uint8Array, fn: (path: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'ferry-dat-'));
  try {
    const path = join(dir, 't.dat');
    await writeFile(path, bytes);
    await fn(path);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

test('the real file: channels de-interleaved from big-endian int16', async () => {
  const { channels } = await readDatChannels(await stores.file(FIXTURE));
  assert.equal(channels.length, 2);
  assert.ok(channels[0] instanceof Int16Array);
  assert.equal(channels[0].length, 100 * 100);
  // First bytes after the header: 0b df f7 0e 0a b9 f6 28
  assert.deepEqual([...channels[0].subarray(0, 2)], [0x0bdf, 0x0ab9]);
  assert.deepEqual([...channels[1].subarray(0, 2)], [0xf70e - 0x10000, 0xf628 - 0x10000]);
});

test('int16 samples keep their sign and channel across read chunks', async () => {
  // 3 channels x 1,500 x 1,500 int16 = 13.5 MB: more than one 8 MiB read, at an odd stride.
  const width = 1500;
  const height = 1500;
  const value = (i: number, c: number) => ((i * 7 + c * 13001) % 65536) - 32768;
  const bytes = syntheticDat({ width, height, channels: 3, sample: value });
  await withDat(bytes, async (path) => {
    const { header, channels } = await readDatChannels(await stores.file(path));
    assert.equal(header.ChanNum, 3);
    for (let c = 0; c < 3; c++) {
      const ch = channels[c];
      assert.equal(ch.length, width * height);
      for (let i = 0; i < ch.length; i += 997) assert.equal(ch[i], value(i, c), `channel ${c} pixel ${i}`);
      assert.equal(ch[ch.length - 1], value(ch.length - 1, c));
    }
    // The fused reader gives the same samples as offset codes, and their histogram.
    const dat = await openDat(await stores.file(path));
    const hist = new Uint32Array(65536);
    const codes = await readDatChannelCodes(dat, 2, hist);
    await dat.close();
    for (let i = 0; i < codes.length; i++) if (codes[i] !== channels[2][i] + 32768) assert.fail(`pixel ${i}: code ${codes[i]}`);
    const expected = new Uint32Array(65536);
    for (const v of channels[2]) expected[v + 32768]++;
    assert.deepEqual(hist, expected);
  });
});

test('offset codes and their histogram are right for every channel count and channel, across read chunks', async () => {
  // 1, 2 and 4 channels: 2- and 4-byte pixels take the byte loop and the 32-bit word loop (a pixel
  // of whole words), 8-byte pixels the word loop at an offset; each file is more than one 8 MiB read.
  for (const [channels, side] of [[1, 2100], [2, 1500], [4, 1100], [2, 7]]) {
    const value = (i: number, c: number) => ((i * 40503 + c * 7919) % 65536) - 32768;
    await withDat(syntheticDat({ width: side, height: side, channels, sample: value }), async (path) => {
      for (let c = 0; c < channels; c++) {
        const dat = await openDat(await stores.file(path));
        const hist = new Uint32Array(65536);
        const codes = await readDatChannelCodes(dat, c, hist);
        await dat.close();
        const expected = new Uint32Array(65536);
        for (let i = 0; i < side * side; i++) {
          const v = value(i, c) + 32768;
          expected[v]++;
          if (codes[i] !== v) assert.fail(`${channels} channel(s), channel ${c}, pixel ${i}: code ${codes[i]}, expected ${v}`);
        }
        assert.deepEqual(hist, expected, `${channels} channel(s), channel ${c}: histogram`);
      }
    });
  }
});

test('8-bit files read as uint8, channels interleaved', async () => {
  const bytes = syntheticDat({ width: 5, height: 4, channels: 2, eightBit: true, sample: (i, c) => (c === 0 ? i : 255 - i) });
  await withDat(bytes, async (path) => {
    const { header, channels } = await readDatChannels(await stores.file(path));
    assert.equal(header.EightBit, 1);
    assert.ok(channels[0] instanceof Uint8Array);
    assert.deepEqual([...channels[0]], Array.from({ length: 20 }, (_, i) => i));
    assert.deepEqual([...channels[1]], Array.from({ length: 20 }, (_, i) => 255 - i));
  });
});
