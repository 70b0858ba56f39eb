// The directory driver against the contract every Store keeps.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, test } from 'node:test';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { tempDir } from '../testing/tree.ts';
import { until } from '../testing/until.ts';
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

/**
 * A dead writer's temporary file in `folder` of a store, beside a running writer's, another
 * machine's recent one and a file: `clear` removes the dead writer's only; `plain` (a call that was
 * not asked to clear) removes nothing.
 */
async function clearsOnlyDeadWritersFiles(name: string, folder: string, clear: (dir: string) => Promise<void>, plain: (dir: string) => Promise<void>): Promise<void> {
  const dir = join(root, name);
  const inside = join(dir, folder);
  await mkdir(inside, { recursive: true });
  // A writer in another process: its temporary name, as it left it when it was killed.
  const child = spawn(process.execPath, ['-e', `
    const { openFileStore } = await import(${JSON.stringify(new URL('./file.ts', import.meta.url).href)});
    const store = await openFileStore(${JSON.stringify(dir)});
    const body = { size: 1 << 20, readRange: () => new Promise(() => {}) };
    store.write(${JSON.stringify(folder ? `${folder}/killed.bin` : 'killed.bin')}, body);
    setInterval(() => {}, 60_000); // alive, stuck in the write, until killed
  `], { stdio: 'ignore' });
  const temp = await until('the writer to create its temporary file', async () => (await readdir(inside)).find((n) => n.startsWith('.killed.bin.')));
  await writeFile(join(inside, '.other.bin.0123abcd-1-0.ferry-tmp-'), 'another machine\'s, fresh');
  await writeFile(join(inside, 'kept.bin'), 'k');
  await clear(dir);
  assert.ok((await readdir(inside)).includes(temp), 'a running writer\'s file stays');
  child.kill('SIGKILL');
  await until('the writer to be gone', () => child.exitCode !== null || child.signalCode !== null);
  await plain(dir);
  assert.ok((await readdir(inside)).includes(temp), 'a call not asked to clear removes nothing');
  await clear(dir);
  assert.deepEqual((await readdir(inside)).sort(), ['.other.bin.0123abcd-1-0.ferry-tmp-', 'kept.bin'], 'the dead writer\'s file is gone; another machine\'s recent one stays');
}

test('a listing that clears leftovers removes the temporary files of writers no longer running, and only those', async () => {
  const listed = async (dir: string, clearLeftovers: boolean) => {
    const keys: string[] = [];
    for await (const o of (await openFileStore(dir)).list('', { clearLeftovers })) keys.push(o.key);
    assert.deepEqual(keys, ['kept.bin'], 'temporary files are never listed');
  };
  await clearsOnlyDeadWritersFiles('leftovers', '', (dir) => listed(dir, true), (dir) => listed(dir, false));
});

test('the sweep of names removes the temporary files of writers no longer running, and only those, in folders at any depth', async () => {
  await clearsOnlyDeadWritersFiles('swept', 'a/b', async (dir) => (await openFileStore(dir)).clearLeftovers!(), async () => {});
});
