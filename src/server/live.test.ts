// The live watch on both engines, with the changes made through another connection to the ledger,
// as a worker in another process or on another machine makes them: it sends the runs that moved,
// and only those; progress (which writes no event) within its progress interval; a new run at once.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Ledger } from '../ledger/ledger.ts';
import { openLedger } from '../ledger/open.ts';
import { freshLedger } from '../testing/ledger.ts';
import type { TestLedger } from '../testing/ledger.ts';
import { LedgerWatch } from './live.ts';
import type { LiveUpdate } from './live.ts';
import { until } from '../testing/web.ts';

for (const engine of ['sqlite', 'postgres'] as const) {
  describe(`live watch on ${engine}`, () => {
    let t: TestLedger;
    let mine: Ledger;
    let worker: Ledger;
    before(async () => {
      t = await freshLedger(engine);
      mine = await openLedger(t.url);
      worker = await openLedger(t.url);
    });
    after(async () => {
      await mine?.close();
      await worker?.close();
      await t?.dispose();
    });

    test('sends the runs another connection changed, and only those', async () => {
      const busy = await worker.createRun({ name: 'busy' });
      const quiet = await worker.createRun({ name: 'quiet' });
      await worker.addJobs(busy.id, [{ kind: 'noop', key: 'a' }, { kind: 'noop', key: 'b' }]);
      await worker.addJobs(quiet.id, [{ kind: 'noop', key: 'a' }]);
      const watch = new LedgerWatch(mine, { tickMs: 50, progressMs: 300, fullMs: 3_600_000 });
      const updates: LiveUpdate[] = [];
      watch.subscribe((u) => updates.push(u));
      try {
        const first = await watch.snapshot();
        assert.deepEqual(first.runs.map((s) => [s.run.name, s.counts.todo]), [['busy', 2], ['quiet', 1]]);

        const [job] = await worker.cycle({ owner: 'w', leaseMs: 60_000, limit: 1, runIds: [busy.id], finished: [] });
        const moved = await until('the claim to be sent', async () => updates.find((u) => u.runs.some((s) => s.counts.ongoing === 1)));
        assert.equal(moved.full, false);
        assert.deepEqual(moved.runs.map((s) => s.run.name), ['busy'], 'the quiet run is not read again');

        await worker.reportProgress('w', job.id, { done: 3, total: 10, unit: 'files', bytesDone: 300, bytesTotal: 1000 });
        const progress = await until('the progress to be sent', async () => updates.find((u) => u.runs.some((s) => s.bytes.done === 300)));
        assert.deepEqual(progress.runs[0].progress, [{ unit: 'files', done: 3, total: 10 }]);

        await worker.cycle({ owner: 'w', leaseMs: 60_000, limit: 0, finished: [{ id: job.id, state: 'success' }] });
        await until('the success to be sent', async () => updates.find((u) => u.runs.some((s) => s.run.id === busy.id && s.counts.success === 1)));

        const added = await worker.createRun({ name: 'new' });
        const full = await until('the new run to be sent', async () => updates.find((u) => u.runs.some((s) => s.run.id === added.id)));
        assert.equal(full.full, true, 'a new run: every run is read again');
        assert.equal((await watch.run(added.id))?.run.name, 'new');
      } finally {
        watch.close();
      }
    });
  });
}
