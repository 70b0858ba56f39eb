// The directory driver against the contract every Store keeps.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, test } from 'node:test';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { tempDir } from '../testing/tree.ts';
import { openFileStore } from './file.ts';
import { storeContract } from '../testing/store-contract.ts';

const root = await tempDir('ferry-file-store-');
after(() => rm(root, { recursive: true, force: true }));

storeContract((prefix) => openFileStore(join(root, prefix)));

test('whole-file reads give every byte, small files (read at once) and large ones alike', async () => {
  const dir = join(root, 'sizes');
  await mkdir(dir, { recursive: true });
  const store = await openFileStore(dir);
  for (const size of [0, 1, 4095, 65536, 1024 * 1024, 1024 * 1024 + 1, 3 * 1024 * 1024 + 7]) {
    const bytes = randomBytes(size);
    await writeFile(join(dir, `f${size}`), bytes);
    assert.ok((await store.readBytes(`f${size}`)).equals(bytes), `${size} bytes`);
  }
  await assert.rejects(store.readBytes('missing'), /missing/);
});

test('create-only writers racing for one name: exactly one adds its whole file, the others are told, no temporary file is left', async () => {
  const dir = join(root, 'race');
  const store = await openFileStore(dir);
  // Large enough that each write takes a while, so the writers overlap.
  const bodies = Array.from({ length: 6 }, (_, i) => Buffer.alloc(4 * 1024 * 1024 + i, i + 1));
  const results = await Promise.all(bodies.map((b) => store.write('archive/tile.dat', b, { ifAbsent: true })));
  const winners = results.flatMap((r, i) => (r.existed ? [] : [i]));
  assert.equal(winners.length, 1, 'one writer added the file');
  assert.ok((await readFile(join(dir, 'archive', 'tile.dat'))).equals(bodies[winners[0]]), 'the file is the winner\'s, whole');
  assert.deepEqual(await readdir(join(dir, 'archive')), ['tile.dat']);
  // A plain write still replaces.
  await store.write('archive/tile.dat', Buffer.from('replaced'));
  assert.equal(await readFile(join(dir, 'archive', 'tile.dat'), 'utf8'), 'replaced');
});
