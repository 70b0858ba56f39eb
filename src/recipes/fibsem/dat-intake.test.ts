// What the archive gains from an intake: a good tile once (never over one that is there), a bad
// one in quarantine with its reason, each bad copy kept; the file admitted is only read.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { FolderStores } from '../../storage/location.ts';
import { tempDir } from '../../testing/tree.ts';
import { admitDat } from './dat-intake.ts';
import { tileBytes } from '../../testing/fibsem-tab.ts';

const CORE = 'Merlin-6285_21-08-23_084156_0-0-0';

test('a good tile is added to the archive, and a tile already there is left as it is', async () => {
  const root = await tempDir('ferry-dat-intake-');
  const stores = new FolderStores();
  try {
    await mkdir(join(root, 'in'));
    const good = join(root, 'in', `${CORE}.dat`);
    await writeFile(good, tileBytes(CORE));
    const archive = await stores.folder(join(root, 'archive'));
    const quarantine = await stores.folder(join(root, 'bad'));
    const r = await admitDat(await stores.file(good), archive, quarantine, CORE, 'scope1:/x.dat');
    assert.deepEqual(r, { ok: true, path: join(root, 'archive', `${CORE}.dat`), bytes: tileBytes(CORE).length });
    assert.ok((await readFile(join(root, 'archive', `${CORE}.dat`))).equals(tileBytes(CORE)));

    const other = join(root, 'in', 'other.dat');
    await writeFile(other, tileBytes('another tile, same name'));
    assert.equal((await admitDat(await stores.file(other), archive, quarantine, CORE, 'scope1:/x.dat')).ok, true);
    assert.ok((await readFile(join(root, 'archive', `${CORE}.dat`))).equals(tileBytes(CORE)), 'the archive copy is never replaced');
    assert.deepEqual(await readdir(join(root, 'archive')), [`${CORE}.dat`]);
    assert.deepEqual((await readdir(join(root, 'in'))).sort(), [`${CORE}.dat`, 'other.dat'], 'what was admitted is still there');
  } finally {
    await stores.close();
    await rm(root, { recursive: true, force: true });
  }
});

test('bad copies go to quarantine with their reason, the second beside the first', async () => {
  const root = await tempDir('ferry-dat-intake-');
  const stores = new FolderStores();
  try {
    await mkdir(join(root, 'in'));
    const bad = join(root, 'in', 'staged.part');
    await writeFile(bad, tileBytes(CORE).subarray(0, 1500));
    const archive = await stores.folder(join(root, 'archive'));
    const quarantine = await stores.folder(join(root, 'bad'));
    for (const n of [1, 2]) {
      const r = await admitDat(await stores.file(bad), archive, quarantine, CORE, `scope1:/copy${n}.dat`);
      assert.equal(r.ok, false);
      assert.equal(!r.ok && r.quarantined, join(root, 'bad', n === 1 ? `${CORE}.dat` : `${CORE}.2.dat`));
      assert.match(!r.ok ? r.reason : '', new RegExp(`scope1:/copy${n}\\.dat: truncated \\.dat file`), 'the reason names the source, not the staged copy');
    }
    assert.deepEqual((await readdir(join(root, 'bad'))).sort(), [`${CORE}.2.dat`, `${CORE}.2.reason.txt`, `${CORE}.dat`, `${CORE}.reason.txt`]);
    assert.match(await readFile(join(root, 'bad', `${CORE}.reason.txt`), 'utf8'), /source: scope1:\/copy1\.dat/);
    assert.match(await readFile(join(root, 'bad', `${CORE}.2.reason.txt`), 'utf8'), /source: scope1:\/copy2\.dat/);
    assert.ok((await readFile(join(root, 'bad', `${CORE}.2.dat`))).equals(tileBytes(CORE).subarray(0, 1500)));
    assert.deepEqual(await readdir(root), ['bad', 'in'], 'nothing reaches the archive');
  } finally {
    await stores.close();
    await rm(root, { recursive: true, force: true });
  }
});
