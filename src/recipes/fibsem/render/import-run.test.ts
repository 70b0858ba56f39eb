// `ferry fibsem render-import` through the real command against the render-ws stand-in (real
// render-ws needs MongoDB, which cannot run here): a whole import with restarts and a patched layer,
// the verification record and `ferry status`, a command killed half-way and run again, stale tiles,
// refusals by the service, locked stacks, unreadable .dat files, and dry runs.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { rm, truncate } from 'node:fs/promises';
import { join } from 'node:path';
import { restartAcquisition, tileName, writeAcquisition } from '../../../testing/render-acquisition.ts';
import type { TestTile } from '../../../testing/render-acquisition.ts';
import { openLedger } from '../../../ledger/open.ts';
import { RenderClient } from '../../../render/client.ts';
import { collect, jsonLines, runFerry, startFerry } from '../../../testing/cli.ts';
import type { RunResult } from '../../../testing/cli.ts';
import { startRenderWs } from '../../../testing/render-ws.ts';
import { renderWsPerFile } from '../../../testing/render-ws-per-file.ts';
import { tempDir } from '../../../testing/tree.ts';
import { makeStageFolders, testTabLayout, writeTabYaml } from '../../../testing/fibsem-tab.ts';
import type { StackRecord } from './import-run.ts';

const service = renderWsPerFile();

const RUN = 'fibsem-Z0720-07m_TEST_Sec01-render-v1_acquire';
const roots: string[] = [];
after(() => Promise.all(roots.map((r) => rm(r, { recursive: true, force: true }))));
let projectSeq = 0;

interface Tab {
  yaml: string;
  archiveDat: string;
  ledger: string;
  project: string;
  /** `ferry fibsem render-import <tab> --ledger <its ledger> ...args` */
  ferry(...args: string[]): Promise<RunResult>;
}

/** A tab of these tiles importing into a project of its own (tests do not see each other's stacks). */
async function tab(tiles: TestTile[] = restartAcquisition(), o: { project?: string; ledger?: string } = {}): Promise<Tab> {
  const l = testTabLayout(await tempDir('ferry-render-import-'));
  roots.push(l.root);
  await makeStageFolders(l);
  writeAcquisition(l.archiveDat, tiles);
  const project = o.project ?? `Z0720_07m_VNC_${++projectSeq}`;
  await writeTabYaml(l, { host: 'jeiss8.hhmi.org' }, { render: { url: service.ws.url, owner: 'flyem', project, maskDir: 'masks' } });
  const ledger = o.ledger ?? join(l.root, 'ledger.sqlite');
  return { yaml: l.yaml, archiveDat: l.archiveDat, ledger, project, ferry: (...args) => runFerry(['fibsem', 'render-import', l.yaml, '--ledger', ledger, ...args]) };
}

const requestsFrom = (from: number) => service.ws.requests.slice(from);
const writesFrom = (from: number) => requestsFrom(from).filter((r) => r.method !== 'GET');
const batchPuts = (from: number) => requestsFrom(from).filter((r) => r.method === 'PUT' && r.path.includes('/resolvedTiles'));

