// The page in real Chromium, on a ledger that `ferry work` processes in other processes: counts
// change on the open page without a reload, Retry makes a failed job run again, Cancel stops a
// running one, a job key made of markup shows as text, read-only has no actions, and the FIB-SEM
// check and volume views show what their runs hold (the volume opening in a local Neuroglancer).
// The tests take the screenshots of the README (docs/screenshots/).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { openLedger } from '../ledger/open.ts';
import { exited, spawnWorker } from '../testing/ledger.ts';
import { makeStageFolders, scopePath, testTabLayout, tileBytes, writeStages, writeTabYaml } from '../testing/fibsem-tab.ts';
import { ingest, writeStack } from '../testing/volume.ts';
import { runFerry, startFerry, collect } from '../testing/cli.ts';
import { tempDir } from '../testing/tree.ts';
import { launchChromium, requireEnv, screenshotFolder, serve, until } from '../testing/web.ts';

const XSS_KEY = '<img src=x onerror=alert(1)>';

/** The number the runs page shows for a run and a state ('total', 'todo', ..., 'cancelled'). */
async function shownCount(page: Page, runId: number, state: string): Promise<number> {
  const text = await page.locator(`tr[data-run="${runId}"] td[data-count="${state}"]`).textContent();
  return Number((text ?? '').replace(/,/g, ''));
}

/** Waits until the page shows at least `n` for the run and state (the DOM patched by the event stream). */
function waitForCount(page: Page, runId: number, state: string, n: number, exact = false) {
  return page.waitForFunction(
    ([sel, want, eq]) => {
      // Runs in the page, where the DOM is the global object's.
      const doc = (globalThis as unknown as { document: { querySelector(s: string): { textContent: string | null } | null } }).document;
      const v = Number((doc.querySelector(sel)?.textContent ?? '').replace(/,/g, ''));
      return eq ? v === want : v >= want;
    },
    [`tr[data-run="${runId}"] td[data-count="${state}"]`, n, exact] as const,
    { timeout: 120_000 },
  );
}

function rowState(page: Page, jobId: number, state: string) {
  return page.locator(`tr[data-job="${jobId}"][data-state="${state}"]`).waitFor({ timeout: 120_000 });
}

