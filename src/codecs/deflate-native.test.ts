// The libdeflate addon is built by the project's own scripts (npm's postinstall, with the Debian
// packages scripts/services/libdeflate.sh names) and loads; a missing one means Node's zlib, a
// broken one a clear error.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { isFerryError } from '../errors.ts';
import { tempDir } from '../testing/tree.ts';
import { LIBDEFLATE_ADDON, loadLibdeflate } from './deflate-native.ts';
import { GZIP_ENGINE } from './gzip.ts';

test('the libdeflate addon is built here and is what Ferry gzips with', () => {
  const addon = loadLibdeflate();
  assert.ok(
    addon,
    `no libdeflate addon at ${fileURLToPath(LIBDEFLATE_ADDON)}: install what scripts/services/libdeflate.sh names ` +
      '(bash scripts/services/libdeflate.sh install), or run `npm ci` or `bash native/libdeflate/build.sh` after installing them',
  );
  assert.equal(GZIP_ENGINE, 'libdeflate');
  const data = Buffer.from('a chunk, a chunk, a chunk of voxels');
  const out = Buffer.alloc(addon.gzipBound(data.length));
  const size = addon.gzipSync(data, 6, out);
  assert.deepEqual(gunzipSync(out.subarray(0, size)), data);
});

test('a missing addon is no addon: Ferry then gzips with Node zlib', async () => {
  const dir = await tempDir();
  assert.equal(loadLibdeflate(pathToFileURL(join(dir, 'deflate_addon.node'))), undefined);
});

test('an addon file that does not load is an environment error naming the file and the fix', async () => {
  const file = join(await tempDir(), 'deflate_addon.node');
  await writeFile(file, 'not a shared object');
  assert.throws(
    () => loadLibdeflate(pathToFileURL(file)),
    (e: unknown) => isFerryError(e) && e.kind === 'environment' && e.message.includes(file) && /native\/libdeflate\/build\.sh/.test(e.hint ?? ''),
  );
});

test('the addon refuses bad arguments instead of reading or writing out of bounds', async () => {
  const addon = loadLibdeflate();
  assert.ok(addon, 'the addon is built (see the first test)');
  const data = Buffer.alloc(100_000, 7);
  assert.throws(() => addon.gzipSync(data, 13, Buffer.alloc(addon.gzipBound(data.length))), /level/);
  assert.throws(() => addon.gzipSync('text' as unknown as Uint8Array, 1, Buffer.alloc(64)), /Uint8Array/);
  // An output too small for the member fails the call; nothing is written past its end.
  const out = Buffer.alloc(64, 0xee);
  await assert.rejects(addon.gzip(data, 1, out.subarray(0, 16)), /could not compress/);
  assert.ok(out.subarray(16).every((b) => b === 0xee));
});
