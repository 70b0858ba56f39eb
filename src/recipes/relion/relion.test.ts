// `ferry relion` end to end, as a user runs it: real RELION 3.1 (scripts/services/relion.sh) on
// synthetic movies with a planted drift, records in the ledger (SQLite) or in ISPyB (MariaDB,
// scripts/services/mariadb.sh), processing on a detached local worker. Start, the run ending with
// status 1 and the drift recovered, Start refused while a job runs, Stop and restart, Stop.
import assert from 'node:assert/strict';
import { access, readFile, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import type { RowDataPacket } from 'mysql2/promise';
import { openLedger } from '../../ledger/open.ts';
import { freshIspyb } from '../../testing/ispyb.ts';
import { readStatus } from '../../processing/relion/runner.ts';
import { assertDriftRecovered, LONG, recordsOf, seedRows, sitesOfThisFile, SMALL, TEMPLATE, until, waitForJob } from '../../testing/relion-site.ts';

const site = sitesOfThisFile();

const exists = (p: string) => access(p).then(() => true, () => false);
const ended = (status: string) => status === 'success' || status === 'failure';

test('start on the ledger: RELION runs on a detached local worker, the run ends with status 1, and the drift found is the drift planted', async () => {
  const s = await site();
  const visit = await s.visit('cm28212-6', 3, SMALL);
  const r = await s.ferry(['--json', 'relion', 'start', '--visit', 'cm28212-6', '--image-directory', visit.imageDirectory, '--file-template', TEMPLATE, '--params', await s.params()]);
  assert.equal(r.code, 0, r.stderr);
  const started = r.json.find((e) => e.type === 'started')!;
  const submitted = r.json.find((e) => e.type === 'submitted')!;
  assert.equal(submitted.scheduler, 'local');
  assert.equal(submitted.run, `relion-${started.processingJobId}`);
  assert.equal(started.dataCollectionCreated, true);
  assert.equal(started.records, `the ledger at ${s.ledger}`);
  const projectDir = join(visit.visitDir, 'processed', `relion_${started.processingJobId}`);
  assert.equal(started.projectDir, projectDir);
  assert.deepEqual(started.parameters, seedRows(visit.imageDirectory));
  assert.match(r.stderr, /CTF estimation is skipped: no CTFFIND is configured/);

  const records = await recordsOf({ ledger: s.ledger });
  try {
    const job = await waitForJob(records, started.processingJobId, 'ended', (j) => ended(j.status));
    assert.equal(job.status, 'success', job.program?.message ?? '');
    assert.deepEqual([job.program?.status, job.program?.message], [1, 'done: 3/3 micrographs motion-corrected']);
    assert.ok(job.program!.startTime! <= job.program!.endTime!);
    assert.equal(job.program?.autoProcProgramId, started.autoProcProgramId);
    assert.equal(job.program?.environment, `project=${projectDir}`);
    assert.match(job.program?.commandLine ?? '', /^relion_pipeliner --schedule ferry --RunJobs 'Import\/job001\/ MotionCorr\/job002\/ '/);
    assert.deepEqual(await records.parameters(started.processingJobId), seedRows(visit.imageDirectory));
  } finally {
    await records.close();
  }
  // A RELION project named from its ids, its movies linked, and no RUNNING_FERRY once it ended.
  assert.equal(await readlink(join(projectDir, 'Movies')), '../../raw');
  assert.equal(await exists(join(projectDir, 'RUNNING_FERRY')), false);
  assert.deepEqual(JSON.parse(await readFile(join(projectDir, 'ferry_run.json'), 'utf8')).ids, { processingJobId: started.processingJobId, dataCollectionId: started.dataCollectionId });
  await assertDriftRecovered(projectDir, 3);

  const status = await s.ferry(['--json', 'relion', 'status', '--visit', 'cm28212-6']);
  assert.equal(status.code, 0, status.stderr);
  assert.deepEqual(
    status.json.filter((e) => e.type === 'job').map((j) => [j.processingJobId, j.status, j.program.message, j.projectDir]),
    [[started.processingJobId, 'success', 'done: 3/3 micrographs motion-corrected', projectDir]],
  );
  // The ledger's own view: one relion.process job, done, its worker gone.
  const run = await s.ferry(['status', '--run', `relion-${started.processingJobId}`]);
  assert.match(run.stdout, new RegExp(`processing job ${started.processingJobId}: success: done: 3/3 micrographs motion-corrected`));
});

test('start on ISPyB: the rows SynchWeb and Zocalo would write, and the run ending with status 1', async () => {
  const s = await site();
  const db = await freshIspyb();
  try {
    const visit = await s.visit('cm28212-6', 2, SMALL);
    const r = await s.ferry(['--json', 'relion', 'start', '--visit', 'cm28212-6', '--image-directory', visit.imageDirectory, '--file-template', TEMPLATE, '--params', await s.params(), '--ispyb', db.url]);
    assert.equal(r.code, 0, r.stderr);
    const started = r.json.find((e) => e.type === 'started')!;
    const records = await recordsOf({ ispyb: db.url });
    try {
      await waitForJob(records, started.processingJobId, 'ended', (j) => ended(j.status));
    } finally {
      await records.close();
    }
    const [dc] = await db.query<RowDataPacket[]>('SELECT * FROM DataCollection');
    assert.deepEqual([dc.dataCollectionId, dc.imageDirectory, dc.fileTemplate, dc.imageSuffix], [started.dataCollectionId, visit.imageDirectory, TEMPLATE, 'mrc']);
    const [job] = await db.query<RowDataPacket[]>('SELECT * FROM ProcessingJob');
    assert.deepEqual(
      [job.processingJobId, job.dataCollectionId, job.displayName, job.recipe, job.automatic],
      [started.processingJobId, started.dataCollectionId, 'RELION', 'relion', 0],
    );
    const params = await db.query<RowDataPacket[]>('SELECT parameterKey, parameterValue FROM ProcessingJobParameter WHERE processingJobId = ? ORDER BY processingJobParameterId', [job.processingJobId]);
    assert.deepEqual(params.map((p) => ({ key: p.parameterKey, value: p.parameterValue })), seedRows(visit.imageDirectory));
    const programs = await db.query<RowDataPacket[]>('SELECT * FROM AutoProcProgram');
    assert.equal(programs.length, 1);
    const [p] = programs;
    assert.deepEqual([p.processingJobId, p.processingPrograms, p.processingStatus, p.processingMessage], [job.processingJobId, 'relion', 1, 'done: 2/2 micrographs motion-corrected']);
    assert.ok(p.recordTimeStamp <= p.processingStartTime && p.processingStartTime <= p.processingEndTime);
    assert.equal(p.processingEnvironment, `project=${started.projectDir}`);
    await assertDriftRecovered(started.projectDir, 2);
    // The ledger keeps the database without its password.
    const ledger = await openLedger(s.ledger);
    try {
      const [ledgerJob] = await ledger.listJobs({});
      assert.deepEqual(ledgerJob.params, { processingJobId: job.processingJobId, autoProcProgramId: p.autoProcProgramId, ispyb: db.url.replace(/:[^:@/]*@/, '@') });
      assert.equal(ledgerJob.state, 'success');
    } finally {
      await ledger.close();
    }
  } finally {
    await db.dispose();
  }
});

test('Start while a job runs is refused naming it; --stop-and-restart stops it (status 0 "stopped") and starts a new job with its parameters; old rows stay; Stop', async () => {
  const s = await site();
  const db = await freshIspyb();
  const start = (...extra: string[]) =>
    s.ferry(['--json', 'relion', 'start', '--visit', 'cm28212-6', '--image-directory', visit.imageDirectory, '--file-template', TEMPLATE, '--ispyb', db.url, ...extra]);
  const visit = await s.visit('cm28212-6', 150, LONG, { linked: true });
  const records = await recordsOf({ ispyb: db.url });
  try {
    const first = (await start('--params', await s.params())).json.find((e) => e.type === 'started')!;
    const running = async (id: number, projectDir: string) => {
      await waitForJob(records, id, 'running', (j) => j.status === 'running');
      await until(`RELION to correct a micrograph of job ${id}`, async () => (await readStatus(projectDir)).progress.done >= 1);
    };
    await running(first.processingJobId, first.projectDir);
    const snapshot = async () => ({
      jobs: await db.query<RowDataPacket[]>('SELECT * FROM ProcessingJob ORDER BY processingJobId'),
      params: await db.query<RowDataPacket[]>('SELECT * FROM ProcessingJobParameter ORDER BY processingJobParameterId'),
      collections: await db.query<RowDataPacket[]>('SELECT * FROM DataCollection'),
    });
    const before = await snapshot();

    const refused = await start('--params', await s.params());
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, new RegExp(`data collection ${first.dataCollectionId} is already being processed: processing job ${first.processingJobId} is running`));
    assert.match(refused.stderr, /--stop-and-restart/);
    assert.deepEqual(await snapshot(), before, 'a refused start records nothing');

    const restart = await start('--stop-and-restart');
    assert.equal(restart.code, 0, restart.stderr);
    const second = restart.json.find((e) => e.type === 'started')!;
    assert.equal(second.dataCollectionId, first.dataCollectionId);
    assert.equal(second.dataCollectionCreated, false);
    const [stopped] = second.stopped;
    assert.equal(stopped.processingJobId, first.processingJobId);
    assert.match(stopped.message, /^stopped: \d+\/150 micrographs motion-corrected$/);
    // The old job: its program run ended 0 "stopped", its RELION job aborted, its marker gone.
    const old = (await records.getJob(first.processingJobId))!;
    assert.deepEqual([old.status, old.program?.status, old.program?.message], ['failure', 0, stopped.message]);
    assert.equal(await exists(join(first.projectDir, 'RUNNING_FERRY')), false);
    assert.equal(await exists(join(first.projectDir, 'MotionCorr/job002/RELION_JOB_EXIT_ABORTED')), true);
    // The new job has the old one's parameters; every old row is as it was.
    assert.deepEqual(await records.parameters(second.processingJobId), await records.parameters(first.processingJobId));
    const afterRestart = await snapshot();
    assert.deepEqual(afterRestart.jobs.slice(0, before.jobs.length), before.jobs);
    assert.deepEqual(afterRestart.params.slice(0, before.params.length), before.params);
    assert.deepEqual(afterRestart.collections, before.collections);
    assert.equal(afterRestart.jobs.length, 2);
    assert.notEqual(second.projectDir, first.projectDir);

    await running(second.processingJobId, second.projectDir);
    const stop = await s.ferry(['relion', 'stop', String(second.processingJobId), '--ispyb', db.url]);
    assert.equal(stop.code, 0, stop.stderr);
    assert.match(stop.stdout, new RegExp(`Stopped processing job ${second.processingJobId}: stopped: \\d+/150 micrographs motion-corrected \\(program run \\d+ ended with status 0\\)`));
    const now = (await records.getJob(second.processingJobId))!;
    assert.deepEqual([now.status, now.program?.status], ['failure', 0]);
    assert.match(now.program?.message ?? '', /^stopped: /);
    assert.equal(await exists(join(second.projectDir, 'RUNNING_FERRY')), false);
    // Its ledger job is cancelled, so no worker starts it again.
    const ledger = await openLedger(s.ledger);
    try {
      const run = await ledger.getRun(second.run);
      assert.deepEqual((await ledger.listJobs({ runId: run.id })).map((j) => j.state), ['cancelled']);
    } finally {
      await ledger.close();
    }

    const again = await s.ferry(['relion', 'stop', String(second.processingJobId), '--ispyb', db.url]);
    assert.equal(again.code, 2);
    assert.match(again.stderr, new RegExp(`processing job ${second.processingJobId} has already ended \\(failure: stopped: `));
    assert.match(again.stderr, /there is nothing to stop/);
  } finally {
    await records.close();
    await db.dispose();
  }
});
