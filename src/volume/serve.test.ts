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
import { rawGet } from '../testing/net.ts';
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

test('serve: nothing outside the folder, however the path is spelled or linked', async () => {
  const base = await tempDir('ferry-serve-out-');
  const dir = join(base, 'data');
  await mkdir(join(dir, 'scale'), { recursive: true });
  await writeFile(join(dir, 'info'), '{}');
  await writeFile(join(base, 'secret'), 'outside');
  await mkdir(join(base, 'private'));
  await writeFile(join(base, 'private', 'key'), 'outside');
  await symlink(join(base, 'secret'), join(dir, 'link-to-file'));
  await symlink(join(base, 'private'), join(dir, 'scale', 'link-to-folder'));
  await writeFile(join(dir, 'scale', 'inside'), 'inside');
  await symlink(join(dir, 'scale', 'inside'), join(dir, 'link-inside'));
  const server = await serveFolder(dir);
  try {
    for (const path of [
      '../secret', '..%2Fsecret', '%2e%2e/secret', '%2E%2E%2Fsecret', 'scale/..%2F..%2Fsecret', 'scale/%2e%2e/%2e%2e/private/key',
      'link-to-file', 'scale/link-to-folder/key', 'info%00', '%252e%252e/secret', '..\\secret', '//etc/passwd',
    ]) {
      const r = await rawGet(server.port, `/${path}`);
      assert.ok(r.status === 403 || r.status === 404 || r.status === 400, `${path}: ${r.status}`);
      assert.doesNotMatch(r.body, /outside|root:/, path);
    }
    assert.equal((await rawGet(server.port, '/%zz')).status, 400, 'a malformed escape is a bad request, not a server error');
    assert.equal((await rawGet(server.port, '/link-inside')).body, 'inside', 'a link that stays inside is served');
    assert.equal((await rawGet(server.port, '/scale/../info')).body, '{}');
  } finally {
    await server.close();
    await rm(base, { recursive: true, force: true });
  }
});

test('serve: a busy or impossible port is one clear error', async () => {
  const dir = await tempDir('ferry-serve-port-');
  const first = await serveFolder(dir);
  try {
    await assert.rejects(serveFolder(dir, first.port), (e: Error & { kind?: string }) => e.kind === 'environment' && /port \d+ on 127\.0\.0\.1 is in use/.test(e.message));
    await assert.rejects(serveFolder(dir, 70000), (e: Error & { kind?: string }) => e.kind === 'usage' && /port 70000 is not a TCP port/.test(e.message));
  } finally {
    await first.close();
    await rm(dir, { recursive: true, force: true });
  }
});
