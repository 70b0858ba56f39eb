// `ferry serve` over HTTP, as a browser or an attacker's page would reach it: actions need the token,
// a same-origin request and a JSON body; the Host header must name this machine while it listens on
// the loopback interface; read-only has no state-changing route at all; and no path leads out of
// the folders the page serves. The page itself is driven in Chromium by page.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, rm, symlink, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { join } from 'node:path';
import { openLedger } from '../ledger/open.ts';
import type { Ledger } from '../ledger/ledger.ts';
import { runFerry } from '../testing/cli.ts';
import { tempDir } from '../testing/tree.ts';
import { serve } from '../testing/web.ts';

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** A raw exchange: the path is sent as written (no normalising), headers exactly as given. */
function http(base: string, method: string, path: string, headers: Record<string, string> = {}, body?: string): Promise<Answer> {
  const u = new URL(base);
  return new Promise((ok, fail) => {
    const req = request({ host: u.hostname, port: u.port, method, path, headers }, (res) => {
      let text = '';
      res.on('data', (d) => (text += d));
      res.on('end', () => ok({ status: res.statusCode!, headers: res.headers, body: text }));
    });
    req.on('error', fail);
    req.end(body);
  });
}

/** A ledger with one run holding a failed job, a job to do, and a volume run whose folder is `volume`. */
async function seed(file: string, volume: string): Promise<{ run: number; failed: number; todo: number; volumeRun: number; s3Run: number }> {
  const ledger: Ledger = await openLedger(file);
  try {
    const run = await ledger.createRun({ name: 'plates', labels: { recipe: 'jump' } });
    await ledger.addJobs(run.id, [
      { kind: 'test.fail', key: 'plate-1', maxAttempts: 1 },
      { kind: 'test.sleep', key: 'plate-2', params: { ms: 1 } },
    ]);
    const [claimed] = await ledger.cycle({ owner: 'w', leaseMs: 60_000, limit: 1, runIds: [run.id], finished: [] });
    await ledger.cycle({ owner: 'w', leaseMs: 60_000, limit: 0, finished: [{ id: claimed.id, state: 'error', error: 'failed as asked' }] });
    const todo = (await ledger.listJobs({ runId: run.id, states: ['todo'] }))[0].id;
    const volumeRun = await ledger.createRun({ name: 'volume-em', labels: { recipe: 'volume', src: '/stack', dst: volume } });
    const s3Run = await ledger.createRun({ name: 'volume-s3', labels: { recipe: 'volume', src: '/stack', dst: 's3://bucket/em' } });
    return { run: run.id, failed: claimed.id, todo, volumeRun: volumeRun.id, s3Run: s3Run.id };
  } finally {
    await ledger.close();
  }
}

async function jobState(file: string, id: number): Promise<string> {
  const ledger = await openLedger(file);
  try {
    return (await ledger.getJob(id)).state;
  } finally {
    await ledger.close();
  }
}