async function until(what: string, ok: () => boolean | Promise<boolean>): Promise<void> {
  for (let i = 0; i < 2000; i++) {
    if (await ok()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  assert.fail(`gave up waiting: ${what}`);
}

async function withLedger<T>(file: string, fn: (l: Awaited<ReturnType<typeof openLedger>>) => Promise<T>): Promise<T> {
  const l = await openLedger(file, { mustExist: true });
  try {
    return await fn(l);
  } finally {
    await l.close();
  }
}

test('an acquisition with restarts: both stacks imported in batches, COMPLETE, verified, kept in the ledger and shown by ferry status', async () => {
  const t = await tab();
  const from = service.ws.requests.length;
  const r = await runFerry(['--json', 'fibsem', 'render-import', t.yaml, '--ledger', t.ledger, '--batch', '10', '--verify', 'all']);
  assert.equal(r.code, 0, r.stderr);
  const events = jsonLines(r.stdout);
  const plan = events.find((e) => e.type === 'renderPlan')!;
  assert.equal(plan.run, RUN);
  assert.deepEqual(plan.stacks.map((s: any) => [s.stack, s.tiles, s.sections, s.batches]), [
    ['v1_acquire_restart', 64, 10, 7],
    ['v1_acquire', 78, 12, 8],
  ]);
  const steps = events.filter((e) => e.type === 'renderStep');
  assert.deepEqual(steps.map((e) => e.state), Array(steps.length).fill('success'));
  assert.equal(steps.length, 2 * 3 + 7 + 8);
  // Every stack opened before any tile went out, every batch before any COMPLETE.
  const calls = requestsFrom(from).map((q) => `${q.method} ${q.path.replace(/^.*\/stack\//, '')}`);
  const lastPost = Math.max(...calls.map((c, i) => (c.startsWith('POST ') ? i : -1)));
  const isBatch = (c: string) => c.startsWith('PUT ') && c.includes('/resolvedTiles');
  const firstPut = calls.findIndex(isBatch);
  const lastPut = Math.max(...calls.map((c, i) => (isBatch(c) ? i : -1)));
  const firstComplete = calls.findIndex((c) => c.endsWith('/state/COMPLETE'));
  assert.ok(lastPost < firstPut && lastPut < firstComplete, calls.join('\n'));
  assert.equal(batchPuts(from).length, 15);

  const report = events.find((e) => e.type === 'report')!;
  assert.equal(report.ok, true);
  assert.match(report.lines[2], /^ {2}v1_acquire: verified \S+: COMPLETE; 78 tiles, 12 sections, 12 z values 1\.\.12, bounds x -2625\.\.-2255 y -1326\.\.-1136, every tile id as planned; resolution values \[8,8,8\]; tile specs of all 12 layers \(78 tiles\) read back equal to what was sent$/);

  const main = service.ws.stack('flyem', t.project, 'v1_acquire')!;
  assert.equal(main.state, 'COMPLETE');
  assert.deepEqual([main.version.stackResolutionX, main.version.stackResolutionY, main.version.stackResolutionZ], [8, 8, 8]);
  // Layer 6 is a group of one layer: the main stack holds copies of layer 5 there.
  assert.deepEqual([...main.tiles.keys()].filter((k) => k.includes('.patch.')).length, 6);
  assert.equal(service.ws.stack('flyem', t.project, 'v1_acquire_restart')!.tiles.size, 64);

  const record = await withLedger(t.ledger, (l) => l.records.get<StackRecord>('fibsem', 'render-stack', `flyem/${t.project}/v1_acquire`));
  assert.deepEqual([record!.body.ok, record!.body.stack, record!.body.tileCount.actual, record!.body.sectionCount.actual, record!.body.specs.mode, record!.body.run], [true, 'v1_acquire', 78, 12, 'all', RUN]);
  assert.deepEqual(record!.body.bounds.actual, { minX: -2625, minY: -1326, minZ: 1, maxX: -2255, maxY: -1136, maxZ: 12 });

  const s = await runFerry(['status', '--run', RUN, '--ledger', t.ledger]);
  assert.equal(s.code, 0, s.stderr);
  assert.match(s.stdout, new RegExp(`^${RUN}: {3}v1_acquire_restart: verified .*64 tiles, 10 sections, 10 z values 2\\.\\.11`, 'm'));
  assert.match(s.stdout, new RegExp(`^${RUN}: {3}v1_acquire: verified .*78 tiles, 12 sections`, 'm'));

  // The same command again: everything is done and verified, nothing is sent.
  const again = service.ws.requests.length;
  const r2 = await t.ferry('--batch', '10', '--verify', 'all');
  assert.equal(r2.code, 0, r2.stderr);
  assert.match(r2.stdout, /v1_acquire: 78 tile\(s\) in 12 layer\(s\), 8 batch\(es\), imported and verified before/);
  assert.deepEqual(writesFrom(again), []);

  // A sample asked for instead: only the verification runs again.
  const sampled = service.ws.requests.length;
  const r3 = await t.ferry('--batch', '10', '--verify', '3');
  assert.equal(r3.code, 0, r3.stderr);
  assert.match(r3.stdout, /v1_acquire: verified .*tile specs of 3 of 12 layers \(--verify all reads every layer\)/);
  assert.deepEqual(writesFrom(sampled), []);
});

test('a stack changed at the service since: verified again with --verify all, the difference named, exit 1', async () => {
  const t = await tab();
  assert.equal((await t.ferry()).code, 0);
  const changed = '21-08-23_090500_0-1-1.8.0';
  (service.ws.stack('flyem', t.project, 'v1_acquire')!.tiles.get(changed)!.mipmapLevels as Record<string, { imageUrl: string }>)['0'].imageUrl = 'file:/elsewhere.png';
  const from = service.ws.requests.length;
  const r = await t.ferry('--verify', 'all');
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stdout, /^ {2}v1_acquire_restart: verified /m);
  assert.match(r.stdout, new RegExp(`^  v1_acquire: NOT verified \\(read back \\S+\\): 1 tile spec difference\\(s\\) in the layers read back, first: ${changed.replaceAll('.', '\\.')} mipmapLevels\\.0\\.imageUrl is "file:/elsewhere\\.png", sent "file:.*/Merlin-6285_21-08-23_090500_0-1-1-InLens\\.png"$`, 'm'));
  assert.match(r.stdout, /not every stack is verified \(exit 1\)/);
  assert.deepEqual(writesFrom(from), [], 'verifying changes nothing');
  const record = await withLedger(t.ledger, (l) => l.records.get<StackRecord>('fibsem', 'render-stack', `flyem/${t.project}/v1_acquire`));
  assert.deepEqual([record!.body.ok, record!.body.specs.mismatchCount, record!.body.tileIds.ok], [false, 1, true]);
});

test('a command killed half-way (SIGKILL), run again: only the batches it had not finished are sent', async () => {
  const t = await tab();
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  let puts = 0;
  // The service answers six batches, then holds the next ones: the command is mid-import.
  service.ws.faults.hold = (r) => (r.method === 'PUT' && r.path.endsWith('/resolvedTiles') && ++puts > 6 ? gate : undefined);
  const child = startFerry(['fibsem', 'render-import', t.yaml, '--ledger', t.ledger, '--batch', '2']);
  const exited = collect(child);
  const sentBatches = () => withLedger(t.ledger, async (l) => (await l.listJobs({ kind: 'render.batch', states: ['success'] })).map((j) => j.key));
  await until('six batches recorded as sent and three more held', async () => puts >= 9 && existsSync(t.ledger) && (await sentBatches()).length === 6);
  child.kill('SIGKILL');
  const killed = await exited;
  assert.equal(killed.signal, 'SIGKILL');
  const done = await sentBatches();
  release(); // the held batches are applied now, unanswered: their jobs are not done
  delete service.ws.faults.hold;

  const total = 32 + 39;
  const from = service.ws.requests.length;
  const r = await t.ferry('--batch', '2');
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /v1_acquire_restart: 64 tile\(s\) in 10 layer\(s\), 32 batch\(es\), 6 already sent/);
  assert.equal(batchPuts(from).length, total - done.length);
  assert.deepEqual(requestsFrom(from).filter((q) => q.method === 'POST'), [], 'the stacks were opened before the kill and not again');
  assert.match(r.stdout, /every stack is COMPLETE and verified \(exit 0\)/);
  assert.equal(service.ws.stack('flyem', t.project, 'v1_acquire')!.tiles.size, 78);
});

