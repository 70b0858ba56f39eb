import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import Database from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import pg from 'pg';
import type { Ledger } from './ledger.ts';
import { migrator } from './migrations.ts';
import { openLedger } from './open.ts';
import type { LedgerSchema } from './schema.ts';
import { until } from '../testing/until.ts';
import { freshLedger, runCli, tempDir } from '../testing/ledger.ts';
import type { TestLedger } from '../testing/ledger.ts';

/** The advisory lock Kysely's migrator holds on PostgreSQL (kysely/dist/dialect/postgres/postgres-adapter.js). */
const MIGRATION_LOCK = '3853314791062309107';

/** Leases and back-offs of minutes hold however slow the machine; a lease renewed for 1 ms expires at once. */
const HOLD = 10 * 60_000;

for (const engine of ['sqlite', 'postgres'] as const) {
  describe(`ledger on ${engine}`, () => {
    let t: TestLedger;
    let ledger: Ledger;
    before(async () => {
      t = await freshLedger(engine);
      ledger = await openLedger(t.url);
    });
    after(async () => {
      await ledger?.close();
      await t?.dispose();
    });

    test('runs are idempotent by name and planning the same keys twice adds nothing', async () => {
      const a = await ledger.createRun({ name: 'plates', labels: { source: 'source_8' } });
      const b = await ledger.createRun({ name: 'plates' });
      assert.equal(a.id, b.id);
      assert.deepEqual(b.labels, { source: 'source_8' });
      const jobs = (n: number) => Array.from({ length: n }, (_, i) => ({ kind: 'noop', key: `plate-${i}`, params: { i } }));
      assert.equal(await ledger.addJobs(a.id, jobs(50)), 50);
      assert.equal(await ledger.addJobs(a.id, jobs(60)), 10);
      const other = await ledger.createRun({ name: 'other' });
      assert.equal(await ledger.addJobs(other.id, jobs(5)), 5, 'keys are unique per run, not globally');
      const [st] = await ledger.status({ runIds: [a.id] });
      assert.equal(st.counts.total, 60);
      assert.equal(st.counts.todo, 60);
    });

    test('a claimed job is not claimed again while its lease holds; an expired lease is taken over', async () => {
      const run = await ledger.createRun({ name: 'lease' });
      await ledger.addJobs(run.id, [{ kind: 'noop', key: 'only', maxAttempts: 2 }]);
      const claim = (owner: string) => ledger.cycle({ owner, leaseMs: HOLD, limit: 5, runIds: [run.id], finished: [] });
      const [first] = await claim('w1');
      assert.equal(first.attempt, 1);
      assert.deepEqual(await claim('w2'), []);
      assert.deepEqual(await ledger.renewLeases('w1', [first.id], 1), [first.id]);
      const again = await until('the expired lease to be taken over', async () => (await claim('w2'))[0]);
      assert.equal(again.id, first.id);
      assert.equal(again.attempt, 2);
      // The first worker comes back late: its outcome no longer counts.
      await ledger.cycle({ owner: 'w1', leaseMs: HOLD, limit: 0, finished: [{ id: first.id, state: 'success' }] });
      assert.equal((await ledger.getJob(first.id)).state, 'ongoing');
      // Second lease expires too, on the last attempt: the job ends in error by itself.
      await ledger.renewLeases('w2', [first.id], 1);
      const job = await until('the job to end on its expired last lease', async () => {
        await claim('w3');
        const j = await ledger.getJob(first.id);
        return j.state !== 'ongoing' && j;
      });
      assert.equal(job.state, 'error');
      assert.match(job.lastError ?? '', /lease expired/);
      const types = (await ledger.events(first.id)).map((e) => e.type);
      assert.deepEqual(types, ['claimed', 'claimed', 'error']);
      // ... and stays there until someone retries it.
      assert.deepEqual(await ledger.retry({ ids: [first.id] }), [first.id]);
      const [fresh] = await claim('w3');
      assert.equal(fresh.attempt, 1);
    });

    test('a job state carried over from an old tool, once and never over Ferry’s own work', async () => {
      const run = await ledger.createRun({ name: 'imported' });
      await ledger.addJobs(run.id, [{ kind: 'noop', key: 'old-success' }, { kind: 'noop', key: 'touched' }]);
      const [a, b] = await ledger.listJobs({ runId: run.id });
      const imp = { state: 'success' as const, events: [{ at: 1_000, type: 'imported-log', message: 'uploaded 2023' }] };
      assert.equal(await ledger.importJobState(a.id, imp), true);
      assert.equal(await ledger.importJobState(a.id, imp), false, 'a second import changes nothing');
      assert.equal((await ledger.getJob(a.id)).state, 'success');
      assert.deepEqual((await ledger.events(a.id)).map((e) => [e.at, e.message]), [[1_000, 'uploaded 2023']]);
      await ledger.cycle({ owner: 'w', leaseMs: HOLD, limit: 1, runIds: [run.id], finished: [] });
      assert.equal(await ledger.importJobState(b.id, { state: 'error', lastError: 'old', events: [] }), false, 'claimed by Ferry: left alone');
      assert.equal((await ledger.getJob(b.id)).state, 'ongoing');
    });

    test('outcomes, renewals, release and cancel', async () => {
      const run = await ledger.createRun({ name: 'flow' });
      await ledger.addJobs(run.id, [1, 2, 3, 4].map((i) => ({ kind: 'noop', key: `k${i}` })));
      const got = await ledger.cycle({ owner: 'w', leaseMs: HOLD, limit: 4, runIds: [run.id], finished: [] });
      assert.equal(got.length, 4);
      const [a, b, c, d] = got.map((j) => j.id);
      assert.deepEqual((await ledger.renewLeases('w', [a, b], HOLD)).sort(), [a, b].sort());
      assert.deepEqual(await ledger.renewLeases('someone-else', [a], HOLD), []);
      await ledger.cycle({
        owner: 'w',
        leaseMs: HOLD,
        limit: 0,
        finished: [
          { id: a, state: 'success', result: { files: 3 }, progress: { done: 3, total: 3, unit: 'files', bytesDone: 30, bytesTotal: 30 } },
          { id: b, state: 'todo', error: 'timeout', notBefore: Date.now() + HOLD },
        ],
      });
      assert.deepEqual((await ledger.getJob(a)).result, { files: 3 });
      const jb = await ledger.getJob(b);
      assert.equal(jb.state, 'todo');
      assert.equal(jb.lastError, 'timeout');
      assert.deepEqual(await ledger.cycle({ owner: 'w', leaseMs: HOLD, limit: 4, runIds: [run.id], finished: [] }), [], 'back-off respected');
      await ledger.release('w', [{ id: c, started: false }], 'stopping');
      const jc = await ledger.getJob(c);
      assert.equal(jc.state, 'todo');
      assert.equal(jc.attempts, 0, 'a job that never started gets its attempt back');
      assert.deepEqual(await ledger.cancel({ ids: [d] }), [d]);
      assert.deepEqual(await ledger.renewLeases('w', [d], HOLD), [], 'a cancelled job loses its lease');
      const [st] = await ledger.status({ runIds: [run.id] });
      assert.deepEqual(st.counts, { total: 4, todo: 2, ongoing: 0, success: 1, error: 0, cancelled: 1 });
      assert.deepEqual(st.progress, [{ unit: 'files', done: 3, total: 3 }]);
      assert.deepEqual(st.bytes, { done: 30, total: 30 });
    });

    test('a run’s jobs read a page at a time: by state, by a piece of the key, after the last page', async () => {
      const run = await ledger.createRun({ name: 'paged' });
      const other = await ledger.createRun({ name: 'paged-other' });
      const keys = Array.from({ length: 25 }, (_, i) => (i === 7 ? 'plate_%7' : `Plate-${String(i).padStart(2, '0')}`));
      await ledger.addJobs(run.id, keys.map((key) => ({ kind: 'noop', key, params: { big: 'x'.repeat(1000) } })));
      await ledger.addJobs(other.id, [{ kind: 'noop', key: 'Plate-00' }]);
      const all = await ledger.listJobs({ runId: run.id });
      await ledger.cancel({ ids: [all[3].id, all[10].id, all[20].id] });

      const seen: string[] = [];
      let after: number | undefined;
      for (let pages = 0; ; pages++) {
        const page = await ledger.pageJobs({ runId: run.id, after, limit: 10 });
        seen.push(...page.jobs.map((j) => j.key));
        assert.ok(page.jobs.every((j) => !('params' in j)), 'a page carries no parameters');
        if (page.next === null) {
          assert.equal(pages, 2);
          break;
        }
        after = page.next;
      }
      assert.deepEqual(seen, keys, 'every job once, in id order, none of the other run');

      const cancelled = await ledger.pageJobs({ runId: run.id, states: ['cancelled', 'error'], limit: 2 });
      assert.deepEqual(cancelled.jobs.map((j) => j.key), [keys[3], keys[10]]);
      const rest = await ledger.pageJobs({ runId: run.id, states: ['cancelled', 'error'], after: cancelled.next!, limit: 2 });
      assert.deepEqual(rest, { jobs: [{ ...rest.jobs[0], key: keys[20], state: 'cancelled' }], next: null });

      assert.deepEqual((await ledger.pageJobs({ runId: run.id, keyContains: 'plate-1', limit: 50 })).jobs.map((j) => j.key), keys.slice(10, 20), 'any case');
      assert.deepEqual((await ledger.pageJobs({ runId: run.id, keyContains: '_%', limit: 50 })).jobs.map((j) => j.key), ['plate_%7'], '% and _ are plain characters');
      assert.deepEqual((await ledger.pageJobs({ runId: run.id, keyContains: 'te-2', states: ['cancelled'], limit: 50 })).jobs.map((j) => j.key), [keys[20]]);
    });

    test('the change mark moves with every run, job event and record', async () => {
      const before = await ledger.changeMark();
      const run = await ledger.createRun({ name: 'marked' });
      const afterRun = await ledger.changeMark();
      assert.ok(afterRun.runs > before.runs);
      await ledger.addJobs(run.id, [{ kind: 'noop', key: 'one' }]);
      const [job] = await ledger.listJobs({ runId: run.id });
      await ledger.cancel({ ids: [job.id] });
      const afterCancel = await ledger.changeMark();
      assert.ok(afterCancel.events > afterRun.events);
      assert.deepEqual(await ledger.runsWithEventsAfter(afterRun.events), [run.id]);
      assert.deepEqual(await ledger.runsWithEventsAfter(afterCancel.events), []);
      await ledger.records.put({ recipe: 'test', type: 't', key: 'k', body: {} });
      assert.ok((await ledger.changeMark()).records > afterCancel.records);
    });
  });
}

