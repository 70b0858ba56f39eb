// ProcessingRecords over a real ISPyB database in MariaDB (scripts/services/mariadb.sh): the shared
// contract, then what is particular to ISPyB: the exact rows SynchWeb would have written, SynchWeb's
// own status query agreeing with Ferry's, and failures of the database itself.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { RowDataPacket } from 'mysql2/promise';
import { isFerryError } from '../../errors.ts';
import { closedPort, silentServer } from '../../testing/net.ts';
import { recordsContract, VISITS } from '../../testing/processing-records-contract.ts';
import { openIspybRecords } from './ispyb-records.ts';
import { freshIspyb, ispybUrl } from '../../testing/ispyb.ts';

recordsContract(async () => {
  const db = await freshIspyb();
  const records = await openIspybRecords(db.url);
  return {
    records,
    openAnother: () => openIspybRecords(db.url),
    dispose: async () => {
      await records.close();
      await db.dispose();
    },
  };
});

const START = {
  visit: VISITS.current,
  imageDirectory: '/dls/m12/data/2026/cm28212-6/raw',
  fileTemplate: 'GridSquare_*/Data/*.mrc',
  parameters: [
    { key: 'voltage', value: '300' },
    { key: 'stop_after_ctf_estimation', value: '1' },
  ],
  displayName: 'RELION',
  recipe: 'relion',
};

test('start writes the rows SynchWeb wrote: group, data collection, job and parameters', async () => {
  const db = await freshIspyb();
  const records = await openIspybRecords(db.url);
  try {
    const r = await records.start(START);
    const [session] = await db.query<RowDataPacket[]>("SELECT sessionId, endDate FROM BLSession WHERE visit_number = 6");
    const [group] = await db.query<RowDataPacket[]>('SELECT * FROM DataCollectionGroup');
    assert.deepEqual([group.sessionId, group.comments, group.experimentType], [session.sessionId, 'Created by Ferry', 'EM']);
    const [dc] = await db.query<RowDataPacket[]>('SELECT * FROM DataCollection');
    assert.equal(dc.dataCollectionId, r.dataCollectionId);
    assert.equal(dc.SESSIONID, session.sessionId);
    assert.equal(dc.dataCollectionGroupId, group.dataCollectionGroupId);
    assert.equal(dc.imageDirectory, '/dls/m12/data/2026/cm28212-6/raw/');
    assert.equal(dc.fileTemplate, 'GridSquare_*/Data/*.mrc');
    assert.equal(dc.imageSuffix, 'mrc');
    assert.equal(dc.imagePrefix, null);
    assert.equal(dc.runStatus, 'Created by Ferry');
    assert.ok(dc.startTime instanceof Date);
    assert.equal(dc.endTime.getTime(), session.endDate.getTime());
    const [job] = await db.query<RowDataPacket[]>('SELECT * FROM ProcessingJob');
    assert.deepEqual(
      [job.processingJobId, job.dataCollectionId, job.displayName, job.recipe, job.automatic, job.comments],
      [r.processingJobId, r.dataCollectionId, 'RELION', 'relion', 0, 'Submitted via Ferry'],
    );
    const params = await db.query<RowDataPacket[]>('SELECT processingJobId, parameterKey, parameterValue FROM ProcessingJobParameter ORDER BY processingJobParameterId');
    assert.deepEqual(
      params.map((p) => [p.processingJobId, p.parameterKey, p.parameterValue]),
      [
        [r.processingJobId, 'voltage', '300'],
        [r.processingJobId, 'stop_after_ctf_estimation', '1'],
      ],
    );
    const run = await records.registerProgram(r.processingJobId, { programs: 'relion', commandLine: 'relion_pipeliner', environment: 'slurm' });
    const [queued] = await db.query<RowDataPacket[]>('SELECT * FROM AutoProcProgram');
    assert.deepEqual(
      [queued.autoProcProgramId, queued.processingJobId, queued.processingPrograms, queued.processingCommandLine, queued.processingEnvironment],
      [run, r.processingJobId, 'relion', 'relion_pipeliner', 'slurm'],
    );
    assert.deepEqual([queued.processingStatus, queued.processingStartTime, queued.processingEndTime], [null, null, null]);
    assert.ok(queued.recordTimeStamp instanceof Date);
    await records.startProgram(run);
    await records.finishProgram(run, { success: true, message: 'done' });
    const [ended] = await db.query<RowDataPacket[]>('SELECT * FROM AutoProcProgram');
    assert.deepEqual([ended.processingStatus, ended.processingMessage], [1, 'done']);
    assert.ok(ended.processingEndTime >= ended.processingStartTime);
  } finally {
    await records.close();
    await db.dispose();
  }
});