test('tiles of an earlier import stop the import before anything is sent; --replace removes them', async () => {
  const first = await tab();
  assert.equal((await first.ferry()).code, 0);
  // The same tab and ledger, its last layer gone (08-23 09:07:00, eight tiles).
  const shorter = await tab(restartAcquisition().filter((x) => x.stamp !== '21-08-23_090700'), { project: first.project, ledger: first.ledger });
  const stored = service.ws.stack('flyem', first.project, 'v1_acquire')!;
  const snapshot = () => JSON.stringify([stored.state, stored.versionNumber, stored.lastModified, [...stored.tiles.keys()]]);
  const before = snapshot();
  const from = service.ws.requests.length;
  const r = await shorter.ferry();
  assert.equal(r.code, 2, r.stdout + r.stderr);
  assert.match(r.stderr, /v1_acquire at .* holds 8 tile\(s\) this import does not plan \(from an earlier import\?\): 21-08-23_090700_0-0-0\.12\.0, /);
  assert.match(r.stderr, /pass --replace to remove them/);
  assert.deepEqual(writesFrom(from), []);
  assert.equal(snapshot(), before);

  const replaced = await shorter.ferry('--replace');
  assert.equal(replaced.code, 0, replaced.stderr);
  assert.match(replaced.stdout, /v1_acquire: COMPLETE \(8 tile\(s\) of an earlier import removed\)/);
  assert.equal(writesFrom(from).filter((q) => q.method === 'DELETE').length, 8);
  assert.equal(service.ws.stack('flyem', first.project, 'v1_acquire')!.tiles.size, 70);
});

