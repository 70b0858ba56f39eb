// `ferry relion` when things go wrong: bad input refused before anything is recorded (movies,
// folders, RELION, options, visits, ISPyB or RabbitMQ out of reach), two Starts at once on one data
// collection, and workers that die while RELION runs. Real RELION, MariaDB and RabbitMQ.
import assert from 'node:assert/strict';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import type { RowDataPacket } from 'mysql2/promise';
import { openLedger } from '../../ledger/open.ts';
import { freshIspyb } from '../../testing/ispyb.ts';
import { readMarker } from '../../processing/relion/files.ts';
import { isRunning } from '../../processing/local-process.ts';
import { readStatus } from '../../processing/relion/runner.ts';
import { isEnded } from '../../processing/relion/status.ts';
import { closedPort } from '../../testing/net.ts';
import { collect } from '../../testing/cli.ts';
import { LONG, recordsOf, sitesOfThisFile, SMALL, TEMPLATE, until, waitForJob } from '../../testing/relion-site.ts';
import type { Site } from '../../testing/relion-site.ts';

const site = sitesOfThisFile();

async function ledgerRecordCount(s: Site): Promise<number> {
  const ledger = await openLedger(s.ledger, { mustExist: true }).catch(() => undefined);
  if (!ledger) return 0;
  try {
    return (await ledger.records.list({ recipe: 'relion' })).length;
  } finally {
    await ledger.close();
  }
}

test('bad input is refused with what to do, exit 2, and nothing is recorded or prepared', async () => {
  const s = await site();
  const visit = await s.visit('cm28212-6', 1, SMALL);
  const params = await s.params();
  const start = (over: { visit?: string; dir?: string; template?: string; extra?: string[]; env?: NodeJS.ProcessEnv } = {}) =>
    s.ferry(['relion', 'start', '--visit', over.visit ?? 'cm28212-6', '--image-directory', over.dir ?? visit.imageDirectory, '--file-template', over.template ?? TEMPLATE, '--params', params, ...(over.extra ?? [])], over.env);
  const emptyBin = join(s.dir, 'no-relion');
  await mkdir(emptyBin);
  const cases: [string, Parameters<typeof start>[0], RegExp][] = [
    ['no movies match', { template: 'GridSquare_*/Data/*.tif' }, /^ferry: no movies match GridSquare_\*\/Data\/\*\.tif in .*\/cm28212-6\/raw\/?\n  check --file-template and --image-directory/],
    ['the image directory is missing', { dir: join(visit.visitDir, 'nope') }, /^ferry: image directory .*\/cm28212-6\/nope\/? does not exist/],
    ['the movies are not in a visit folder', { visit: 'cm28212-5' }, /image directory .*\/cm28212-6\/raw\/? is not inside a folder named after visit cm28212-5/],
    ['RELION is not installed', { env: { FERRY_RELION_BIN: emptyBin } }, /RELION is not installed: relion_pipeliner was not found in .*no-relion \(FERRY_RELION_BIN\)\n  install the Debian package relion/],
    ['an unknown option', { extra: ['--param', 'voltge=300'] }, /unknown RELION option voltge \(--param\)\n  known options: acquisition_software, import_images, .*, voltage, Cs, /],
    ['an option out of range', { extra: ['--param', 'voltage=250', '--param', 'angpix=0'] }, /invalid RELION options: voltage="250" \(--param\) should be one of 200, 300; angpix="0" \(--param\) should be at least 0.02/],
    ['a malformed visit', { visit: 'cm28212' }, /"cm28212" is not a visit name\n  a visit is named <proposal code><proposal number>-<visit number>/],
  ];
  for (const [what, over, expected] of cases) {
    const r = await start(over);
    assert.equal(r.code, 2, `${what}: ${r.stderr}`);
    assert.match(r.stderr, expected, what);
    assert.doesNotMatch(r.stderr, /internal error|\n\s+at /, what);
  }
  const notJson = join(s.dir, 'broken.json');
  await writeFile(notJson, '{"voltage": 300,');
  const broken = await s.ferry(['relion', 'start', '--visit', 'cm28212-6', '--image-directory', visit.imageDirectory, '--file-template', TEMPLATE, '--params', notJson]);
  assert.equal(broken.code, 2);
  assert.match(broken.stderr, /the RELION parameters file .*broken.json is not JSON/);
  // A dry run checks the same and says what it would record.
  const dry = await start({ extra: ['--dry-run'] });
  assert.equal(dry.code, 0, dry.stderr);
  assert.match(dry.stdout, /Dry run, nothing recorded or run\. Would record in the ledger at .*: visit cm28212-6, data collection \(new\)/);
  assert.equal(await ledgerRecordCount(s), 0);
  assert.deepEqual(await readdir(visit.visitDir), ['raw'], 'no processed/ folder');
  const unknown = await s.ferry(['relion', 'stop', '999']);
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /there is no processing job 999 in the ledger at /);
});