test("SynchWeb's own status query agrees with Ferry's status for every state", async () => {
  const db = await freshIspyb();
  const records = await openIspybRecords(db.url);
  try {
    const job = async (n: number) => (await records.start({ ...START, imageDirectory: `/dls/m12/data/2026/cm28212-6/raw${n}` })).processingJobId;
    await job(1); // submitted
    await records.registerProgram(await job(2), { programs: 'relion' }); // queued
    const running = await records.registerProgram(await job(3), { programs: 'relion' });
    await records.startProgram(running);
    const ok = await records.registerProgram(await job(4), { programs: 'relion' });
    await records.startProgram(ok);
    await records.finishProgram(ok, { success: true, message: 'done' });
    const failed = await records.registerProgram(await job(5), { programs: 'relion' });
    await records.finishProgram(failed, { success: false, message: 'stopped' });
    // The CASE of api/src/Page/EM/ProcessingJobs.php (e80730cf), verbatim in meaning.
    const synchweb = await db.query<RowDataPacket[]>(`
      SELECT ProcessingJob.processingJobId, CASE
        WHEN (AutoProcProgram.processingJobId IS NULL) THEN 'submitted'
        WHEN (AutoProcProgram.processingStartTime IS NULL AND AutoProcProgram.processingStatus IS NULL) THEN 'queued'
        WHEN (AutoProcProgram.processingStartTime IS NOT NULL AND AutoProcProgram.processingStatus IS NULL) THEN 'running'
        WHEN (AutoProcProgram.processingStartTime IS NOT NULL AND AutoProcProgram.processingStatus = 0) THEN 'failure'
        WHEN (AutoProcProgram.processingStartTime IS NOT NULL AND AutoProcProgram.processingStatus = 1) THEN 'success'
        ELSE '' END AS processingStatusDescription
      FROM ProcessingJob LEFT JOIN AutoProcProgram ON AutoProcProgram.processingJobId = ProcessingJob.processingJobId
      ORDER BY ProcessingJob.processingJobId`);
    const ferry = await records.listJobs({ visit: VISITS.current });
    assert.deepEqual(
      ferry.map((j) => j.status),
      synchweb.map((r) => r.processingStatusDescription),
    );
    assert.deepEqual(ferry.map((j) => j.status), ['submitted', 'queued', 'running', 'success', 'failure']);
  } finally {
    await records.close();
    await db.dispose();
  }
});

test('a data collection another tool recorded is found; one whose directory differs in letter case is not', async () => {
  const db = await freshIspyb();
  const records = await openIspybRecords(db.url);
  try {
    // As a transfer script might have recorded it: no trailing slash.
    const [session] = await db.query<RowDataPacket[]>('SELECT sessionId FROM BLSession WHERE visit_number = 6');
    const group = await db.query<any>("INSERT INTO DataCollectionGroup (sessionId, experimentType) VALUES (?, 'EM')", [session.sessionId]);
    const theirs = await db.query<any>(
      "INSERT INTO DataCollection (SESSIONID, dataCollectionGroupId, imageDirectory, fileTemplate) VALUES (?, ?, '/dls/m12/data/2026/cm28212-6/raw', 'GridSquare_*/Data/*.mrc')",
      [session.sessionId, group.insertId],
    );
    const a = await records.start(START);
    assert.equal(a.dataCollectionCreated, false);
    assert.equal(a.dataCollectionId, theirs.insertId);
    // ISPyB's collation compares without case; a Linux file system does not.
    const b = await records.start({ ...START, imageDirectory: '/dls/m12/data/2026/cm28212-6/RAW' });
    assert.notEqual(a.dataCollectionId, b.dataCollectionId);
    assert.equal(b.dataCollectionCreated, true);
  } finally {
    await records.close();
    await db.dispose();
  }
});

