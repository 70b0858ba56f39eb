// The import end to end against the render-ws stand-in (real render-ws cannot run here: it needs
// MongoDB): create, batches, resume, stale tiles, refusals, retries, and verification.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { datTiles, restartAcquisition } from '../testing/render-acquisition.ts';
import type { TestTile } from '../testing/render-acquisition.ts';
import { planStackTiles } from '../formats/render/plan.ts';
import { rejectsWith } from '../testing/refusal.ts';
import { startRenderWs } from '../testing/render-ws.ts';
import { renderWsPerFile } from '../testing/render-ws-per-file.ts';
import { RenderClient } from './client.ts';
import type { RenderClientOptions } from './client.ts';
import { finishStack, openStack, sendBatch } from './import.ts';
import { driveImport } from '../testing/render-import.ts';
import { stackImport } from './stack-import.ts';
import type { StackImport } from './stack-import.ts';
import { verificationProblems, verifyStack } from './verify.ts';

const service = renderWsPerFile();

const IMAGES = { inLensDir: '/groups/flyem/data/Z0720-07m_VNC_Sec26/InLens', maskDir: '/groups/flyem/data/render/pre_iso/masks' };
const FAST: RenderClientOptions['retry'] = { attempts: 4, baseDelayMs: 2, maxDelayMs: 10 };
let projectSeq = 0;

/** A fresh project per test, so tests do not see each other's stacks. */
function setup(tiles: TestTile[] = restartAcquisition(), opts: { stack?: string; batchSize?: number; project?: string } = {}) {
  const target = { url: service.ws.url, owner: 'flyem', project: opts.project ?? `Z0720_07m_VNC_${++projectSeq}` };
  const planned = planStackTiles(datTiles(tiles));
  const stack = opts.stack ?? 'v1_acquire';
  const build = (name: string, t: typeof planned.main) => stackImport(target, name, t, IMAGES, planned.resolution, { batchSize: opts.batchSize ?? 10, resolutionValues: [8, 8, 8] });
  const stacks: StackImport[] = [build(`${stack}_restart`, planned.restart), build(stack, planned.main)];
  return { target, stacks, main: stacks[1], client: new RenderClient(target, { retry: FAST }) };
}

const writes = (from = 0) => service.ws.requests.slice(from).filter((r) => r.method !== 'GET');

test('an acquisition with restarts: `_restart` first, both stacks COMPLETE, verified, resolution [8, 8, 8]', async () => {
  const { target, stacks, client } = setup();
  const first = service.ws.requests.length;
  const run = await driveImport(client, stacks, { verify: { layers: 'all' } });
  assert.equal(run.stopped, false);
  assert.deepEqual(run.verifications.map((v) => [v.stack, v.ok, v.tileCount.actual, v.sectionCount.actual, v.specs.mode, v.specs.tilesCompared]), [
    ['v1_acquire_restart', true, 64, 10, 'all', 64],
    ['v1_acquire', true, 78, 12, 'all', 78],
  ]);
  assert.match(writes(first)[0].path, /\/stack\/v1_acquire_restart$/);
  const main = service.ws.stack(target.owner, target.project, 'v1_acquire')!;
  assert.equal(main.state, 'COMPLETE');
  assert.deepEqual([main.version.stackResolutionX, main.version.stackResolutionY, main.version.stackResolutionZ], [8, 8, 8]);
  // Layer 6 is a one-layer group: the main stack holds copies of layer 5 there.
  const patch = main.tiles.get('21-08-23_090330_0-1-2.patch.6.0')!;
  assert.deepEqual([patch.z, (patch.layout as { sectionId: string }).sectionId, [...(patch.labels as string[])].sort()], [6, '6.0', ['change_header_stagez', 'patch', 'restart']]);
  assert.equal((patch.mipmapLevels as Record<string, { imageUrl: string }>)['0'].imageUrl, 'file:/groups/flyem/data/Z0720-07m_VNC_Sec26/InLens/Merlin-6285_21-08-23_090330_0-1-2-InLens.png');
  // Bounds derived by render-ws from the affine alone equal the plan's.
  assert.deepEqual(run.verifications[1].bounds, { expected: { minX: -2625, minY: -1326, minZ: 1, maxX: -2255, maxY: -1136, maxZ: 12 }, actual: { minX: -2625, minY: -1326, minZ: 1, maxX: -2255, maxY: -1136, maxZ: 12 }, ok: true });
  assert.equal((await finishStack(client, stacks[1])).alreadyComplete, true);
});

test('a killed import resumes with the unfinished batches only', async () => {
  const { target, stacks, client } = setup();
  const done = new Set<string>();
  const total = stacks[0].batches.length + stacks[1].batches.length;
  const killed = await driveImport(client, stacks, { done, stopAfter: 10 });
  assert.equal(killed.stopped, true);
  assert.equal(done.size, 10);
  client.close();

  const resumedClient = new RenderClient(target, { retry: FAST });
  const before = service.ws.requests.length;
  const resumed = await driveImport(resumedClient, stacks, { done });
  assert.equal(resumed.sent.length, total - 10);
  assert.ok(resumed.sent.every((k) => !killed.sent.includes(k)));
  assert.equal(writes(before).filter((r) => r.path.endsWith('/resolvedTiles?deriveData=true')).length, total - 10);
  assert.ok(resumed.verifications.every((v) => v.ok));
});

