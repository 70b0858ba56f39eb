// Large writes around the page cache: exact bytes whichever path a write takes, and the ordinary
// path whenever direct I/O cannot be used. (tmpfs takes direct writes since Linux 6.6, so no
// filesystem here is sure to refuse them; a misaligned buffer stands in for the refusal.)
import assert from 'node:assert/strict';
import { randomFillSync } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, statfs } from 'node:fs/promises';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { tempDir } from '../testing/tree.ts';
import { alignedBytes, writeFileDirect } from './direct-write.ts';
import { openFileStore } from './file.ts';

const EXT4 = 0xef53;
const XFS = 0x58465342;
const MiB = 1 << 20;

const root = await tempDir('ferry-direct-');
const shm = existsSync('/dev/shm') ? await mkdtemp('/dev/shm/ferry-direct-') : undefined;
after(() => Promise.all([root, shm].map((d) => d && rm(d, { recursive: true, force: true }))));

function filled(bytes: Uint8Array): Buffer {
  randomFillSync(bytes);
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

test('aligned buffers start on a page, and are zeroed', () => {
  const a = alignedBytes(3 * MiB + 5);
  assert.equal(a.byteLength, 3 * MiB + 5);
  assert.equal(a.byteOffset, 0);
  assert.ok(a.every((b) => b === 0));
});

test('a direct write gives back every byte, its last partial block cut back to the exact size', async () => {
  const direct = [EXT4, XFS].includes((await statfs(root)).type);
  for (const size of [8 * MiB, 8 * MiB + 1, 8 * MiB + 4095, 5 * MiB + 123]) {
    const body = filled(alignedBytes(size));
    const file = join(root, `d${size}`);
    const wrote = await writeFileDirect(file, body);
    if (direct) assert.equal(wrote, true, 'ext4 and xfs take direct writes');
    if (wrote) assert.ok((await readFile(file)).equals(body), `${size} bytes`);
  }
});

test('a buffer off a block boundary is refused before anything is written', async () => {
  const big = alignedBytes(2 * MiB + 4096);
  assert.equal(await writeFileDirect(join(root, 'offset'), big.subarray(512)), false);
  assert.equal(existsSync(join(root, 'offset')), false);
});

test('the folder store writes large buffers exactly on every path: aligned, ordinary, off a block, on tmpfs', async () => {
  const bodies = {
    aligned: filled(alignedBytes(33 * MiB + 77)),
    ordinary: filled(new Uint8Array(33 * MiB + 77)),
    offset: filled(alignedBytes(33 * MiB + 4096)).subarray(100),
  };
  assert.ok(shm, 'this machine has /dev/shm');
  for (const dir of [root, shm]) {
    const store = await openFileStore(join(dir, 'store'));
    for (const [name, body] of Object.entries(bodies)) {
      const r = await store.write(`big/${name}`, body);
      assert.equal(r.size, body.length);
      assert.ok((await readFile(join(dir, 'store', 'big', name))).equals(body), `${name} in ${dir}`);
      assert.equal(r.crc32c, await store.checksum(`big/${name}`));
    }
  }
});
