// The stage lister, with the listdir addon (built by the project's own scripts: npm's postinstall,
// native/listdir/build.sh) and without it (fs.readdir): the same tiles either way.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { isFerryError } from '../errors.ts';
import { tempDir } from '../testing/tree.ts';
import { namesOf } from './name-list.ts';
import { LISTDIR_ADDON, listStageCores, loadListdir } from './stage-folder.ts';

const addon = loadListdir();
const listers = [
  ['the listdir addon', addon],
  ['fs.readdir', undefined],
] as const;

test('the listdir addon is built here and is what the check lists folders with', () => {
  assert.ok(addon, `no listdir addon at ${fileURLToPath(LISTDIR_ADDON)}: run \`npm ci\` or \`bash native/listdir/build.sh\` (needs build-essential and python3)`);
});

for (const [name, lister] of listers) {
  test(`${name}: the tiles of a stage are its files with the suffix, less it, sorted; folders are not tiles, symlinks are`, async () => {
    const dir = await tempDir();
    try {
      for (const f of ['b-InLens.png', 'a-InLens.png', 'thumbs.db', '-InLens.png', 'a-InLens.png.tmp']) await writeFile(join(dir, f), '');
      await mkdir(join(dir, 'old-InLens.png'));
      await mkdir(join(dir, 'sub'));
      await symlink(join(dir, 'a-InLens.png'), join(dir, 'c-InLens.png'));
      await symlink(join(dir, 'sub'), join(dir, 'd-InLens.png'));
      assert.deepEqual(namesOf(await listStageCores(dir, '-InLens.png', 'folders.inLensPng', lister)), ['a', 'b', 'c', 'd']);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test(`${name}: thousands of files created in any order come back in order, names of every length and non-ASCII ones included`, async () => {
    const dir = await tempDir();
    try {
      const cores = Array.from({ length: 3000 }, (_, i) => `Merlin-6285_21-08-23_${String((i * 7919) % 3000).padStart(6, '0')}_0-0-${i % 3}${i % 500 === 0 ? '_retake' : ''}`);
      // 'a-b.dat' comes before 'a.dat' as a file name, 'a' before 'a-b' as a core.
      cores.push('é', 'z', 'Z', 'a b', 'x.y', 'a', 'a-b');
      for (const c of cores) await writeFile(join(dir, `${c}.dat`), '');
      assert.deepEqual(namesOf(await listStageCores(dir, '.dat', 'folders.archiveDat', lister)), [...new Set(cores)].sort());
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test(`${name}: a folder that is missing or not a folder is one clear error naming the field`, async () => {
    const dir = await tempDir();
    try {
      await writeFile(join(dir, 'file'), '');
      await assert.rejects(listStageCores(join(dir, 'nope'), '.log', 'folders.logs', lister), (e: unknown) => isFerryError(e) && /^folders\.logs: cannot list .*nope: no such folder$/.test(e.message));
      await assert.rejects(listStageCores(join(dir, 'file'), '.log', 'folders.logs', lister), (e: unknown) => isFerryError(e) && /^folders\.logs: cannot list .*file: not a folder$/.test(e.message));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
}

test('a missing addon is no addon: the check then lists with fs.readdir', async () => {
  const dir = await tempDir();
  assert.equal(loadListdir(pathToFileURL(join(dir, 'listdir_addon.node'))), undefined);
});

test('an addon file that does not load is an environment error naming the file and the fix', async () => {
  const file = join(await tempDir(), 'listdir_addon.node');
  await writeFile(file, 'not a shared object');
  assert.throws(
    () => loadListdir(pathToFileURL(file)),
    (e: unknown) => isFerryError(e) && e.kind === 'environment' && e.message.includes(file) && /native\/listdir\/build\.sh/.test(e.hint ?? ''),
  );
});