test('finishing sends again the planned tiles the stack lacks', async () => {
  const { main, client } = setup();
  await openStack(client, main);
  for (const b of main.batches.slice(0, 3)) await sendBatch(client, main, b);
  const r = await finishStack(client, main);
  assert.deepEqual([r.resent, r.removed, r.alreadyComplete], [main.tiles.length - 30, 0, false]);
  assert.equal((await verifyStack(client, main)).ok, true);
});

test('tiles of an earlier import stop the import before anything changes; --replace removes them', async () => {
  const { target, main, client } = setup();
  await driveImport(client, [main]);
  const shorter = setup(restartAcquisition().filter((t) => !t.stamp.endsWith('090700')), { project: target.project }).main;
  const stored = service.ws.stack(target.owner, target.project, 'v1_acquire')!;
  const snapshot = [stored.state, stored.versionNumber, stored.lastModified, stored.tiles.size];
  const from = service.ws.requests.length;
  await rejectsWith(openStack(client, shorter), 'RenderStaleTiles', /holds 8 tile\(s\) this import does not plan .*21-08-23_090700_0-0-0\.12\.0/);
  assert.deepEqual(writes(from), []);
  assert.deepEqual([stored.state, stored.versionNumber, stored.lastModified, stored.tiles.size], snapshot);

  const replaced = await driveImport(client, [shorter], { replace: true });
  assert.equal(replaced.verifications[0].ok, true);
  assert.equal(writes(from).filter((r) => r.method === 'DELETE').length, 8);
  assert.equal(service.ws.stack(target.owner, target.project, 'v1_acquire')!.tiles.size, shorter.tiles.length);
});

test('401 and 403 stop at once with the service\'s answer', async () => {
  const { main, client } = setup();
  service.ws.faults.respond = () => ({ status: 401, text: 'Authentication required' });
  const from = service.ws.requests.length;
  await rejectsWith(openStack(client, main), 'RenderAccessDenied', /answered 401 Unauthorized to GET .*: Authentication required/);
  assert.equal(service.ws.requests.length - from, 1);

  delete service.ws.faults.respond;
  await openStack(client, main);
  service.ws.faults.respond = (r) => (r.method === 'PUT' ? { status: 403, text: 'Forbidden for 10.0.0.7' } : undefined);
  await rejectsWith(sendBatch(client, main, main.batches[0]), 'RenderAccessDenied', /answered 403 Forbidden .*Forbidden for 10\.0\.0\.7/);
});

test('render-ws\'s refusal of a name comes back with its message', async () => {
  const { main, client } = setup();
  await rejectsWith(openStack(client, { ...main, stack: 'v1-acquire' }), 'RenderRefused', /refused GET .*v1-acquire \(HTTP 400\): invalid stack 'v1-acquire' specified, names may only contain alphanumeric/);
});

for (const locked of ['READ_ONLY', 'OFFLINE'] as const) {
  test(`a ${locked} stack is refused and left exactly as it was`, async () => {
    const { target, stacks, client } = setup();
    await driveImport(client, stacks);
    await client.setState('v1_acquire', 'READ_ONLY');
    if (locked === 'OFFLINE') await client.setState('v1_acquire', 'OFFLINE');
    const stored = service.ws.stack(target.owner, target.project, 'v1_acquire')!;
    const snapshot = JSON.stringify([stored.state, stored.versionNumber, stored.lastModified, stored.version, [...stored.tiles.keys()]]);
    const from = service.ws.requests.length;
    await rejectsWith(driveImport(client, [stacks[1]]), 'RenderStackLocked', new RegExp(`v1_acquire at .* is ${locked}: Ferry does not change a ${locked} stack`));
    await rejectsWith(finishStack(client, stacks[1]), 'RenderStackLocked', new RegExp(`is ${locked}`));
    assert.deepEqual(writes(from), []);
    assert.equal(JSON.stringify([stored.state, stored.versionNumber, stored.lastModified, stored.version, [...stored.tiles.keys()]]), snapshot);
  });
}

test('server failures and dropped connections are retried; a batch applied but unanswered is sent again harmlessly', async () => {
  const { stacks, target } = setup();
  const retries: string[] = [];
  const client = new RenderClient(target, { retry: FAST, onRetry: (i) => retries.push(i.reason) });
  let puts = 0;
  service.ws.faults.respond = (r) => (r.method === 'PUT' && r.path.endsWith('/resolvedTiles') && ++puts <= 2 ? { status: 503, text: 'Service Unavailable' } : undefined);
  let drops = 0;
  service.ws.faults.drop = (r) => r.method === 'POST' && ++drops === 1;
  let dropsAfter = 0;
  service.ws.faults.dropAfter = (r) => r.method === 'PUT' && r.path.endsWith('/resolvedTiles') && puts > 2 && ++dropsAfter === 1;
  const run = await driveImport(client, stacks, { verify: { layers: 'all' } });
  assert.ok(run.verifications.every((v) => v.ok));
  assert.equal(retries.filter((r) => r === 'HTTP 503: Service Unavailable').length, 2);
  // (an idle keep-alive connection the server closes can add a reset of its own)
  assert.ok(retries.filter((r) => r === 'ECONNRESET').length >= 2, retries.join(', '));
});