test('ISPyB or RabbitMQ out of reach, an unknown visit, one that ended: a clear error and no row written', async () => {
  const s = await site();
  const db = await freshIspyb();
  try {
    const visit = await s.visit('cm28212-8', 1, SMALL);
    const start = (...extra: string[]) =>
      s.ferry(['relion', 'start', '--visit', 'cm28212-8', '--image-directory', visit.imageDirectory, '--file-template', TEMPLATE, '--param', 'angpix=1', '--param', 'motioncor_doseperframe=1', '--param', 'stop_after_ctf_estimation=1', ...extra]);
    const closed = await closedPort();
    const noDb = await start('--ispyb', `mysql://ferry:secret@127.0.0.1:${closed}/ispyb`);
    assert.equal(noDb.code, 2);
    assert.match(noDb.stderr, new RegExp(`the ISPyB database at mysql://ferry@127.0.0.1:${closed}/ispyb is unreachable \\(ECONNREFUSED`));
    assert.doesNotMatch(noDb.stderr, /secret/);
    const noBroker = await start('--ispyb', db.url, '--force', '--zocalo', `amqp://ferry:secret@127.0.0.1:${closed}/zocalo`);
    assert.equal(noBroker.code, 2);
    assert.match(noBroker.stderr, new RegExp(`RabbitMQ at amqp://ferry@127.0.0.1:${closed}/zocalo is unreachable`));
    const noIspyb = await start('--zocalo', 'amqp://ferry:secret@127.0.0.1:5672/zocalo');
    assert.equal(noIspyb.code, 2);
    assert.match(noIspyb.stderr, /--zocalo needs --ispyb/);
    const ended = await start('--ispyb', db.url);
    assert.equal(ended.code, 2);
    assert.match(ended.stderr, /visit cm28212-8 ended over 24 hours ago, at \d{4}-\d\d-\d\d \d\d:\d\d\n.*pass --force to start anyway/);
    const unknownVisit = await s.ferry(['relion', 'start', '--visit', 'cm28212-99', '--image-directory', visit.imageDirectory, '--file-template', TEMPLATE, '--ispyb', db.url]);
    assert.equal(unknownVisit.code, 2);
    assert.match(unknownVisit.stderr, /there is no visit cm28212-99 in the ISPyB database at mysql:\/\/ferry@/);
    const [{ n }] = await db.query<RowDataPacket[]>(
      'SELECT (SELECT COUNT(*) FROM DataCollectionGroup) + (SELECT COUNT(*) FROM DataCollection) + (SELECT COUNT(*) FROM ProcessingJob) + (SELECT COUNT(*) FROM AutoProcProgram) AS n',
    );
    assert.equal(Number(n), 0);
    // --force lifts SynchWeb's 24-hour rule (a dry run: everything checked, nothing recorded).
    const forced = await start('--ispyb', db.url, '--force', '--dry-run');
    assert.equal(forced.code, 0, forced.stderr);
    assert.match(forced.stdout, /Would record in mysql:\/\/ferry@[^ ]+: visit cm28212-8, data collection \(new\)/);
  } finally {
    await db.dispose();
  }
});

test('two Starts at once on one data collection: exactly one wins, on the ledger and on ISPyB', async () => {
  const s = await site();
  // The ledger exists, as it does where Ferry is used (creating a new SQLite ledger is not raced here).
  await (await openLedger(s.ledger)).close();
  const db = await freshIspyb();
  try {
    for (const [name, backend] of [['ledger', []], ['ISPyB', ['--ispyb', db.url]]] as const) {
      const visit = await s.visit('cm28212-6', 2, SMALL, { folder: `race-${name}` });
      const args = ['--json', 'relion', 'start', '--visit', 'cm28212-6', '--image-directory', visit.imageDirectory, '--file-template', TEMPLATE, '--params', await s.params(), ...backend];
      const both = await Promise.all([collect(s.startFerry(args)), collect(s.startFerry(args))]);
      const codes = both.map((r) => r.code).sort();
      assert.deepEqual(codes, [0, 2], `${name}: ${both.map((r) => r.stderr).join(' | ')}`);
      const lost = both.find((r) => r.code === 2)!;
      assert.match(lost.stderr, /is already being processed: processing job \d+ is (submitted|queued|running)/, name);
      const won = both.find((r) => r.code === 0)!;
      const started = won.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l)).find((e) => e.type === 'started');
      const records = await recordsOf(name === 'ledger' ? { ledger: s.ledger } : { ispyb: db.url });
      try {
        const jobs = await records.listJobs({ dataCollectionId: started.dataCollectionId });
        assert.deepEqual(jobs.map((j) => j.processingJobId), [started.processingJobId], name);
        await waitForJob(records, started.processingJobId, 'done', (j) => j.status === 'success');
      } finally {
        await records.close();
      }
    }
  } finally {
    await db.dispose();
  }
});