test('text ISPyB cannot hold is refused before anything is written', async () => {
  const db = await freshIspyb();
  const records = await openIspybRecords(db.url);
  try {
    await assert.rejects(records.start({ ...START, imageDirectory: `/dls/${'d'.repeat(300)}` }), /image directory is 306 characters long; ISPyB keeps at most 255/);
    await assert.rejects(records.start({ ...START, imageDirectory: '/dls/m12/data/2026/cm28212-6/Probe_北京' }), /latin1/);
    await assert.rejects(records.start({ ...START, parameters: [{ key: 'import_images', value: 'x'.repeat(1025) }] }), /parameter import_images is 1025 characters long/);
    const [{ n }] = await db.query<RowDataPacket[]>('SELECT (SELECT COUNT(*) FROM DataCollection) + (SELECT COUNT(*) FROM ProcessingJob) AS n');
    assert.equal(Number(n), 0);
  } finally {
    await records.close();
    await db.dispose();
  }
});

test('a start that fails half-way leaves nothing recorded', async () => {
  const db = await freshIspyb();
  const records = await openIspybRecords(db.url);
  try {
    // The database refuses the parameter rows, as a failing disk or a lost connection would.
    await db.query("CREATE TRIGGER refuse_params BEFORE INSERT ON ProcessingJobParameter FOR EACH ROW SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'disk full'");
    await assert.rejects(records.start(START), (e: unknown) => {
      assert.ok(isFerryError(e));
      assert.match(e.message, /refused.*disk full/);
      return true;
    });
    const [counts] = await db.query<RowDataPacket[]>(
      'SELECT (SELECT COUNT(*) FROM DataCollectionGroup) AS g, (SELECT COUNT(*) FROM DataCollection) AS d, (SELECT COUNT(*) FROM ProcessingJob) AS j',
    );
    assert.deepEqual([Number(counts.g), Number(counts.d), Number(counts.j)], [0, 0, 0]);
  } finally {
    await records.close();
    await db.dispose();
  }
});

test('an unreachable database is a clear error, and nothing is recorded', async () => {
  const closed = await closedPort();
  await assert.rejects(openIspybRecords(`mysql://ferry:pw@127.0.0.1:${closed}/ispyb`), (e: unknown) => {
    assert.ok(isFerryError(e));
    assert.equal(e.code, 'IspybUnreachable');
    assert.match(e.message, new RegExp(`ISPyB database at mysql://ferry@127.0.0.1:${closed}/ispyb is unreachable \\(ECONNREFUSED`));
    assert.doesNotMatch(e.message + e.hint, /:pw@/);
    return true;
  });
  // A server that accepts the connection and then says nothing: the connect timeout ends the wait.
  const silent = await silentServer();
  try {
    await assert.rejects(openIspybRecords(`mysql://ferry:pw@127.0.0.1:${silent.port}/ispyb`, { connectTimeoutMs: 500 }), (e: unknown) => {
      assert.ok(isFerryError(e));
      assert.equal(e.code, 'IspybUnreachable');
      assert.match(e.message, /ETIMEDOUT/);
      return true;
    });
  } finally {
    silent.close();
  }
});

test('a wrong password, a missing database and a database without ISPyB tables are told apart', async () => {
  const base = new URL(ispybUrl());
  const wrong = new URL(base);
  wrong.password = 'not-the-password';
  await assert.rejects(openIspybRecords(wrong.toString()), (e: unknown) => isFerryError(e) && e.code === 'IspybAccessDenied' && /refused Ferry/.test(e.message));
  const missing = new URL(base);
  missing.pathname = '/no_such_database';
  await assert.rejects(openIspybRecords(missing.toString()), (e: unknown) => isFerryError(e) && e.code === 'IspybAccessDenied' && /no_such_database/.test(e.message));
  // The service's own database is empty: no ISPyB tables.
  await assert.rejects(openIspybRecords(base.toString()), (e: unknown) => isFerryError(e) && e.code === 'NotIspyb' && /ProcessingJob/.test(e.message));
  await assert.rejects(openIspybRecords('postgres://x@y/z'), /is not an ISPyB database URL/);
});