test('a service that answers 401 is refused before anything is sent; 403 on writes stops at the first write, and the next command carries on', async () => {
  const t = await tab();
  service.ws.faults.respond = () => ({ status: 401, text: 'Authentication required' });
  const from = service.ws.requests.length;
  const r = await t.ferry();
  assert.equal(r.code, 2);
  assert.match(r.stderr, /render-ws at .* answered 401 Unauthorized to GET .*\/stack\/v1_acquire_restart: Authentication required/);
  assert.deepEqual(writesFrom(from), []);

  service.ws.faults.respond = (q) => (q.method === 'GET' ? undefined : { status: 403, text: 'Forbidden for 10.0.0.7' });
  const r2 = await t.ferry();
  assert.equal(r2.code, 2);
  assert.match(r2.stderr, /answered 403 Forbidden to POST .*: Forbidden for 10\.0\.0\.7/);
  assert.deepEqual(writesFrom(from).map((q) => q.status), writesFrom(from).map(() => 403));

  delete service.ws.faults.respond;
  const r3 = await t.ferry();
  assert.equal(r3.code, 0, r3.stderr);
});

test('a service that is down: named, exit 2', async () => {
  const down = await startRenderWs();
  await down.close();
  const t = await tab();
  const r = await t.ferry('--render-url', down.url);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /cannot reach render-ws at http:\/\/127\.0\.0\.1:\d+\/render-ws\/v1 .*ECONNREFUSED after 6 attempts/);
  assert.doesNotMatch(r.stderr, /\n\s+at /);
});

test('a name render-ws would refuse stops the command before a header is read or a request sent', async () => {
  const t = await tab();
  const from = service.ws.requests.length;
  const r = await t.ferry('--project', 'jrc_mus-cortex_1');
  assert.equal(r.code, 2);
  assert.match(r.stderr, /invalid project 'jrc_mus-cortex_1': render-ws accepts only letters, digits and single underscores/);
  assert.deepEqual(requestsFrom(from), []);
  assert.equal(existsSync(t.ledger), false);
});

