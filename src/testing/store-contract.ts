// Behaviour every Store driver owes its callers, written once and run against each driver (the
// way rclone's fstests run one suite over every backend). `open(prefix)` gives a fresh store.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { crc32cOf, crc32cToBase64 } from '../storage/checksum.ts';
import { partsBody } from '../storage/parts-body.ts';
import { KeyNotFound } from '../storage/store.ts';
import type { RangeSource, Store } from '../storage/store.ts';

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

  test('a missing key: readIfExists answers undefined, every other read throws KeyNotFound', async () => {
    const store = await open('absent/');
    await store.write('here', Buffer.from('present'));
    assert.equal(await store.readIfExists('nowhere'), undefined);
    assert.equal(await store.readIfExists('nowhere', { start: 0, end: 4 }), undefined);
    assert.equal(await store.readIfExists('he'), undefined, 'a prefix of a key is no key');
    assert.deepEqual(await store.readIfExists('here'), Buffer.from('present'));
    assert.deepEqual(await store.readIfExists('here', { start: 1, end: 4 }), Buffer.from('res'));
    const notFound = (e: unknown) => e instanceof KeyNotFound && e.code === 'NoSuchKey' && e.exitCode === 1 && /nowhere does not exist/.test(e.message);
    await assert.rejects(store.readBytes('nowhere'), notFound);
    await assert.rejects(store.readBytes('nowhere', { start: 0, end: 4 }), notFound);
    await assert.rejects(store.read('nowhere'), notFound);
    await assert.rejects(store.openRange('nowhere'), notFound);
    await assert.rejects(store.checksum('nowhere'), notFound);
    await store.close();
  });

  test('ranges read exactly the asked bytes, through readBytes, read and openRange', async () => {
    const store = await open('ranges/');
    const data = Buffer.from(Array.from({ length: 5000 }, (_, i) => (i * 7) % 251));
    await store.write('r.bin', data);
    assert.deepEqual(await store.readBytes('r.bin', { start: 10, end: 1010 }), data.subarray(10, 1010));
    const chunks: Buffer[] = [];
    for await (const c of await store.read('r.bin', { start: 4000, end: 5000 })) chunks.push(c as Buffer);
    assert.deepEqual(Buffer.concat(chunks), data.subarray(4000));
    const src = await store.openRange('r.bin');
    assert.equal(src.size, data.length);
    assert.deepEqual(await src.readRange({ start: 1, end: 3 }), data.subarray(1, 3));
    assert.deepEqual(await src.readRange({ start: 100, end: 600 }, undefined, Buffer.alloc(1000)), data.subarray(100, 600));
    await src.close?.();
    await store.close();
  });

  test('a RangeSource body is written whole, with the CRC32C of its bytes', async () => {
    const store = await open('range-source/');
    const pieces = [Buffer.alloc(3000, 1), Buffer.alloc(5000, 2), Buffer.from('end')];
    const data = Buffer.concat(pieces);
    let reported = 0;
    const result = await store.write('joined.bin', partsBody(pieces, data.length), { onBytes: (n) => (reported += n) });
    assert.equal(result.size, data.length);
    assert.equal(result.crc32c, crc32cToBase64(crc32cOf(data)));
    assert.equal(reported, data.length);
    assert.deepEqual(await store.readBytes('joined.bin'), data);
    assert.equal(await store.checksum('joined.bin'), result.crc32c);
    await store.close();
  });

  test('a write replaces the whole object, and a write that fails leaves the old one as it was', async () => {
    const store = await open('replace/');
    await store.write('k', Buffer.from('the first, longer version'));
    await store.write('k', Buffer.from('second'));
    assert.deepEqual(await store.readBytes('k'), Buffer.from('second'));
    const broken: RangeSource = {
      size: 64,
      readRange: async () => {
        throw new Error('source went away');
      },
    };
    await assert.rejects(store.write('k', broken), /source went away/);
    assert.deepEqual(await store.readBytes('k'), Buffer.from('second'));
    const listed: string[] = [];
    for await (const o of store.list()) listed.push(o.key);
    assert.deepEqual(listed, ['k'], 'nothing half-written is listed');
    await store.close();
  });

  test('a listing with the delimiter stays in one folder; a prefix may end inside a name', async () => {
    const store = await open('levels/');
    for (const k of ['a/1', 'a/2', 'a/b/3', 'ab', 'c']) await store.write(k, Buffer.from(k));
    const keys = async (prefix: string, delimiter?: boolean) => {
      const out: string[] = [];
      for await (const o of store.list(prefix, { delimiter })) out.push(o.key);
      return out.sort();
    };
    assert.deepEqual(await keys('a/', true), ['a/1', 'a/2']);
    assert.deepEqual(await keys('a/'), ['a/1', 'a/2', 'a/b/3']);
    assert.deepEqual(await keys('a'), ['a/1', 'a/2', 'a/b/3', 'ab']);
    assert.deepEqual(await keys('', true), ['ab', 'c']);
    await store.close();
  });

  test('the capabilities a store claims hold', async () => {
    const store = await open('capabilities/');
    const data = Buffer.from('{"type":"image"}');
    const written = await store.write('info', data, { contentEncoding: 'gzip', mtimeMs: 1_700_000_000_000 });
    const info = await store.stat('info');
    const { local, keepsContentEncoding, serverChecksum } = store.capabilities;
    assert.equal(info?.contentEncoding, keepsContentEncoding ? 'gzip' : undefined, 'Content-Encoding kept as claimed');
    if (serverChecksum === 'crc32c') assert.equal(info?.crc32c, written.crc32c, 'stat reports the CRC32C');
    if (serverChecksum === 'md5-etag') assert.equal(info?.etag, createHash('md5').update(data).digest('hex'), 'stat reports the MD5 as ETag');
    assert.equal(store.url.startsWith('file:'), local);
    if (local) assert.deepEqual(await readFile(fileURLToPath(`${store.url}info`)), data, 'the key is a file other programs can open');
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
