// Zocalo's two roles over the real RabbitMQ (scripts/services/rabbitmq.sh) with ISPyB in MariaDB:
// `ferry relion start|stop --zocalo` publish exactly what SynchWeb sends and leave the processing to
// the consumer; `ferry relion listen` is that consumer: it runs the job a start message names, with
// its parameters read from ISPyB, and stops the job a stop message names.
import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import { test } from 'node:test';
import type { RowDataPacket } from 'mysql2/promise';
import { freshIspyb } from '../../testing/ispyb.ts';
import { readStatus } from '../../processing/relion/runner.ts';
import { publishZocalo } from '../../processing/zocalo/publish.ts';
import { openBroker, zocaloUrl } from '../../testing/zocalo.ts';
import { assertDriftRecovered, LONG, recordsOf, sitesOfThisFile, SMALL, TEMPLATE, until, waitForJob } from '../../testing/relion-site.ts';

const site = sitesOfThisFile();

test("start and stop with --zocalo record the job and publish SynchWeb's exact messages; no processing is done here", async () => {
  const s = await site();
  const db = await freshIspyb();
  const broker = await openBroker();
  try {
    const queue = await broker.queue();
    const visit = await s.visit('cm28212-6', 1, SMALL);
    const zocalo = ['--zocalo', zocaloUrl(), '--queue', queue, '--ispyb', db.url];
    const r = await s.ferry(['--json', 'relion', 'start', '--visit', 'cm28212-6', '--image-directory', visit.imageDirectory, '--file-template', TEMPLATE, '--params', await s.params(), ...zocalo]);
    assert.equal(r.code, 0, r.stderr);
    const started = r.json.find((e) => e.type === 'started')!;
    const get = async () => (await broker.channel.get(queue, { noAck: true })) || undefined;
    const start = await until('the start message', get);
    assert.equal(start.content.toString('latin1'), `{"parameters":{"ispyb_process":${started.processingJobId}}}`);
    assert.deepEqual([start.fields.exchange, start.fields.routingKey], ['', queue]);
    // SynchWeb's part only: the job is submitted, no program run, no project.
    const [job] = await db.query<RowDataPacket[]>('SELECT processingJobId, recipe FROM ProcessingJob');
    assert.deepEqual([job.processingJobId, job.recipe], [started.processingJobId, 'relion']);
    assert.equal((await db.query<RowDataPacket[]>('SELECT * FROM AutoProcProgram')).length, 0);
    assert.deepEqual(await readdir(visit.visitDir), ['raw']);
    assert.equal(started.zocalo, zocaloUrl().replace(/:[^:@/]*@/, '@'));

    const stop = await s.ferry(['relion', 'stop', String(started.processingJobId), ...zocalo]);
    assert.equal(stop.code, 0, stop.stderr);
    assert.match(stop.stdout, new RegExp(`Sent Zocalo's stop message for processing job ${started.processingJobId} to amqp://ferry@[^ ]+: its consumer stops it`));
    const message = await until('the stop message', get);
    assert.equal(message.content.toString('latin1'), `{"recipes":["relion-stop"],"parameters":{"ispyb_process":${started.processingJobId}}}`);
    assert.equal((await db.query<RowDataPacket[]>('SELECT * FROM AutoProcProgram')).length, 0, "SynchWeb's Stop writes no rows");

    // A queue nobody reads: refused before anything is recorded.
    const nobody = await s.ferry(['relion', 'start', '--visit', 'cm28212-6', '--image-directory', visit.imageDirectory, '--file-template', 'GridSquare_1/Data/*.mrc', '--params', await s.params(), '--zocalo', zocaloUrl(), '--queue', `${queue}-nobody`, '--ispyb', db.url]);
    assert.equal(nobody.code, 2);
    assert.match(nobody.stderr, new RegExp(`has no queue ${queue}-nobody in vhost zocalo: a request sent now would not be delivered`));
    assert.equal((await db.query<RowDataPacket[]>('SELECT * FROM ProcessingJob')).length, 1);
  } finally {
    await broker.close();
    await db.dispose();
  }
});

test('ferry relion listen runs the job a start message names and stops the one a stop message names', async () => {
  const s = await site();
  const db = await freshIspyb();
  const broker = await openBroker();
  const queue = await broker.queue();
  const listener = s.startFerry(['relion', 'listen', '--zocalo', zocaloUrl(), '--ispyb', db.url, '--queue', queue]);
  let said = '';
  listener.stdout!.on('data', (d) => (said += d));
  listener.stderr!.on('data', (d) => (said += d));
  const records = await recordsOf({ ispyb: db.url });
  try {
    await until('the listener to listen', async () => said.includes(`Listening to ${queue}`));
    const start = async (folder: string, movies: number, spec = SMALL, linked = false) => {
      const visit = await s.visit('cm28212-6', movies, spec, { folder, linked });
      const r = await s.ferry(['--json', 'relion', 'start', '--visit', 'cm28212-6', '--image-directory', visit.imageDirectory, '--file-template', TEMPLATE, '--params', await s.params(), '--zocalo', zocaloUrl(), '--queue', queue, '--ispyb', db.url]);
      assert.equal(r.code, 0, r.stderr);
      return r.json.find((e) => e.type === 'started')!;
    };

    const small = await start('raw', 2);
    const done = await waitForJob(records, small.processingJobId, 'ended', (j) => j.status === 'success' || j.status === 'failure');
    assert.deepEqual([done.status, done.program?.programs, done.program?.message], ['success', 'relion', 'done: 2/2 micrographs motion-corrected']);
    await assertDriftRecovered(small.projectDir, 2);

    // A request for a job ISPyB does not know is dropped with a line saying why; the listener goes on.
    await publishZocalo(zocaloUrl(), { kind: 'start', processingJobId: 999_999 }, { routingKey: queue });
    await until('the unknown job to be dropped', async () => /dropped the start request for processing job 999999: there is no processing job 999999 in mysql:/.test(said));

    const long = await start('long', 150, LONG, true);
    await waitForJob(records, long.processingJobId, 'running', (j) => j.status === 'running');
    await until('RELION to correct a micrograph', async () => (await readStatus(long.projectDir)).progress.done >= 1);
    const stop = await s.ferry(['relion', 'stop', String(long.processingJobId), '--zocalo', zocaloUrl(), '--queue', queue, '--ispyb', db.url]);
    assert.equal(stop.code, 0, stop.stderr);
    const stopped = await waitForJob(records, long.processingJobId, 'stopped', (j) => j.status === 'failure');
    assert.equal(stopped.program?.status, 0);
    assert.match(stopped.program?.message ?? '', /^stopped: \d+\/150 micrographs motion-corrected$/);
    assert.equal((await readStatus(long.projectDir)).state, 'stopped');

    listener.kill('SIGINT');
    // 'close': the exit and all it printed.
    const code = await new Promise((r) => listener.once('close', r));
    assert.equal(code, 0, said);
    assert.equal((await broker.channel.checkQueue(queue)).messageCount, 0, `a handled request came back to the queue: ${said}`);
  } finally {
    if (listener.exitCode === null) listener.kill('SIGKILL');
    await records.close();
    await broker.close();
    await db.dispose();
  }
});
