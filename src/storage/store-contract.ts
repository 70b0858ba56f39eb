// Behaviour every Store driver owes its callers, written once and run against each driver (the
// way rclone's fstests run one suite over every backend). `open(prefix)` gives a fresh store.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Store } from './store.ts';

export function storeContract(open: (prefix: string) => Promise<Store>): void {
  test('keys with spaces, plus signs and non-ASCII letters survive write, list, stat and read', async () => {
    const store = await open('names/');
    const key = 'plate 1/Zellkern+Färbung #2 (ü).tif';
    await store.write(key, Buffer.from('odd name'));
    const listed: string[] = [];
    for await (const o of store.list()) listed.push(o.key);
    assert.deepEqual(listed, [key]);
    assert.equal((await store.stat(key))?.size, 8);
    assert.deepEqual(await store.readBytes(key), Buffer.from('odd name'));
    await store.close();
  });

  test('stat of a missing key is undefined; delete removes a key', async () => {
    const store = await open('missing/');
    assert.equal(await store.stat('never-written'), undefined);
    await store.write('gone', Buffer.from('x'));
    await store.delete('gone');
    assert.equal(await store.stat('gone'), undefined);
    await store.close();
  });

  test('a create-only write adds a missing key and leaves one that exists as it is', async () => {
    const store = await open('create-only/');
    const first = await store.write('tile.dat', Buffer.from('first'), { ifAbsent: true });
    assert.equal(first.existed, undefined);
    assert.equal(first.size, 5);
    const again = await store.write('tile.dat', Buffer.from('second, longer'), { ifAbsent: true });
    assert.equal(again.existed, true);
    assert.equal(again.size, 5, 'the size of what is there');
    assert.deepEqual(await store.readBytes('tile.dat'), Buffer.from('first'));
    await store.close();
  });
}