test('actions need the token, the same origin and a JSON body; anything else changes nothing', async () => {
  const dir = await tempDir('ferry-serve-');
  const ledger = join(dir, 'ledger.sqlite');
  const ids = await seed(ledger, join(dir, 'volume'));
  const s = await serve(['--ledger', ledger]);
  try {
    assert.match(s.address, /#token=/, 'the printed address carries the token after #');
    const json = { 'content-type': 'application/json' };
    const body = JSON.stringify({ ids: [ids.failed] });
    const retry = `/api/runs/${ids.run}/retry`;
    const refused = [
      ['no token', {}],
      ['a wrong token', { 'x-ferry-token': 'not-the-token-not-the-token' }],
      ['another site (Origin)', { 'x-ferry-token': s.token!, origin: 'http://evil.example' }],
      ['another site (Sec-Fetch-Site)', { 'x-ferry-token': s.token!, 'sec-fetch-site': 'cross-site' }],
      ['a page of this machine on another port', { 'x-ferry-token': s.token!, origin: 'http://127.0.0.1:1' }],
    ] as const;
    for (const [what, headers] of refused) {
      const r = await http(s.url, 'POST', retry, { ...json, ...headers }, body);
      assert.equal(r.status, 403, what);
      assert.match(JSON.parse(r.body).error, /token|cross-site/, what);
      assert.equal(r.headers['access-control-allow-origin'], undefined, `${what}: no CORS`);
    }
    const form = await http(s.url, 'POST', retry, { 'content-type': 'text/plain', 'x-ferry-token': s.token! }, body);
    assert.equal(form.status, 415, 'a body a cross-site form could send is not read');
    const preflight = await http(s.url, 'OPTIONS', retry, { origin: 'http://evil.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'x-ferry-token' });
    assert.equal(preflight.headers['access-control-allow-origin'], undefined, 'no CORS preflight is granted');
    assert.equal(await jobState(ledger, ids.failed), 'error', 'nothing changed');

    const ok = await http(s.url, 'POST', retry, { ...json, 'x-ferry-token': s.token!, origin: s.url.replace(/\/$/, ''), 'sec-fetch-site': 'same-origin' }, body);
    assert.equal(ok.status, 200, ok.body);
    assert.deepEqual(JSON.parse(ok.body), { changed: [ids.failed] });
    assert.equal(await jobState(ledger, ids.failed), 'todo');

    const other = await http(s.url, 'POST', `/api/runs/${ids.volumeRun}/cancel`, { ...json, 'x-ferry-token': s.token! }, JSON.stringify({ ids: [ids.todo] }));
    assert.deepEqual(JSON.parse(other.body), { changed: [] }, 'a job of another run is not touched through this one');
    const empty = await http(s.url, 'POST', `/api/runs/${ids.run}/cancel`, { ...json, 'x-ferry-token': s.token! }, '{}');
    assert.equal(empty.status, 400, 'cancel says which jobs, or all');
    assert.equal(await jobState(ledger, ids.todo), 'todo');

    const rebinding = await http(s.url, 'GET', '/api/runs', { host: `evil.example:${new URL(s.url).port}` });
    assert.equal(rebinding.status, 421, 'a page that rebinds its name to 127.0.0.1 reads nothing');
    const page = await http(s.url, 'GET', '/');
    assert.match(String(page.headers['content-security-policy']), /script-src 'self'/);
    assert.equal(page.headers['x-frame-options'], 'DENY');
  } finally {
    await s.stop();
    await rm(dir, { recursive: true, force: true });
  }
});

test('read-only: no state-changing route at all, no token; a token file is read, not printed', async () => {
  const dir = await tempDir('ferry-serve-');
  const ledger = join(dir, 'ledger.sqlite');
  const ids = await seed(ledger, join(dir, 'volume'));
  const ro = await serve(['--ledger', ledger, '--read-only']);
  try {
    assert.equal(ro.token, undefined);
    assert.doesNotMatch(ro.address, /token/);
    assert.equal(JSON.parse((await http(ro.url, 'GET', '/api/session')).body).readOnly, true);
    for (const path of [`/api/runs/${ids.run}/retry`, `/api/runs/${ids.run}/cancel`, '/api/relion/start', '/api/relion/stop']) {
      const r = await http(ro.url, 'POST', path, { 'content-type': 'application/json' }, JSON.stringify({ all: true }));
      assert.equal(r.status, 404, `${path} does not exist`);
    }
    const jobs = JSON.parse((await http(ro.url, 'GET', `/api/runs/${ids.run}/jobs?state=error`)).body);
    assert.deepEqual(jobs.jobs.map((j: { id: number }) => j.id), [ids.failed], 'reading still works');
    assert.equal(await jobState(ledger, ids.failed), 'error');
  } finally {
    await ro.stop();
  }

  const tokenFile = join(dir, 'token');
  await writeFile(tokenFile, 'a-token-the-staff-share-1234\n');
  const s = await serve(['--ledger', ledger, '--token-file', tokenFile]);
  try {
    assert.equal(s.token, undefined, 'a token from a file is not printed');
    assert.ok(!s.output().includes('a-token-the-staff-share-1234'));
    const r = await http(s.url, 'POST', `/api/runs/${ids.run}/retry`, { 'content-type': 'application/json', 'x-ferry-token': 'a-token-the-staff-share-1234' }, JSON.stringify({ all: true }));
    assert.deepEqual(JSON.parse(r.body), { changed: [ids.failed] });
  } finally {
    await s.stop();
    await rm(dir, { recursive: true, force: true });
  }
});

test('no path leaves the page’s own files, the browser modules or a volume’s folder', async () => {
  const dir = await tempDir('ferry-serve-');
  const ledger = join(dir, 'ledger.sqlite');
  const volume = join(dir, 'volume');
  await mkdir(join(volume, '4_4_40'), { recursive: true });
  await writeFile(join(volume, 'info'), JSON.stringify({ type: 'image', data_type: 'uint8', num_channels: 1, scales: [] }));
  await writeFile(join(volume, '4_4_40', '0-8_0-8_0-1'), 'chunk');
  await writeFile(join(dir, 'secret.txt'), 'outside');
  await symlink(join(dir, 'secret.txt'), join(volume, 'link-out'));
  await symlink(dir, join(volume, 'folder-out'));
  const ids = await seed(ledger, volume);
  const s = await serve(['--ledger', ledger, '--read-only']);
  try {
    const chunk = await http(s.url, 'GET', `/volumes/${ids.volumeRun}/4_4_40/0-8_0-8_0-1`);
    assert.equal(chunk.body, 'chunk', 'the volume itself is served');
    assert.equal((await http(s.url, 'GET', '/assets/app.js')).status, 200);
    assert.equal((await http(s.url, 'GET', '/vendor/lit-html/lit-html.js')).status, 200);
    const outside = [
      '/assets/../../../package.json',
      '/assets/%2e%2e/%2e%2e/%2e%2e/package.json',
      '/assets/..%2f..%2f..%2fpackage.json',
      '/vendor/lit-html/%2e%2e/%2e%2e/package.json',
      `/volumes/${ids.volumeRun}/../secret.txt`,
      `/volumes/${ids.volumeRun}/%2e%2e/secret.txt`,
      `/volumes/${ids.volumeRun}/4_4_40%2f..%2f..%2fsecret.txt`,
      `/volumes/${ids.volumeRun}/link-out`,
      `/volumes/${ids.volumeRun}/folder-out/secret.txt`,
      `/volumes/${ids.volumeRun}/info%00`,
    ];
    for (const path of outside) {
      const r = await http(s.url, 'GET', path);
      assert.ok(r.status === 403 || r.status === 404, `${path}: ${r.status}`);
      assert.ok(!r.body.includes('outside') || r.body.includes('outside the served folder'), `${path} sends nothing from outside`);
      assert.ok(!r.body.includes('"name": "ferry"') && !r.body.includes('"name": "lit-html"'), `${path} sends no package manifest`);
    }
    assert.equal((await http(s.url, 'GET', `/volumes/${ids.volumeRun}/link-out`)).status, 403, 'a link out of the folder is refused as such');
    assert.equal((await http(s.url, 'GET', '/vendor/lit-html/package.json')).status, 404, 'only browser modules of the package');
    assert.equal((await http(s.url, 'GET', `/volumes/${ids.s3Run}/info`)).status, 404, 'a volume elsewhere is not served');
    assert.equal((await http(s.url, 'GET', `/volumes/${ids.run}/info`)).status, 404, 'a run that is no volume has no folder');
  } finally {
    await s.stop();
    await rm(dir, { recursive: true, force: true });
  }
});

test('ferry serve refuses a missing ledger, a taken port and a folder that is no Neuroglancer build, in one line each', async () => {
  const dir = await tempDir('ferry-serve-');
  try {
    const missing = await runFerry(['serve', '--ledger', join(dir, 'none.sqlite')]);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /there is no ledger at/);
    const ledger = join(dir, 'ledger.sqlite');
    await seed(ledger, join(dir, 'volume'));
    const first = await serve(['--ledger', ledger, '--read-only']);
    try {
      const taken = await runFerry(['serve', '--ledger', ledger, '--port', new URL(first.url).port]);
      assert.equal(taken.code, 2);
      assert.match(taken.stderr, /port \d+ on 127\.0\.0\.1 is taken\n {2}choose another with --port/);
    } finally {
      await first.stop();
    }
    const ng = await runFerry(['serve', '--ledger', ledger, '--neuroglancer', dir]);
    assert.equal(ng.code, 2);
    assert.match(ng.stderr, /holds no Neuroglancer build/);
    for (const r of [missing, ng]) assert.doesNotMatch(r.stderr, /at .*\.ts:\d+/, 'no stack trace');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
