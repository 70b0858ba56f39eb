import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { datHeader, layerTiles, tileName, writeAcquisition, writeDat } from '../../../testing/render-acquisition.ts';
import { SyncWhileFast } from '../../../storage/sync-while-fast.ts';
import { tempDir } from '../../../testing/tree.ts';
import { readDatHeaders } from './dat-headers.ts';

test('on the main thread and through the thread pool (a slow filesystem), the same headers and the same skipped files', async () => {
  const dir = await tempDir('ferry-render-heads-');
  try {
    const tiles = layerTiles('21-08-23_084156', 2, 3, 1);
    writeAcquisition(dir, tiles);
    writeDat(join(dir, tileName(tiles[2])), datHeader(tiles[2].fields), 2000);
    const files = [...tiles.map((t) => ({ name: tileName(t), path: join(dir, tileName(t)) })), { name: 'gone.dat', path: join(dir, 'gone.dat') }];
    const progress: number[] = [];
    const fast = await readDatHeaders(files, { onProgress: (done) => progress.push(done) });
    const pool = new SyncWhileFast();
    pool.sync = false;
    const slow = await readDatHeaders(files, { rule: pool });
    assert.deepEqual(slow, fast);
    assert.equal(fast.tiles.length, 5);
    assert.deepEqual(fast.tiles[0].header.FirstX, -2625);
    assert.deepEqual(fast.skipped, [
      { name: tileName(tiles[2]), path: join(dir, tileName(tiles[2])), reason: 'truncated: the header says 41024 bytes, the file has 2000' },
      { name: 'gone.dat', path: join(dir, 'gone.dat'), reason: 'cannot be read: ENOENT' },
    ]);
    assert.equal(progress.at(-1), files.length);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
