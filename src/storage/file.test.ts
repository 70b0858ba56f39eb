// The directory driver against the contract every Store keeps.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, test } from 'node:test';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { tempDir } from '../testing/tree.ts';
import { openFileStore } from './file.ts';
import { storeContract } from './store-contract.ts';

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
