// Many worker processes against one ledger, on both engines: claims are exactly-once, workers
// killed at random moments lose nothing, a PostgreSQL outage is waited out.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Ledger } from '../ledger/ledger.ts';
import { openLedger } from '../ledger/open.ts';
import { exited, freshLedger, spawnWorker, tempDir } from '../testing/ledger.ts';
import type { TestLedger } from '../testing/ledger.ts';
import { freeze, thaw } from '../testing/freeze.ts';
import { SAFETY_NET_MS, until } from '../testing/until.ts';

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
      let n = 0;
      // Work is added while the chaos goes on, so that however fast the workers are, they are
      // still busy at every kill.
      const addJobs = async (count: number) => {
        const jobs = Array.from({ length: count }, (_, k) => ({ kind: 'test.sleep', key: `c${n + k}`, params: { ms: 5 + ((n + k) % 7), trace }, maxAttempts: 20 }));
        await ledger.addJobs(run.id, jobs);
        n += count;
      };
      await addJobs(4000);
      const args = ['--ledger', t.url, '--run', 'chaos', '--until-empty', '--concurrency', '3', '--lease', '2'];
      const live = new Set(Array.from({ length: 4 }, () => spawnWorker(args)));
      const ended: ReturnType<typeof spawnWorker>[] = [];
      const pidOf = (owner: string | null) => owner?.split('/')[1];
      /** Jobs `pid` holds and has started: killed now, it leaves each of them to be run again. */
      const startedBy = async (pid: number) => {
        const started = new Set((await fs.readFile(trace, 'utf8').catch(() => '')).split('\n'));
        const held = await ledger.listJobs({ runId: run.id, states: ['ongoing'], limit: n });
        return held.filter((j) => pidOf(j.leaseOwner) === String(pid) && started.has(`${j.key} ${j.attempts} ${pid}`));
      };
      const KILLS = 4;
      let kills = 0;
      await until(`${KILLS} workers killed in the middle of a job`, async () => {
        await sleep(150 + Math.random() * 350);
        const [st] = await ledger.status({ runIds: [run.id] });
        if (st.counts.todo < 2000) await addJobs(2000);
        for (const w of live) {
          if (w.exitCode === null && w.signalCode === null) continue;
          live.delete(w);
          ended.push(w);
          live.add(spawnWorker(args));
        }
        const holders = new Set((await ledger.listJobs({ runId: run.id, states: ['ongoing'], limit: n })).map((j) => pidOf(j.leaseOwner)));
        const candidates = [...live].filter((w) => w.exitCode === null && holders.has(String(w.pid)));
        if (candidates.length === 0) return false;
        const victim = candidates[Math.floor(Math.random() * candidates.length)];
        // Stopped, it can neither finish nor record a job while the test looks.
        await freeze(victim);
        if ((await startedBy(victim.pid!)).length === 0) {
          thaw(victim);
          return false;
        }
        victim.kill('SIGKILL');
        live.delete(victim);
        live.add(spawnWorker(args));
        return ++kills >= KILLS;
      }, SAFETY_NET_MS, 0);
      const codes = await Promise.all([...live].map(exited));
      assert.ok([...codes, ...ended.map((w) => w.exitCode)].every((c) => c === 0), [...live, ...ended].map((w) => w.output()).join('\n'));

      const jobs = await ledger.listJobs({ runId: run.id, limit: n });
      assert.equal(jobs.length, n);
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
      assert.ok(reruns > 0, 'the killed workers had run jobs they could not record');
      const [st] = await ledger.status({ runIds: [run.id] });
      assert.equal(st.counts.success, n);
      assert.equal(st.counts.ongoing, 0);
      process.stderr.write(`# ${engine}: ${kills} workers killed, ${reruns} jobs re-run after an expired lease, ${n} jobs\n`);
    });

    if (engine === 'postgres') {
      test('PostgreSQL stopped while workers run: they wait for it, and finish once it is back', async () => {
        const ctl = process.env.FERRY_TEST_PG_CTL;
        assert.ok(ctl, 'FERRY_TEST_PG_CTL is not set: evaluate `bash scripts/services/pg.sh env`');
        const gate = path.join(dir, 'outage.gate');
        const run = await ledger.createRun({ name: 'outage' });
        await ledger.addJobs(run.id, Array.from({ length: 1500 }, (_, i) => ({ kind: 'test.sleep', key: `r${i}`, params: { ms: 3, gate } })));
        const workers = Array.from({ length: 3 }, () =>
          spawnWorker(['--ledger', t.url, '--run', 'outage', '--until-empty', '--concurrency', '2', '--lease', '5']),
        );
        // Every worker connected and holding jobs, which end only once the server is down.
        const busy = async () => new Set((await ledger.listJobs({ runId: run.id, states: ['ongoing'] })).map((j) => j.leaseOwner)).size;
        await until('every worker to hold jobs', async () => (await busy()) === 3);
        execFileSync('bash', [ctl, 'stop'], { stdio: 'ignore' });
        try {
          await fs.writeFile(gate, '');
          await until('every worker to find the ledger unavailable', () => workers.every((w) => /ledger unavailable/.test(w.output())));
        } finally {
          execFileSync('bash', [ctl, 'resume'], { stdio: 'ignore' });
        }
        const codes = await Promise.all(workers.map(exited));
        assert.deepEqual(codes, [0, 0, 0], workers.map((w) => w.output()).join('\n'));
        await ledger.close();
        ledger = await openLedger(t.url);
        const [st] = await ledger.status({ runIds: [run.id] });
        assert.equal(st.counts.success, 1500);
      });
    }
  });
}
