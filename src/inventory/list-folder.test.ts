import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { tempDir } from '../testing/tree.ts';
import { listFolderNames } from './list-folder.ts';

test('a stage folder without sub-folders: every name, symlinked tiles included', async () => {
  const dir = await tempDir();
  try {
    await writeFile(join(dir, 'a.dat'), '');
    await writeFile(join(dir, 'b.dat'), '');
    await symlink(join(dir, 'a.dat'), join(dir, 'c.dat'));
    assert.equal((await stat(dir)).nlink, 2, 'this filesystem keeps link counts (the fast path under test)');
    assert.deepEqual((await listFolderNames(dir, 'folders.archiveDat')).sort(), ['a.dat', 'b.dat', 'c.dat']);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('sub-folders, even named like tiles, are not tiles; a symlink to a folder is listed as the name it has', async () => {
  const dir = await tempDir();
  try {
    await writeFile(join(dir, 'a.dat'), '');
    await mkdir(join(dir, 'old.dat'));
    await mkdir(join(dir, 'dat_bad'));
    await symlink(join(dir, 'dat_bad'), join(dir, 'link.dat'));
    assert.deepEqual((await listFolderNames(dir, 'folders.archiveDat')).sort(), ['a.dat', 'link.dat']);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a folder that is missing or a file: the message names the field', async () => {
  const dir = await tempDir();
  try {
    await assert.rejects(listFolderNames(join(dir, 'nope'), 'folders.logs'), /folders\.logs: cannot list .*nope: no such folder/);
    await writeFile(join(dir, 'file'), '');
    await assert.rejects(listFolderNames(join(dir, 'file'), 'folders.logs'), /folders\.logs: cannot list .*file: not a folder/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