test('a service that keeps failing is given up on after the set attempts, with its last answer', async () => {
  const { main, client } = setup();
  service.ws.faults.respond = () => ({ status: 502, text: 'Bad Gateway' });
  const from = service.ws.requests.length;
  const e = await rejectsWith(openStack(client, main), 'RenderFailed', /render-ws failed GET .* 4 times, last with HTTP 502: Bad Gateway/);
  assert.equal(e.exitCode, 1);
  assert.equal(service.ws.requests.length - from, 4);
});

test('render-ws\'s own 500 refusals are not retried: tiles for a stack that is not LOADING', async () => {
  const { main, client } = setup();
  await driveImport(client, [main]);
  const from = service.ws.requests.length;
  await rejectsWith(sendBatch(client, main, main.batches[0]), 'RenderRefused', /HTTP 500\): Resolved tiles can only be saved to stacks in the LOADING state, but this stack's state is COMPLETE\./);
  assert.equal(service.ws.requests.length - from, 1);
});

test('a URL that does not lead to render-ws is named, not taken for a missing stack', async () => {
  const client = new RenderClient({ url: `${service.ws.url.replace('/v1', '')}`, owner: 'flyem', project: 'p' }, { retry: FAST });
  const e = await rejectsWith(client.stackMetaData('v1_acquire'), 'RenderRefused', /refused GET \/owner\/flyem\/project\/p\/stack\/v1_acquire \(HTTP 404\): RESTEASY003210: Could not find resource/);
  assert.match(e.hint!, /it should end in \/render-ws\/v1/);
});

test('a service that is down: cannot reach it, after the retries', async () => {
  const down = await startRenderWs();
  await down.close();
  const client = new RenderClient({ url: down.url, owner: 'flyem', project: 'p' }, { retry: FAST });
  await rejectsWith(client.stackMetaData('v1_acquire'), 'RenderUnreachable', /cannot reach render-ws at http:\/\/127\.0\.0\.1:\d+\/render-ws\/v1 .*ECONNREFUSED after 4 attempts/);
});

test('verification catches a tile changed or removed on the server, and says what it compared', async () => {
  const { target, main, client } = setup();
  await driveImport(client, [main]);
  const stored = service.ws.stack(target.owner, target.project, 'v1_acquire')!;
  const changed = '21-08-23_090500_0-1-1.8.0';
  (stored.tiles.get(changed)!.mipmapLevels as Record<string, { imageUrl: string }>)['0'].imageUrl = 'file:/elsewhere.png';

  const all = await verifyStack(client, main, { layers: 'all' });
  assert.equal(all.ok, false);
  assert.deepEqual(all.specs.mismatches, [{ tileId: changed, field: 'mipmapLevels.0.imageUrl', expected: 'file:/groups/flyem/data/Z0720-07m_VNC_Sec26/InLens/Merlin-6285_21-08-23_090500_0-1-1-InLens.png', actual: 'file:/elsewhere.png' }]);
  assert.ok(all.specs.fields.includes('layout.distanceZ') && all.specs.fields.includes('maxY') && all.specs.fields.includes('transforms.specList[0].dataString'));
  assert.equal(all.tileIds.ok && all.tileCount.ok && all.bounds.ok && all.zValues.ok && all.state.ok, true);
  assert.deepEqual(verificationProblems(all), [
    `1 tile spec difference(s) in the layers read back, first: ${changed} mipmapLevels.0.imageUrl is "file:/elsewhere.png", sent "file:/groups/flyem/data/Z0720-07m_VNC_Sec26/InLens/Merlin-6285_21-08-23_090500_0-1-1-InLens.png"`,
  ]);

  // A sample of three layers: the first, the last and one between, named in the result.
  const sample = await verifyStack(client, main, { layers: 3 });
  assert.equal(sample.specs.mode, 'sample');
  assert.deepEqual(sample.specs.layers, [1, 7, 12]);
  assert.equal(sample.specs.layersTotal, 12);

  stored.tiles.delete('21-08-23_084156_0-0-0.1.0');
  const removed = await verifyStack(client, main, { layers: 'all' });
  assert.deepEqual([removed.ok, removed.tileIds.missing, removed.tileIds.ok], [false, ['21-08-23_084156_0-0-0.1.0'], false]);
  // (which difference is first depends on which layer answered first)
  assert.deepEqual(verificationProblems(removed).map((p) => p.split(', first: ')[0]), ['1 planned tile(s) missing: 21-08-23_084156_0-0-0.1.0', '2 tile spec difference(s) in the layers read back']);
});
