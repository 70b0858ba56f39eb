import assert from 'node:assert/strict';
import { readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Ledger } from '../ledger/ledger.ts';
import { openLedger } from '../ledger/open.ts';
import { exited, freshLedger, runCli, spawnWorker, tempDir } from '../testing/ledger.ts';
import type { TestLedger } from '../testing/ledger.ts';
import '../testing/test-kinds.ts';
import { until } from '../testing/until.ts';
import { registerHandler } from './registry.ts';
import { Worker } from './worker.ts';

describe('worker', () => {
  let t: TestLedger;
  let ledger: Ledger;
  before(async () => {

    t = await freshLedger('sqlite');
    ledger = await openLedger(t.url);
  });
  after(async () => {
    await ledger?.close();
    await t?.dispose();
  });

  test('unknown kinds, bad parameters and throwing handlers become clear job errors; the rest still runs', async () => {
    const run = await ledger.createRun({ name: 'mixed' });
    await ledger.addJobs(run.id, [
      { kind: 'no.such.kind', key: 'unknown' },
      { kind: 'test.validated', key: 'bad', params: { count: 'three' } },
      { kind: 'test.fail', key: 'throws', params: { message: 'disk full' }, maxAttempts: 2 },
      { kind: 'test.validated', key: 'good', params: { count: 4 } },
      ...Array.from({ length: 20 }, (_, i) => ({ kind: 'noop', key: `n${i}` })),
    ]);
    const summary = await new Worker(ledger, { runIds: [run.id], untilEmpty: true, retryBackoffMs: 10 }).run();
    assert.equal(summary.succeeded, 21);
    assert.equal(summary.failed, 3);
    const byKey = new Map((await ledger.listJobs({ runId: run.id })).map((j) => [j.key, j]));
    assert.match(byKey.get('unknown')!.lastError!, /no handler for job kind "no\.such\.kind"/);
    assert.equal(byKey.get('unknown')!.attempts, 1, 'an unknown kind is not retried');
    assert.match(byKey.get('bad')!.lastError!, /invalid parameters for test\.validated: "count" must be a positive integer, got "three"/);
    assert.equal(byKey.get('throws')!.state, 'error');
    assert.equal(byKey.get('throws')!.attempts, 2);
    assert.equal(byKey.get('throws')!.lastError, 'disk full');
    assert.deepEqual(byKey.get('good')!.result, { doubled: 8 });
    const log = (await ledger.events(byKey.get('throws')!.id)).map((e) => `${e.type}:${e.message.replace(/ by .*/, '')}`);
    assert.deepEqual(log, [
      'claimed:attempt 1',
      'log:about to fail on attempt 1',
      'retry:disk full',
      'claimed:attempt 2',
      'log:about to fail on attempt 2',
      'error:disk full',
    ]);
  });

  test('after the last attempt a job stays in error until `ferry jobs retry`', async () => {
    let failing = true;
    registerHandler('test.worker.flaky', {
      async run() {
        if (failing) throw new Error('upstream 503');
        return 'ok';
      },
    });
    const run = await ledger.createRun({ name: 'flaky' });
    await ledger.addJobs(run.id, [{ kind: 'test.worker.flaky', key: 'x', maxAttempts: 3 }]);
    const opts = { runIds: [run.id], untilEmpty: true, retryBackoffMs: 5 };
    assert.equal((await new Worker(ledger, opts).run()).failed, 1);
    const [job] = await ledger.listJobs({ runId: run.id });
    assert.equal(job.state, 'error');
    assert.equal(job.attempts, 3);
    assert.equal((await new Worker(ledger, opts).run()).succeeded, 0, 'an error job is not picked up again');
    failing = false;
    const retried = await runCli(['jobs', 'retry', String(job.id), '--ledger', t.url]);
    assert.equal(retried.code, 0, retried.stderr);
    assert.match(retried.stdout, /retrying 1 job/);
    assert.equal((await new Worker(ledger, opts).run()).succeeded, 1);
    assert.equal((await ledger.getJob(job.id)).state, 'success');
  });

  test('progress and log lines reach the ledger; cancelling a running job aborts its handler', async () => {
    let sawAbort = false;
    registerHandler('test.worker.long', {
      async run(ctx) {
        ctx.progress({ done: 1, total: 10, unit: 'chunks' });
        await ctx.log('started the long one');
        try {
          // Runs until it is cancelled, however long the test takes to get there.
          await new Promise((_, reject) => ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason), { once: true }));
        } catch (e) {
          sawAbort = ctx.signal.aborted;
          throw e;
        }
      },
    });
    const run = await ledger.createRun({ name: 'long' });
    await ledger.addJobs(run.id, [{ kind: 'test.worker.long', key: 'l' }]);
    const worker = new Worker(ledger, { runIds: [run.id], leaseMs: 600, untilEmpty: true });
    const done = worker.run();
    const [{ id }] = await ledger.listJobs({ runId: run.id });
    // The first progress write waits a full period (PROGRESS_EVERY_MS) after the job starts.
    const job = await until('the progress the handler reported to reach the ledger', async () => {
      const j = await ledger.getJob(id);
      return j.progress && j;
    });
    assert.deepEqual(job.progress, { done: 1, total: 10, unit: 'chunks', bytesDone: undefined, bytesTotal: undefined });
    assert.deepEqual(worker.runningProgress, [{ done: 1, total: 10, unit: 'chunks' }], 'the worker shows it too, for its own progress line');
    await ledger.cancel({ ids: [job.id] });
    await done;
    assert.ok(sawAbort, 'the handler saw its signal fire');
    assert.equal((await ledger.getJob(job.id)).state, 'cancelled');
    assert.ok((await ledger.events(job.id)).some((e) => e.type === 'log' && e.message === 'started the long one'));
  });

  test('finished jobs are recorded while the rest of their batch waits behind long jobs', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    registerHandler('test.worker.gated', {
      async run() {
        await gate;
      },
    });
    const run = await ledger.createRun({ name: 'batch' });
    // Claimed in this order as one batch; with two slots the long ones hold both while s3 waits.
    await ledger.addJobs(run.id, [
      { kind: 'test.sleep', key: 's1', params: { ms: 10 } },
      { kind: 'test.sleep', key: 's2', params: { ms: 10 } },
      { kind: 'test.worker.gated', key: 'long1' },
      { kind: 'test.worker.gated', key: 'long2' },
      { kind: 'test.sleep', key: 's3', params: { ms: 10 } },
    ]);
    const worker = new Worker(ledger, { runIds: [run.id], batch: 5, concurrency: 2, leaseMs: 30_000, untilEmpty: true });
    const done = worker.run();
    const states = async () => new Map((await ledger.listJobs({ runId: run.id })).map((j) => [j.key, j.state]));
    // The long jobs end only when the gate opens: until then, s1 and s2 must be recorded by themselves.
    const seen = await until('s1 and s2 to be recorded as successes', async () => {
      const s = await states();
      return s.get('s1') === 'success' && s.get('s2') === 'success' && s;
    });
    assert.deepEqual(Object.fromEntries(seen), { s1: 'success', s2: 'success', long1: 'ongoing', long2: 'ongoing', s3: 'ongoing' }, 'recorded while the long jobs run');
    release();
    await done;
    assert.equal((await ledger.status({ runIds: [run.id] }))[0].counts.success, 5);
  });

  test('SIGTERM: a job that finishes within the grace period succeeds; one that does not is released', async () => {
    const dir = await tempDir();
    const trace = path.join(dir, 'term.trace');
    const gate = path.join(dir, 'short.gate');
    const run = await ledger.createRun({ name: 'term' });
    await ledger.addJobs(run.id, [
      { kind: 'test.sleep', key: 'short', params: { ms: 0, trace, gate } },
      { kind: 'test.sleep', key: 'long', params: { ms: 600_000, trace } },
    ]);
    const w = spawnWorker(['--ledger', t.url, '--run', 'term', '--concurrency', '2', '--grace', '15']);
    await until('both jobs to be running', async () => (await readFile(trace, 'utf8').catch(() => '')).split('\n').filter(Boolean).length === 2);
    w.kill('SIGTERM');
    await until('the worker to take the SIGTERM', () => /SIGTERM: no new jobs/.test(w.output()));
    // The short job ends now, inside the grace; the long one would run for minutes.
    await writeFile(gate, '');
    const code = await exited(w);
    assert.equal(code, 0, w.output());
    const byKey = new Map((await ledger.listJobs({ runId: run.id })).map((j) => [j.key, j]));
    assert.equal(byKey.get('short')!.state, 'success');
    const long = byKey.get('long')!;
    assert.equal(long.state, 'todo');
    assert.equal(long.leaseOwner, null);
    assert.ok((await ledger.events(long.id)).some((e) => e.type === 'released'));
    await rm(dir, { recursive: true, force: true });
  });
});
