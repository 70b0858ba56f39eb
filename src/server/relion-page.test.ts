// The RELION view in Chromium, on ISPyB records in the shared MariaDB, arranged as SynchWeb and
// Zocalo leave them: a data collection whose job runs offers "Stop and restart" and Stop on that
// job only; one whose jobs ended offers Start; statuses follow SynchWeb's rule; the Start form has
// the relion_it parameters with their defaults and sends them, typed, with stopAndRestart exactly
// when a job of the collection is active.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { openLedger } from '../ledger/open.ts';
import { freshIspyb } from '../testing/ispyb.ts';
import { openIspybRecords } from '../processing/ispyb/ispyb-records.ts';
import { VISITS } from '../testing/processing-records-contract.ts';
import type { StartRequest } from '../processing/records.ts';
import { LONG, relionSite, SEED_PARAMS, until } from '../testing/relion-site.ts';
import { recordsOf, waitForJob } from '../testing/relion-site.ts';
import { tempDir } from '../testing/tree.ts';
import { launchChromium, screenshotFolder, serve } from '../testing/web.ts';


function startRequest(imageDirectory: string, fileTemplate: string): StartRequest {
  return {
    visit: VISITS.current,
    imageDirectory,
    fileTemplate,
    parameters: [{ key: 'voltage', value: '300' }, { key: 'stop_after_ctf_estimation', value: '1' }],
    displayName: 'RELION',
    recipe: 'relion',
  };
}

test('RELION: collections with their jobs by SynchWeb’s status rule; Stop and restart while one runs; the Start form’s defaults', async () => {
  const ispyb = await freshIspyb();
  const root = await tempDir('ferry-relion-page-');
  const shots = await screenshotFolder(root);
  const records = await openIspybRecords(ispyb.url);
  // Collection A: an old run that succeeded, then one that runs now.
  const a = await records.start(startRequest('/dls/m12/data/2026/cm28212-6/raw/', 'GridSquare_*/Data/*.mrc'));
  const aOld = await records.registerProgram(a.processingJobId, { programs: 'relion' });
  await records.startProgram(aOld);
  await records.finishProgram(aOld, { success: true, message: 'RELION preprocessing finished' });
  const aNow = await records.start(startRequest('/dls/m12/data/2026/cm28212-6/raw/', 'GridSquare_*/Data/*.mrc'));
  await records.startProgram(await records.registerProgram(aNow.processingJobId, { programs: 'relion' }));
  // Collection B: its only job failed.
  const b = await records.start(startRequest('/dls/m12/data/2026/cm28212-6/raw/', 'Frames/*.tif'));
  const bRun = await records.registerProgram(b.processingJobId, { programs: 'relion' });
  await records.finishProgram(bRun, { success: false, message: 'MotionCorr: <gain> reference missing' });
  await records.close();

  const ledgerFile = join(root, 'ledger.sqlite');
  await (await openLedger(ledgerFile)).close();
  const s = await serve(['--ledger', ledgerFile, '--ispyb', ispyb.url]);
  const chrome = await launchChromium();
  const context = chrome.context;
  try {
    const page = await context.newPage();
    await page.goto(s.address);
    await page.getByRole('link', { name: 'RELION' }).click();
    await page.getByLabel('Visit').fill(VISITS.current);
    await page.getByRole('button', { name: 'Open' }).click();

    const dcA = page.locator(`section[data-dc="${a.dataCollectionId}"]`);
    const dcB = page.locator(`section[data-dc="${b.dataCollectionId}"]`);
    await dcA.waitFor();
    const statuses = async (dc: typeof dcA) => dc.locator('tbody tr').evaluateAll((rows) => rows.map((r) => [Number(r.getAttribute('data-processing-job')), r.getAttribute('data-status')]));
    assert.deepEqual(await statuses(dcA), [[aNow.processingJobId, 'running'], [a.processingJobId, 'success']]);
    assert.deepEqual(await statuses(dcB), [[b.processingJobId, 'failure']]);
    assert.equal(await dcA.getByRole('button', { name: 'Stop and restart' }).count(), 1, 'a running job: Stop and restart in place of Start');
    assert.equal(await dcA.getByRole('button', { name: 'Start', exact: true }).count(), 0);
    assert.deepEqual(await dcA.getByRole('button', { name: /^Stop processing job/ }).evaluateAll((bs) => bs.map((x) => x.getAttribute('aria-label'))), [`Stop processing job ${aNow.processingJobId}`], 'Stop on the active job only');
    assert.equal(await dcB.getByRole('button', { name: 'Start', exact: true }).count(), 1, 'nothing active: Start');
    assert.equal(await dcB.getByRole('button', { name: /Stop/ }).count(), 0);
    assert.equal(await dcB.locator('td.message').textContent(), 'MotionCorr: <gain> reference missing', 'a message is text');
    await page.screenshot({ path: join(shots, 'relion.png') });

    // The form sends what the page's user chose, typed; the request is caught before it reaches
    // the server, whose Start goes through the relion recipe (not part of this test).
    const sent: unknown[] = [];
    await page.route('**/api/relion/start', async (route) => {
      sent.push(route.request().postDataJSON());
      await route.fulfill({ status: 200, contentType: 'application/json', body: JSON.stringify({ ok: true, lines: ['started'] }) });
    });
    await dcB.getByRole('button', { name: 'Start', exact: true }).click();
    const dialog = page.getByRole('dialog');
    await dialog.waitFor();
    assert.equal(await dialog.getByLabel(/Voltage/).inputValue(), '300');
    assert.equal(await dialog.getByLabel(/Spherical aberration/).inputValue(), '2.7');
    assert.equal(await dialog.getByLabel(/Motion correction binning/).inputValue(), '1');
    assert.equal(await dialog.getByLabel(/File template/).inputValue(), 'Frames/*.tif');
    assert.equal(await dialog.getByLabel(/EER fractionation/).count(), 0, 'EER grouping only for EER movies');
    await dialog.getByLabel(/Pixel size/).fill('1.23');
    await dialog.getByLabel(/Dose per frame/).fill('0.5');
    await dialog.getByLabel(/Stop after CTF estimation/).check();
    await page.screenshot({ path: join(shots, 'relion-start.png') });
    await dialog.getByRole('button', { name: 'Start', exact: true }).click();
    await dialog.waitFor({ state: 'hidden' });
    const first = sent[0] as { params: Record<string, unknown> };
    assert.deepEqual({ ...first, params: undefined }, {
      visit: VISITS.current,
      imageDirectory: '/dls/m12/data/2026/cm28212-6/raw/',
      fileTemplate: 'Frames/*.tif',
      params: undefined,
      stopAndRestart: false,
    });
    assert.deepEqual(
      { voltage: first.params.voltage, Cs: first.params.Cs, angpix: first.params.angpix, motioncor_doseperframe: first.params.motioncor_doseperframe, stop: first.params.stop_after_ctf_estimation, eer: first.params.eer_grouping },
      { voltage: 300, Cs: 2.7, angpix: 1.23, motioncor_doseperframe: 0.5, stop: true, eer: undefined },
    );

    await dcA.getByRole('button', { name: 'Stop and restart' }).click();
    await dialog.getByRole('heading', { name: `Stop and restart data collection ${a.dataCollectionId}` }).waitFor();
    await dialog.getByLabel(/Pixel size/).fill('0.83');
    await dialog.getByLabel(/Dose per frame/).fill('1');
    await dialog.getByLabel(/Stop after CTF estimation/).check();
    await dialog.getByRole('button', { name: 'Stop and restart' }).click();
    await dialog.waitFor({ state: 'hidden' });
    assert.equal((sent[1] as { stopAndRestart: boolean }).stopAndRestart, true, 'a collection with an active job is stopped and restarted');
    assert.equal((sent[1] as { fileTemplate: string }).fileTemplate, 'GridSquare_*/Data/*.mrc');
  } finally {
    // Both, whatever happened: a browser or a server left over would hold the test run open.
    await Promise.allSettled([chrome.close(), s.stop()]);
    await ispyb.dispose();
    await rm(root, { recursive: true, force: true });
  }
});