test('live counts while workers run, Retry runs a failed job again, Cancel stops a running one, markup in a key is text', async () => {
  const root = await tempDir('ferry-page-');
  const shots = await screenshotFolder(root);
  const ledgerFile = join(root, 'ledger.sqlite');
  const ledger = await openLedger(ledgerFile);
  const plates = await ledger.createRun({ name: 'jump-2024_05_plates', labels: { recipe: 'jump', source: 'source_4', batch: '2024_05_08_Batch1' } });
  await ledger.addJobs(plates.id, [
    ...Array.from({ length: 12 }, (_, i) => ({ kind: 'test.sleep', key: `source_4/2024_05_08_Batch1/BR000${String(i + 10)}`, params: { ms: 400 } })),
    { kind: 'test.fail', key: XSS_KEY, params: { message: 'upload refused: <b>AccessDenied</b> <script>alert(2)</script>' }, maxAttempts: 1 },
    { kind: 'test.sleep', key: 'source_4/2024_05_08_Batch1/BR00099-slow', params: { ms: 600_000 } },
  ]);
  const plugin = await ledger.createRun({ name: 'needs-a-plugin' });
  await ledger.addJobs(plugin.id, [{ kind: 'test.sleep', key: 'tile-a', params: { ms: 1 } }, { kind: 'test.sleep', key: 'tile-b', params: { ms: 1 } }]);
  const jobs = await ledger.listJobs({});
  const id = (key: string) => jobs.find((j) => j.key === key)!.id;
  await ledger.close();

  // A worker without the test job kinds, as on a node that lacks a plugin: both jobs fail.
  const bare = await collect(startFerry(['work', '--ledger', ledgerFile, '--run', plugin.name, '--until-empty']));
  assert.equal(bare.code, 1, bare.stderr);

  const s = await serve(['--ledger', ledgerFile]);
  const chrome = await launchChromium();
  const context = chrome.context;
  const dialogs: string[] = [];
  const workers: ReturnType<typeof spawnWorker>[] = [];
  try {
    const page = await context.newPage();
    page.on('dialog', (d) => {
      dialogs.push(d.message());
      void d.dismiss();
    });
    await page.goto(s.address);
    await waitForCount(page, plates.id, 'todo', 14, true);
    await waitForCount(page, plugin.id, 'error', 2, true);
    // Whatever happens next must happen in this very document: a reload would lose the mark.
    await page.evaluate(() => Object.assign(globalThis, { ferryTestNoReload: true }));

    workers.push(spawnWorker(['--ledger', ledgerFile, '--run', plates.name, '--until-empty', '--concurrency', '2', '--lease', '3']));
    await waitForCount(page, plates.id, 'success', 4);
    await page.screenshot({ path: join(shots, 'runs.png') });
    await waitForCount(page, plates.id, 'success', 12, true);
    await waitForCount(page, plates.id, 'error', 1, true);
    assert.equal(await shownCount(page, plates.id, 'ongoing'), 1, 'the slow job is still running');
    assert.equal(await page.evaluate(() => (globalThis as { ferryTestNoReload?: boolean }).ferryTestNoReload), true, 'no reload');

    // The run's page, reached by its link: the key of markup is text, its error too.
    await page.getByRole('link', { name: plates.name }).click();
    const xssRow = page.locator(`tr[data-job="${id(XSS_KEY)}"]`);
    await xssRow.waitFor();
    assert.equal(await xssRow.locator('td.key a').textContent(), XSS_KEY);
    assert.match((await xssRow.locator('td.error-cell').textContent()) ?? '', /<b>AccessDenied<\/b> <script>alert\(2\)<\/script>/);
    assert.equal(await page.locator('main img, main script, main b').count(), 0, 'no element made from a key or an error');

    // Cancel the slow job while it runs: the worker stops it, and with nothing left it exits.
    const slow = id('source_4/2024_05_08_Batch1/BR00099-slow');
    await rowState(page, slow, 'ongoing');
    await page.getByRole('button', { name: `Cancel job ${slow}` }).click();
    await rowState(page, slow, 'cancelled');
    await exited(workers[0]);
    await page.evaluate(() => (globalThis as unknown as { scrollTo(x: number, y: number): void }).scrollTo(0, 0));
    await page.screenshot({ path: join(shots, 'run.png') });

    // The job page of the failed job: its error and event log, as text.
    await xssRow.locator('td.key a').click();
    await page.locator('h1.key-title').waitFor();
    assert.equal(await page.locator('h1.key-title').textContent(), XSS_KEY);
    assert.match((await page.locator('pre.error-text').textContent()) ?? '', /<script>alert\(2\)<\/script>/);
    assert.ok((await page.locator('table.events td.message').allTextContents()).includes('about to fail on attempt 1'));
    assert.equal(await page.locator('main img, main script, main b').count(), 0);
    await page.screenshot({ path: join(shots, 'job.png') });

    // Retry one failed job of the other run; a worker with the job kinds runs it: it succeeds.
    await page.getByRole('link', { name: 'Runs', exact: true }).first().click();
    await page.getByRole('link', { name: plugin.name }).click();
    await rowState(page, id('tile-a'), 'error');
    await page.getByRole('button', { name: `Retry job ${id('tile-a')}` }).click();
    await rowState(page, id('tile-a'), 'todo');
    workers.push(spawnWorker(['--ledger', ledgerFile, '--run', plugin.name, '--until-empty']));
    await rowState(page, id('tile-a'), 'success');
    assert.equal(await exited(workers[1]), 0, workers[1].output());
    await rowState(page, id('tile-b'), 'error');
    // A selection, then every failed job of the run, by keyboard.
    await page.getByRole('checkbox', { name: `Select job ${id('tile-b')}` }).check();
    await page.getByRole('button', { name: 'Cancel selected (1)' }).click();
    await rowState(page, id('tile-b'), 'cancelled');
    const retryAll = page.getByRole('button', { name: 'Retry failed and cancelled (1)' });
    await retryAll.focus();
    await page.keyboard.press('Enter');
    await rowState(page, id('tile-b'), 'todo');
    assert.equal(await page.evaluate(() => (globalThis as { ferryTestNoReload?: boolean }).ferryTestNoReload), true, 'still no reload');
    assert.deepEqual(dialogs, [], 'no script from a key or an error ran');
  } finally {
    for (const w of workers) if (w.exitCode === null) w.kill('SIGKILL');
    // Both, whatever happened: a browser or a server left over would hold the test run open.
    await Promise.allSettled([chrome.close(), s.stop()]);
    await rm(root, { recursive: true, force: true });
  }
});