for (const locked of ['READ_ONLY', 'OFFLINE'] as const) {
  test(`${locked === 'OFFLINE' ? 'an' : 'a'} ${locked} stack is refused before either stack is touched, and left exactly as it was`, async () => {
    const t = await tab();
    assert.equal((await t.ferry()).code, 0);
    const client = new RenderClient({ url: service.ws.url, owner: 'flyem', project: t.project });
    await client.setState('v1_acquire', 'READ_ONLY');
    if (locked === 'OFFLINE') await client.setState('v1_acquire', 'OFFLINE');
    client.close();
    const stacks = ['v1_acquire_restart', 'v1_acquire'].map((s) => service.ws.stack('flyem', t.project, s)!);
    const snapshot = () => JSON.stringify(stacks.map((s) => [s.state, s.versionNumber, s.lastModified, s.version, [...s.tiles.keys()]]));
    const before = snapshot();
    const from = service.ws.requests.length;
    // Smaller batches make a new plan, so there is work to do.
    const r = await t.ferry('--batch', '7');
    assert.equal(r.code, 2);
    assert.match(r.stderr, new RegExp(`v1_acquire at .* is ${locked}: Ferry does not change a ${locked} stack`));
    assert.deepEqual(writesFrom(from), []);
    assert.equal(snapshot(), before);
  });
}

test('a truncated .dat is named and stops the import; with --allow-missing the rest is imported', async () => {
  const tiles = restartAcquisition();
  const t = await tab(tiles);
  const cut = join(t.archiveDat, tileName(tiles[40]));
  await truncate(cut, 30_000);
  const from = service.ws.requests.length;
  const r = await t.ferry();
  assert.equal(r.code, 1);
  assert.match(r.stderr, new RegExp(`1 \\.dat file\\(s\\) cannot be used, so their layers would have holes: ${cut} \\(truncated: the header says 41024 bytes, the file has 30000\\)`));
  assert.match(r.stderr, /--allow-missing/);
  assert.deepEqual(requestsFrom(from), []);

  const allowed = await t.ferry('--allow-missing');
  assert.equal(allowed.code, 0, allowed.stderr);
  assert.match(allowed.stderr, new RegExp(`${cut} left out \\(--allow-missing\\): truncated`));
  assert.ok(![...service.ws.stack('flyem', t.project, 'v1_acquire')!.tiles.values()].some((x) => (x.mipmapLevels as any)['0'].imageUrl.includes(tileName(tiles[40]).slice(0, -4))));
});

test('an acquisition without .dat files is refused, naming the folders', async () => {
  const t = await tab([]);
  const r = await t.ferry();
  assert.equal(r.code, 2);
  assert.match(r.stderr, /no \.dat files in .*nearline\/dat or .*groups\/dat/);
});

test('--dry-run sends nothing, writes no ledger, and prints every tile spec with --json', async () => {
  const t = await tab();
  const from = service.ws.requests.length;
  const r = await runFerry(['--json', 'fibsem', 'render-import', t.yaml, '--ledger', t.ledger, '--dry-run']);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(requestsFrom(from), []);
  assert.equal(existsSync(t.ledger), false);
  const preview = jsonLines(r.stdout).find((e) => e.type === 'renderPreview')!;
  assert.equal(jsonLines(r.stdout).find((e) => e.type === 'renderPlan')!.preview, undefined, 'the specs are printed once');
  assert.deepEqual(preview.stacks.map((s: any) => [s.stack, s.tileSpecs.length]), [['v1_acquire_restart', 64], ['v1_acquire', 78]]);
  const patch = preview.stacks[1].tileSpecs.find((s: any) => s.tileId === '21-08-23_090330_0-1-2.patch.6.0');
  assert.equal(patch.mipmapLevels['0'].imageUrl.endsWith('/Merlin-6285_21-08-23_090330_0-1-2-InLens.png'), true);
  assert.match(patch.mipmapLevels['0'].maskUrl, /\/masks\/mask_100x100_left_100\.tif$/);

  const human = await t.ferry('--dry-run');
  assert.equal(human.code, 0);
  assert.match(human.stdout, /dry run: nothing was sent; --json prints every tile spec/);
  assert.deepEqual(requestsFrom(from), []);
});
