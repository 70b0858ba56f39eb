import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Ledger } from '../ledger/ledger.ts';
import { openLedger } from '../ledger/open.ts';
import { exited, freshLedger, runCli, spawnWorker } from '../ledger/test-support.ts';
import type { TestLedger } from '../ledger/test-support.ts';
import '../testing/test-kinds.ts';
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
          await sleep(20_000, undefined, { signal: ctx.signal });
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
    let job = (await ledger.listJobs({ runId: run.id }))[0];
    for (let i = 0; i < 100 && !job.progress; i++) {
      await sleep(50);
      job = await ledger.getJob(job.id);
    }
    assert.deepEqual(job.progress, { done: 1, total: 10, unit: 'chunks', bytesDone: undefined, bytesTotal: undefined });
    assert.deepEqual(worker.runningProgress, [{ done: 1, total: 10, unit: 'chunks' }], 'the worker shows it too, for its own progress line');
    await ledger.cancel({ ids: [job.id] });
    await done;
    assert.ok(sawAbort, 'the handler saw its signal fire');
    assert.equal((await ledger.getJob(job.id)).state, 'cancelled');
    assert.ok((await ledger.events(job.id)).some((e) => e.type === 'log' && e.message === 'started the long one'));
  });

  test('finished jobs are recorded while the rest of their batch waits behind long jobs', async () => {
    const run = await ledger.createRun({ name: 'batch' });
    // Claimed in this order as one batch; with two slots the long ones hold both while s3 waits.
    await ledger.addJobs(run.id, [
      { kind: 'test.sleep', key: 's1', params: { ms: 10 } },
      { kind: 'test.sleep', key: 's2', params: { ms: 10 } },
      { kind: 'test.sleep', key: 'long1', params: { ms: 4_000 } },
      { kind: 'test.sleep', key: 'long2', params: { ms: 4_000 } },
      { kind: 'test.sleep', key: 's3', params: { ms: 10 } },
    ]);
    const worker = new Worker(ledger, { runIds: [run.id], batch: 5, concurrency: 2, leaseMs: 30_000, untilEmpty: true });
    const done = worker.run();
    let success: string[] = [];
    for (let i = 0; i < 60 && success.length < 2; i++) {
      await sleep(50);
      success = (await ledger.listJobs({ runId: run.id, states: ['success'] })).map((j) => j.key);
    }
    assert.deepEqual(success, ['s1', 's2'], 'recorded before the long jobs end');
    await done;
    assert.equal((await ledger.status({ runIds: [run.id] }))[0].counts.success, 5);
  });

  test('SIGTERM: a job that finishes within the grace period succeeds; one that does not is released', async () => {
    const run = await ledger.createRun({ name: 'term' });
    await ledger.addJobs(run.id, [
      { kind: 'test.sleep', key: 'short', params: { ms: 600 } },
      { kind: 'test.sleep', key: 'long', params: { ms: 30_000 } },
    ]);
    const w = spawnWorker(['--ledger', t.url, '--run', 'term', '--concurrency', '2', '--grace', '1.5']);
    const ongoing = async () => (await ledger.listJobs({ runId: run.id, states: ['ongoing'] })).length;
    for (let i = 0; i < 200 && (await ongoing()) < 2; i++) await sleep(50);
    w.kill('SIGTERM');
    const code = await exited(w);
    assert.equal(code, 0, w.output());
    const byKey = new Map((await ledger.listJobs({ runId: run.id })).map((j) => [j.key, j]));
    assert.equal(byKey.get('short')!.state, 'success');
    const long = byKey.get('long')!;
    assert.equal(long.state, 'todo');
    assert.equal(long.leaseOwner, null);
    assert.ok((await ledger.events(long.id)).some((e) => e.type === 'released'));
  });
});
