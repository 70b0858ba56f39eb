// What `ferry volume serve` answers, as Neuroglancer asks: CORS everywhere (preflight too), Range
// for shard files, Content-Encoding: gzip only for raw chunks that are stored gzipped, and nothing
// outside the dataset folder.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, rm, symlink, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { buildInfo, serializeInfo } from '../formats/precomputed/info.ts';
import { tempDir } from '../testing/tree.ts';
import { serveFolder } from './serve.ts';

/** A raw HTTP exchange (fetch would undo the gzip and hide the header we check). */
function get(url: string, method = 'GET', headers: Record<string, string> = {}): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: Buffer }> {
  return new Promise((ok, fail) => {
    const req = request(url, { method, headers }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (d: Buffer) => parts.push(d));
      res.on('end', () => ok({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(parts) }));
    });
    req.on('error', fail);
    req.end();
  });
}

test('serve: CORS, Range, gzip Content-Encoding only for gzipped raw chunks, no escape from the folder', async () => {
  const dir = await tempDir('ferry-serve-');
  const server = await serveFolder(dir);
  try {
    await writeFile(join(dir, 'info'), serializeInfo(buildInfo({ type: 'image', dataType: 'uint8', resolution: [4, 4, 40], size: [8, 8, 2], chunkSize: [8, 8, 1], encoding: 'raw' })));
    await mkdir(join(dir, '4_4_40'));
    const raw = Buffer.alloc(64, 0x1f);
    raw[1] = 0x8b; // raw voxels that happen to start like gzip, at the raw length: not gzip
    await writeFile(join(dir, '4_4_40', '0-8_0-8_0-1'), raw);
    await writeFile(join(dir, '4_4_40', '0-8_0-8_1-2'), gzipSync(Buffer.alloc(64, 5)));
    await writeFile(join(dir, '4_4_40', '0.shard'), Buffer.from('0123456789'));

    const info = await get(`${server.url}info`);
    assert.equal(info.status, 200);
    assert.equal(info.headers['access-control-allow-origin'], '*');
    assert.equal(info.headers['access-control-expose-headers'], '*');
    assert.equal(info.headers['cache-control'], 'no-cache');

    const plain = await get(`${server.url}4_4_40/0-8_0-8_0-1`);
    assert.equal(plain.headers['content-encoding'], undefined);
    assert.ok(plain.body.equals(raw));
    const gz = await get(`${server.url}4_4_40/0-8_0-8_1-2`);
    assert.equal(gz.headers['content-encoding'], 'gzip');

    const head = await get(`${server.url}4_4_40/0.shard`, 'HEAD');
    assert.equal(head.headers['content-length'], '10');
    assert.equal(head.headers['accept-ranges'], 'bytes');
    const part = await get(`${server.url}4_4_40/0.shard`, 'GET', { range: 'bytes=2-5' });
    assert.equal(part.status, 206);
    assert.equal(part.headers['content-range'], 'bytes 2-5/10');
    assert.equal(part.body.toString(), '2345');
    assert.equal((await get(`${server.url}4_4_40/0.shard`, 'GET', { range: 'bytes=20-30' })).status, 416);

    const preflight = await get(`${server.url}4_4_40/0.shard`, 'OPTIONS', { origin: 'http://127.0.0.1:1', 'access-control-request-headers': 'range' });
    assert.equal(preflight.status, 204);
    assert.equal(preflight.headers['access-control-allow-headers'], '*');

    assert.equal((await get(`${server.url}4_4_40/missing`)).status, 404);
    assert.equal((await get(`${server.url}..%2F..%2Fetc%2Fpasswd`)).status, 403);
  } finally {
    await server.close();
    await rm(dir, { recursive: true, force: true });
  }
});

test('serve: no path leaves the folder, whether by .., encoded .., a NUL or a symbolic link', async () => {
  const base = await tempDir('ferry-serve-');
  const dir = join(base, 'dataset');
  await mkdir(join(dir, 'scale'), { recursive: true });
  await writeFile(join(dir, 'scale', 'chunk'), 'inside');
  await writeFile(join(base, 'secret.txt'), 'outside');
  await mkdir(join(base, 'elsewhere'));
  await writeFile(join(base, 'elsewhere', 'secret.txt'), 'outside');
  await symlink(join(base, 'secret.txt'), join(dir, 'link-out'));
  await symlink(join(base, 'elsewhere'), join(dir, 'folder-out'));
  await symlink(join(dir, 'scale', 'chunk'), join(dir, 'link-in'));
  const server = await serveFolder(dir);
  try {
    // Raw paths, as a client that does not normalise them sends them.
    const raw = (path: string) => get(`${server.url.replace(/\/$/, '')}${path}`);
    // 404 where URL parsing itself takes the dot segments away: the path then names nothing inside.
    const cases: [string, number][] = [
      ['/../secret.txt', 404], ['/scale/../../secret.txt', 404], ['/%2e%2e/secret.txt', 404],
      ['/scale%2f..%2f..%2fsecret.txt', 403], ['/%2E%2E%2Fsecret.txt', 403], ['/link-out', 403], ['/folder-out/secret.txt', 403],
      ['/scale/chunk%00', 403], ['/%ZZ', 403],
    ];
    for (const [path, status] of cases) {
      const r = await raw(path);
      assert.equal(r.status, status, `${path} refused`);
      assert.ok(!r.body.toString().includes('outside'), `${path} sends nothing from outside`);
    }
    assert.equal((await raw('/link-in')).body.toString(), 'inside', 'a link that stays inside is followed');
    assert.equal((await raw('/scale/./chunk')).body.toString(), 'inside');
  } finally {
    await server.close();
    await rm(base, { recursive: true, force: true });
  }
});