describe('ledger schema checks', () => {
  test('an older ledger is refused with the upgrade command, which then works', async () => {
    const dir = await tempDir();
    try {
      const file = path.join(dir, 'old.sqlite');
      const db = new Kysely<LedgerSchema>({ dialect: new SqliteDialect({ database: new Database(file) }) });
      const { error } = await migrator(db, 'sqlite').migrateTo('0001_runs_jobs');
      assert.ifError(error);
      await db.destroy();
      const refused = await runCli(['status', '--ledger', file]);
      assert.equal(refused.code, 2);
      assert.match(refused.stderr, /older schema \(missing 0002_job_events, 0003_records, 0004_transfer_state, 0005_jobs_run_state_id\)/);
      assert.match(refused.stderr, /ferry ledger migrate --ledger/);
      assert.doesNotMatch(refused.stderr, /at .*\.ts:\d+/, 'no stack trace');
      const migrated = await runCli(['ledger', 'migrate', '--ledger', file]);
      assert.equal(migrated.code, 0, migrated.stderr);
      assert.match(migrated.stdout, /applied 0002_job_events/);
      assert.equal((await runCli(['status', '--ledger', file])).code, 0);
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });

  test('a PostgreSQL ledger another process is creating is waited for, not refused as older', async () => {
    const t = await freshLedger('postgres');
    const holder = new pg.Client({ connectionString: t.url });
    await holder.connect();
    try {
      // Held here, the lock stops the first opener between making its migration table and migrating.
      await holder.query(`select pg_advisory_lock(${MIGRATION_LOCK})`);
      const waiting = async () => Number((await holder.query(`select count(*) as n from pg_locks where locktype = 'advisory' and not granted`)).rows[0].n);
      const first = openLedger(t.url);
      await until('the first opener to wait for the migration lock', async () => (await waiting()) === 1 || undefined);
      let refused: unknown;
      const second = openLedger(t.url);
      second.catch((e: unknown) => (refused = e));
      await until('the second opener to wait for it too', async () => {
        if (refused) throw refused;
        return (await waiting()) === 2 || undefined;
      });
      await holder.query(`select pg_advisory_unlock(${MIGRATION_LOCK})`);
      for (const ledger of await Promise.all([first, second])) {
        assert.deepEqual(await ledger.listRuns(), []);
        await ledger.close();
      }
    } finally {
      await holder.end();
      await t.dispose();
    }
  });

  test('a database of something else, or not a database at all, is named as such', async () => {
    const dir = await tempDir();
    try {
      const foreign = path.join(dir, 'foreign.sqlite');
      const raw = new Database(foreign);
      raw.exec('CREATE TABLE jobs (name TEXT)');
      raw.close();
      const r1 = await runCli(['jobs', 'list', '--ledger', foreign]);
      assert.equal(r1.code, 2);
      assert.match(r1.stderr, /is not a Ferry ledger: it has tables named jobs/);
      const junk = path.join(dir, 'junk.sqlite');
      await fs.writeFile(junk, 'this is a text file, not SQLite '.repeat(100));
      const r2 = await runCli(['status', '--ledger', junk]);
      assert.equal(r2.code, 2);
      assert.match(r2.stderr, /not a Ferry ledger \(not a SQLite database\)/);
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });

  test('reading a ledger that does not exist says so and creates nothing', async () => {
    const dir = await tempDir();
    try {
      const r = await runCli(['status'], { cwd: dir, env: { FERRY_LEDGER: '' } });
      assert.equal(r.code, 2);
      assert.match(r.stderr, /there is no ledger at .*\.ferry\/ledger\.sqlite/);
      assert.deepEqual(await fs.readdir(dir), []);
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });

  test('an unreachable PostgreSQL ledger is one clear line, exit 2', async () => {
    const r = await runCli(['status', '--ledger', 'postgres://ferry:secret@127.0.0.1:1/ferry']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /^ferry: cannot reach the ledger at postgres:\/\/ferry:\*\*\*@127\.0\.0\.1:1\/ferry \(ECONNREFUSED\)/);
    assert.doesNotMatch(r.stderr, /secret/);
    assert.equal(r.stderr.trim().split('\n').length, 2, 'message and hint only');
  });
});
