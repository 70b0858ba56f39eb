// The memory:// driver against the contract every Store keeps, opened by URL as any store is.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { openStore } from './open.ts';
import { storeContract } from '../testing/store-contract.ts';

storeContract((prefix) => openStore(`memory://contract/${prefix}`));

test('every memory:// store of the process shares one key space; prefixes keep stores apart', async () => {
  const a = await openStore('memory://shared/a');
  const again = await openStore('memory://shared/a/');
  const b = await openStore('memory://shared/b/');
  await a.write('x', Buffer.from('from a'));
  assert.equal(a.url, 'memory://shared/a/');
  assert.deepEqual(await again.readBytes('x'), Buffer.from('from a'));
  assert.equal(await b.stat('x'), undefined);
  const parent = await openStore('memory://shared/');
  const keys: string[] = [];
  for await (const o of parent.list()) keys.push(o.key);
  assert.deepEqual(keys, ['a/x']);
});

test('stored bytes change only by a write: neither the buffer written nor one read is the object', async () => {
  const store = await openStore('memory://isolation/');
  const written = Buffer.from('abc');
  await store.write('k', written);
  written[0] = 0x7a;
  const read = await store.readBytes('k');
  read[1] = 0x7a;
  assert.deepEqual(await store.readBytes('k'), Buffer.from('abc'));
});

test('the source mtime given to a write is kept', async () => {
  const store = await openStore('memory://mtime/');
  await store.write('k', Buffer.from('x'), { mtimeMs: 1_700_000_000_123 });
  assert.equal((await store.stat('k'))?.sourceMtimeMs, 1_700_000_000_123);
});
