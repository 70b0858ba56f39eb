// Many worker processes against one ledger, on both engines: claims are exactly-once, workers
// killed at random moments lose nothing, a restarted PostgreSQL is waited out.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Ledger } from '../ledger/ledger.ts';
import { openLedger } from '../ledger/open.ts';
import { exited, freshLedger, spawnWorker, tempDir } from '../ledger/test-support.ts';
import type { TestLedger } from '../ledger/test-support.ts';

/** key -> number of handler invocations, from the trace file test.sleep appends to. */
async function invocations(trace: string): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  for (const line of (await fs.readFile(trace, 'utf8')).split('\n')) {
    if (!line) continue;
    const key = line.split(' ')[0];
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return counts;
}

for (const engine of ['sqlite', 'postgres'] as const) {
  describe(`workers on ${engine}`, () => {
    let t: TestLedger;
    let ledger: Ledger;
    let dir: string;
    before(async () => {
      t = await freshLedger(engine);
      ledger = await openLedger(t.url);
      dir = await tempDir();
    });
    after(async () => {
      await ledger?.close();
      await t?.dispose();
      await fs.rm(dir, { recursive: true, force: true });
    });

    test('4 worker processes claim every job exactly once', async () => {
      const trace = path.join(dir, 'once.trace');
      const run = await ledger.createRun({ name: 'once' });
      await ledger.addJobs(run.id, Array.from({ length: 2000 }, (_, i) => ({ kind: 'test.sleep', key: `j${i}`, params: { ms: 0, trace } })));
      const workers = Array.from({ length: 4 }, () => spawnWorker(['--ledger', t.url, '--run', 'once', '--until-empty', '--concurrency', '2']));
      const codes = await Promise.all(workers.map(exited));
      assert.deepEqual(codes, [0, 0, 0, 0], workers.map((w) => w.output()).join('\n'));
      const counts = await invocations(trace);
      assert.equal(counts.size, 2000);
      assert.deepEqual([...new Set(counts.values())], [1], 'no job ran twice');
      const [st] = await ledger.status({ runIds: [run.id] });
      assert.equal(st.counts.success, 2000);
    });

    test('workers SIGKILLed at random moments, again and again: every job succeeds, re-runs only after an expired lease', async () => {
      const trace = path.join(dir, 'chaos.trace');
      const run = await ledger.createRun({ name: 'chaos' });
      const n = 4000;
      await ledger.addJobs(
        run.id,
        Array.from({ length: n }, (_, i) => ({ kind: 'test.sleep', key: `c${i}`, params: { ms: 5 + (i % 7), trace }, maxAttempts: 20 })),
      );
      const args = ['--ledger', t.url, '--run', 'chaos', '--until-empty', '--concurrency', '3', '--lease', '2'];
      const live = new Set(Array.from({ length: 4 }, () => spawnWorker(args)));
      let kills = 0;
      const chaosUntil = Date.now() + 5_000;
      while (Date.now() < chaosUntil) {
        await sleep(150 + Math.random() * 350);
        // Only workers that hold jobs right now: killing one still starting up proves nothing.
        const holders = new Set((await ledger.listJobs({ runId: run.id, states: ['ongoing'], limit: n })).map((j) => j.leaseOwner?.split('/')[1]));
        const victims = [...live].filter((w) => w.exitCode === null && holders.has(String(w.pid)));
        if (victims.length === 0) continue;
        const victim = victims[Math.floor(Math.random() * victims.length)];
        victim.kill('SIGKILL');
        live.delete(victim);
        kills++;
        live.add(spawnWorker(args));
      }
      const codes = await Promise.all([...live].map(exited));
      assert.ok(codes.every((c) => c === 0), [...live].map((w) => w.output()).join('\n'));
      assert.ok(kills >= 3, `only ${kills} kills happened`);

      const jobs = await ledger.listJobs({ runId: run.id, limit: n });
      assert.deepEqual([...new Set(jobs.map((j) => j.state))], ['success']);
      const counts = await invocations(trace);
      assert.equal(counts.size, n, 'every job ran');
      // A handler sees a job again only when the claim before it lost its lease.
      let reruns = 0;
      for (const j of jobs.filter((j) => (counts.get(j.key) ?? 0) > 1)) {
        const claims = (await ledger.events(j.id)).filter((e) => e.type === 'claimed');
        assert.ok(counts.get(j.key)! <= claims.length, `${j.key} ran more often than it was claimed`);
        for (const c of claims.slice(1)) assert.match(c.message, /the previous lease expired/, `${j.key}: ${c.message}`);
        reruns++;
      }
      assert.ok(reruns > 0, 'some killed worker had run jobs it could not record');
      const [st] = await ledger.status({ runIds: [run.id] });
      assert.equal(st.counts.success, n);
      assert.equal(st.counts.ongoing, 0);
      process.stderr.write(`# ${engine}: ${kills} workers killed, ${reruns} jobs re-run after an expired lease\n`);
    });

    if (engine === 'postgres') {
      test('PostgreSQL restarted while workers run: they reconnect and finish', async () => {
        const ctl = process.env.FERRY_TEST_PG_CTL;
        assert.ok(ctl, 'FERRY_TEST_PG_CTL is not set: evaluate `bash scripts/services/pg.sh env`');
        const run = await ledger.createRun({ name: 'restart' });
        await ledger.addJobs(run.id, Array.from({ length: 1500 }, (_, i) => ({ kind: 'test.sleep', key: `r${i}`, params: { ms: 3 } })));
        const workers = Array.from({ length: 3 }, () =>
          spawnWorker(['--ledger', t.url, '--run', 'restart', '--until-empty', '--concurrency', '2', '--lease', '5']),
        );
        // Restart only once every worker is connected and busy.
        const busy = async () => (await ledger.listJobs({ runId: run.id, states: ['ongoing'] })).map((j) => j.leaseOwner);
        for (let i = 0; i < 400 && new Set(await busy()).size < 3; i++) await sleep(25);
        execFileSync('bash', [ctl, 'restart'], { stdio: 'ignore' });
        const codes = await Promise.all(workers.map(exited));
        assert.deepEqual(codes, [0, 0, 0], workers.map((w) => w.output()).join('\n'));
        assert.ok(workers.some((w) => /ledger unavailable/.test(w.output())), 'the workers did notice the restart');
        await ledger.close();
        ledger = await openLedger(t.url);
        const [st] = await ledger.status({ runIds: [run.id] });
        assert.equal(st.counts.success, 1500);
      });
    }
  });
}