test('read-only: the page has no actions at all', async () => {
  const root = await tempDir('ferry-page-');
  const ledgerFile = join(root, 'ledger.sqlite');
  const ledger = await openLedger(ledgerFile);
  const run = await ledger.createRun({ name: 'archive-run' });
  await ledger.addJobs(run.id, [{ kind: 'test.fail', key: 'one', maxAttempts: 1 }, { kind: 'test.sleep', key: 'two', params: { ms: 1 } }]);
  await ledger.close();
  const w = spawnWorker(['--ledger', ledgerFile, '--until-empty']);
  await exited(w);
  const s = await serve(['--ledger', ledgerFile, '--read-only']);
  const chrome = await launchChromium();
  const context = chrome.context;
  try {
    const page = await context.newPage();
    await page.goto(`${s.url}runs/${run.id}`);
    await page.locator('tr[data-state="error"]').waitFor();
    await page.locator('text=Read-only').waitFor();
    for (const name of [/^retry/i, /^cancel(?!led)/i, /unlock/i, /^start/i, /^stop/i, /lock actions/i]) assert.equal(await page.getByRole('button', { name }).count(), 0, `no ${name} button`);
    assert.equal(await page.locator('input[type="checkbox"], input[type="password"]').count(), 0, 'nothing to select for an action, no token to enter');
    await page.locator('tr[data-state="error"] td.key a').click();
    await page.locator('table.events').waitFor();
    assert.equal(await page.getByRole('button', { name: /^(retry|cancel)$/i }).count(), 0);
  } finally {
    // Both, whatever happened: a browser or a server left over would hold the test run open.
    await Promise.allSettled([chrome.close(), s.stop()]);
    await rm(root, { recursive: true, force: true });
  }
});