test('a worker killed while RELION runs: the pipeline carries on and status records how it ended; a whole run killed is a failure, never running', async () => {
  const s = await site();
  await (await openLedger(s.ledger)).close();
  const records = await recordsOf({ ledger: s.ledger });
  try {
    const start = async (folder: string, movies: number) => {
      const visit = await s.visit('cm28212-6', movies, LONG, { folder, linked: true });
      const r = await s.ferry(['--json', 'relion', 'start', '--visit', 'cm28212-6', '--image-directory', visit.imageDirectory, '--file-template', TEMPLATE, '--params', await s.params()]);
      assert.equal(r.code, 0, r.stderr);
      const started = r.json.find((e) => e.type === 'started')!;
      const worker = Number(r.json.find((e) => e.type === 'submitted')!.jobId);
      // The worker has claimed the job once the program is running and the ledger job is ongoing.
      await waitForJob(records, started.processingJobId, 'running', (j) => j.status === 'running');
      const ledger = await openLedger(s.ledger);
      try {
        await until('the worker to claim the job', async () => (await ledger.listJobs({ states: ['ongoing'] })).some((j) => (j.params as { processingJobId: number }).processingJobId === started.processingJobId));
      } finally {
        await ledger.close();
      }
      return { started, worker };
    };
    const statusOf = async (id: number) => (await s.ferry(['--json', 'relion', 'status', '--visit', 'cm28212-6'])).json.find((e) => e.type === 'job' && e.processingJobId === id)!;

    // The worker alone: RELION runs on, and the status of the finished pipeline ends the program run.
    const a = await start('worker-killed', 40);
    process.kill(a.worker, 'SIGKILL');
    await until('the pipeline to end on its own', async () => isEnded(await readStatus(a.started.projectDir)));
    assert.equal((await records.getJob(a.started.processingJobId))?.status, 'running', 'nobody has recorded the end yet');
    const done = await statusOf(a.started.processingJobId);
    assert.deepEqual([done.status, done.program.status, done.program.message], ['success', 1, 'done: 40/40 micrographs motion-corrected']);

    // The whole run: worker, supervisor and RELION, as a lost node or kill -9 would leave it.
    const b = await start('all-killed', 150);
    await until('RELION to correct a micrograph', async () => (await readStatus(b.started.projectDir)).progress.done >= 1);
    const marker = (await readMarker(b.started.projectDir))!;
    process.kill(b.worker, 'SIGKILL');
    process.kill(marker.supervisor.pid, 'SIGKILL');
    process.kill(-marker.pipeliner!.pid, 'SIGKILL');
    await until('the supervisor to be gone', async () => !(await isRunning(marker.supervisor)));
    const died = await statusOf(b.started.processingJobId);
    assert.equal(died.status, 'failure');
    assert.equal(died.program.status, 0);
    assert.equal(died.program.message, `processing died: its supervisor (pid ${marker.supervisor.pid} on ${marker.supervisor.host}) is gone`);
    assert.equal((await readMarker(b.started.projectDir)), undefined, 'no RUNNING_FERRY left');

    // --watch redraws until interrupted.
    const watch = s.startFerry(['relion', 'status', '--visit', 'cm28212-6', '--watch', '1']);
    let seen = '';
    watch.stdout!.on('data', (d) => (seen += d));
    await until('two rounds of --watch', async () => (seen.match(/Ctrl-C to end/g)?.length ?? 0) >= 2);
    watch.kill('SIGINT');
    const code = await new Promise((r) => watch.once('exit', r));
    assert.equal(code, 0);
    assert.match(seen, /1 success, 1 failure/);
  } finally {
    await records.close();
  }
});