test('RELION from the page, for real: Start records the job and runs RELION; while it runs Stop and restart stands in place of Start; Stop ends it "stopped"', async () => {
  // The ledger's records (no ISPyB) and RELION from Debian on a visit long enough to be caught running.
  const site = await relionSite();
  const visit = await site.visit('cm28212-7', 60, LONG, { linked: true });
  const ledgerFile = join(site.dir, 'ledger.sqlite');
  await (await openLedger(ledgerFile)).close();
  const s = await serve(['--ledger', ledgerFile], site.env);
  const chrome = await launchChromium();
  try {
    const page = await chrome.context.newPage();
    await page.goto(s.address);
    await page.getByRole('link', { name: 'RELION' }).click();
    await page.getByLabel('Visit').fill('cm28212-7');
    await page.getByRole('button', { name: 'Open' }).click();
    await page.getByRole('button', { name: /Process new movies/ }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByLabel(/Image directory/).fill(visit.imageDirectory);
    await dialog.getByLabel(/File template/).fill('GridSquare_*/Data/*.mrc');
    await dialog.getByLabel(/Pixel size/).fill(String(SEED_PARAMS.angpix));
    await dialog.getByLabel(/Dose per frame/).fill(String(SEED_PARAMS.motioncor_doseperframe));
    await dialog.getByLabel(/Stop after CTF estimation/).check();
    await dialog.getByRole('button', { name: 'Start', exact: true }).click();
    await dialog.waitFor({ state: 'hidden', timeout: 120_000 });

    const records = await recordsOf({ ledger: ledgerFile });
    try {
      const job = await until('the processing job the page started', async () => (await records.listJobs({ visit: 'cm28212-7' }))[0]);
      await waitForJob(records, job.processingJobId, 'RELION running', (j) => j.status === 'running');
      const dc = page.locator(`section[data-dc="${job.dataCollectionId}"]`);
      // The page follows the ledger: the running job, and Stop and restart in place of Start.
      await dc.locator(`tr[data-processing-job="${job.processingJobId}"][data-status="running"]`).waitFor({ timeout: 120_000 });
      assert.equal(await dc.getByRole('button', { name: 'Stop and restart' }).count(), 1);
      assert.equal(await dc.getByRole('button', { name: 'Start', exact: true }).count(), 0);
      // The page asks before it stops a job.
      page.once('dialog', (d) => void d.accept());
      await dc.getByRole('button', { name: `Stop processing job ${job.processingJobId}` }).click();
      const stopped = await waitForJob(records, job.processingJobId, 'the stopped run to end', (j) => j.status === 'failure');
      assert.match(stopped.program?.message ?? '', /^stopped/);
      await dc.locator(`tr[data-processing-job="${job.processingJobId}"][data-status="failure"]`).waitFor({ timeout: 120_000 });
      assert.equal(await dc.getByRole('button', { name: 'Start', exact: true }).count(), 1, 'nothing active again: Start');
    } finally {
      await records.close();
    }
  } finally {
    await Promise.allSettled([chrome.close(), s.stop()]);
    await site.dispose();
  }
});