test('workflow views: a FIB-SEM tab check as check_tabs shows it, and a volume that opens in Neuroglancer served by Ferry', async () => {
  const ngDir = requireEnv('FERRY_TEST_NEUROGLANCER_DIR', 'neuroglancer.sh');
  const root = await tempDir('ferry-page-');
  const shots = await screenshotFolder(root);
  const ledgerFile = join(root, 'ledger.sqlite');

  // A tab whose middle tile never left the scope and whose last one is not archived yet.
  const l = testTabLayout(join(root, 'tab'));
  await makeStageFolders(l);
  const tiles = ['084156', '084212', '084230', '084249'].map((t) => `Merlin-6285_21-08-23_${t}_0-0-0`);
  for (const c of [tiles[0], tiles[2]]) await writeStages(l, c, { transferred: true, archive: true, png: true, log: true }, tileBytes(c));
  await writeStages(l, tiles[3], { transferred: true, png: true, log: true }, tileBytes(tiles[3]));
  const listing = join(l.root, 'scope_dat.txt');
  await writeFile(listing, tiles.map((c) => scopePath(l.scopeRoot, c)).join('\n') + '\n');
  const yaml = await writeTabYaml(l, { host: 'scope1', listing }, { expected: { firstDat: `${tiles[0]}.dat`, count: 4 } });
  const check = await runFerry(['fibsem', 'check', yaml, '--ledger', ledgerFile]);
  assert.equal(check.code, 1, check.stderr);

  const stack = await writeStack(join(root, 'sections'), [96, 80, 6], 'uint8');
  const volume = join(root, 'em-volume');
  await ingest(ledgerFile, [stack.dir, volume, '--voxel-size', '4,4,40', '--chunk', '32,32,2', '--task-size', '64,64,4', '--nonzero-threshold', '0', '--run', 'volume-em']);

  const s = await serve(['--ledger', ledgerFile, '--read-only', '--neuroglancer', ngDir]);
  const chrome = await launchChromium();
  const context = chrome.context;
  try {
    const ledger = await openLedger(ledgerFile);
    const runs = await ledger.listRuns();
    await ledger.close();
    const checkRun = runs.find((r) => r.name.endsWith('-check'))!;
    const volumeRun = runs.find((r) => r.name === 'volume-em')!;

    const page = await context.newPage();
    await page.goto(`${s.url}runs/${checkRun.id}`);
    const view = page.locator('section.fibsem-check');
    await view.waitFor();
    assert.deepEqual(await view.locator('table.stages tbody td').allTextContents(), ['3', '3', '2', '4', '3'], 'InLens PNG, transferred, archived, scope, logs');
    const missing = view.locator('details', { hasText: 'Missing .dat' });
    assert.deepEqual(await missing.locator('li').allTextContents(), [tiles[1]]);
    assert.deepEqual(await view.locator('details', { hasText: 'Unarchived .dat' }).locator('li').allTextContents(), [tiles[3]]);
    const count = view.locator('table.expected tr', { hasText: '.dat count' });
    assert.deepEqual((await count.locator('td').allTextContents()).slice(0, 3), ['2', '4', 'mismatch']);
    const first = view.locator('table.expected tr', { hasText: 'First .dat' });
    assert.equal(await first.locator('td').nth(2).textContent(), 'as expected');
    await page.screenshot({ path: join(shots, 'fibsem-check.png') });

    await page.goto(`${s.url}runs/${volumeRun.id}`);
    const open = page.getByRole('link', { name: 'Open in Neuroglancer' });
    await open.waitFor();
    await page.screenshot({ path: join(shots, 'volume.png') });
    const failed: string[] = [];
    const served: string[] = [];
    context.on('response', (r) => {
      if (!r.url().startsWith(s.url)) return;
      if (r.status() >= 400) failed.push(`${r.status()} ${r.url()}`);
      if (r.url().includes(`/volumes/${volumeRun.id}/`)) served.push(r.url());
    });
    const [viewer] = await Promise.all([context.waitForEvent('page'), open.click()]);
    await viewer.locator('.neuroglancer-rendered-data-panel').first().waitFor({ timeout: 60_000 });
    // The viewer asks Ferry for the volume's info, then for chunks of it.
    await until('the viewer to read chunks of the volume', async () => (served.some((u) => /\/4_4_40\//.test(u)) ? true : undefined));
    assert.ok(served.some((u) => u.endsWith('/info')), `the viewer read the info: ${served.join(', ')}`);
    assert.ok(served.some((u) => /\/4_4_40\//.test(u)), `the viewer read chunks: ${served.join(', ')}`);
    assert.deepEqual(failed, [], 'every request to Ferry succeeded');
    assert.ok(viewer.url().startsWith(`${s.url}neuroglancer/`), 'Neuroglancer itself came from Ferry, not the internet');
  } finally {
    // Both, whatever happened: a browser or a server left over would hold the test run open.
    await Promise.allSettled([chrome.close(), s.stop()]);
    await rm(root, { recursive: true, force: true });
  }
});
