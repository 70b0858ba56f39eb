// Job ledger throughput: no-op jobs through the whole path (plan, claim, run, complete) with 4
// worker processes, on SQLite (synchronous=FULL) and PostgreSQL (synchronous_commit on), plus the
// time to plan 1,000,000 jobs. PostgreSQL comes from FERRY_TEST_PG_URL (scripts/services/pg.sh).
//
//   node bench/jobs.ts [--jobs 50000] [--plan 1000000] [--workers 4]
import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { errorMessage } from '../src/errors.ts';
import { openLedger } from '../src/ledger/open.ts';
import { FERRY_BIN, freshLedger } from '../src/testing/ledger.ts';
import type { TestLedger } from '../src/testing/ledger.ts';

const { values } = parseArgs({
  options: { jobs: { type: 'string', default: '50000' }, plan: { type: 'string', default: '1000000' }, workers: { type: 'string', default: '4' } },
});
const JOBS = Number(values.jobs);
const PLAN = Number(values.plan);
const WORKERS = Number(values.workers);
const TARGET = { sqlite: 5_000, postgres: 2_000 } as const;

interface Row {
  engine: string;
  jobs: number;
  planS: number;
  workWallS: number;
  throughput: number;
  endToEnd: number;
  plan1M: number;
}

async function bench(engine: 'sqlite' | 'postgres'): Promise<Row> {
  const t: TestLedger = await freshLedger(engine);
  try {
    const ledger = await openLedger(t.url);
    const run = await ledger.createRun({ name: 'bench' });
    let t0 = performance.now();
    await ledger.addJobs(run.id, (function* () {
      for (let i = 0; i < JOBS; i++) yield { kind: 'noop', key: `job-${i}` };
    })());
    const planS = (performance.now() - t0) / 1000;

    t0 = performance.now();
    const logs = await fs.mkdtemp(path.join(os.tmpdir(), 'ferry-bench-'));
    await Promise.all(
      Array.from({ length: WORKERS }, async (_, i) => {
        const log = await fs.open(path.join(logs, `w${i}.log`), 'w');
        const child = spawn(process.execPath, [FERRY_BIN, 'work', '--ledger', t.url, '--run', 'bench', '--until-empty'], { stdio: ['ignore', log.fd, log.fd] });
        const code = await new Promise<number | null>((r) => child.on('exit', r));
        await log.close();
        if (code !== 0) throw new Error(`worker ${i} exited ${code}: ${await fs.readFile(path.join(logs, `w${i}.log`), 'utf8')}`);
      }),
    );
    const workWallS = (performance.now() - t0) / 1000;
    await fs.rm(logs, { recursive: true, force: true });
    // Steady-state rate: first claim to last completion, as the ledger recorded them (no process start-up).
    const span = await ledger.db
      .selectFrom('jobs')
      .select((eb) => [eb.fn.min('started_at').as('first'), eb.fn.max('finished_at').as('last'), eb.fn.countAll<number>().as('n')])
      .where('state', '=', 'success')
      .executeTakeFirstOrThrow();
    if (Number(span.n) !== JOBS) throw new Error(`only ${span.n} of ${JOBS} jobs succeeded`);
    const throughput = JOBS / ((Number(span.last) - Number(span.first)) / 1000);

    const big = await ledger.createRun({ name: 'plan-1m' });
    t0 = performance.now();
    await ledger.addJobs(big.id, (function* () {
      for (let i = 0; i < PLAN; i++) yield { kind: 'noop', key: `plate/${i}`, params: { plate: i } };
    })());
    const plan1M = (performance.now() - t0) / 1000;
    await ledger.close();
    return { engine, jobs: JOBS, planS, workWallS, throughput, endToEnd: JOBS / (planS + workWallS), plan1M };
  } finally {
    await t.dispose();
  }
}

// An engine that cannot run (no PostgreSQL here, a worker failing) is a FAILED row; the other still prints.
const rows: (Row | { engine: string; error: string })[] = [];
for (const engine of ['sqlite', 'postgres'] as const) {
  try {
    rows.push(await bench(engine));
  } catch (e) {
    rows.push({ engine, error: errorMessage(e) });
    console.error(`${engine} failed: ${errorMessage(e)}`);
  }
}

const header = ['engine', 'jobs', 'plan s', 'work s (4 procs, incl. start-up)', 'jobs/s claim..complete', 'target', 'ratio', 'jobs/s incl. plan+start-up', `plan ${PLAN.toLocaleString('en')} s`];
const table = [
  header,
  ...rows.map((r) => 'error' in r ? [r.engine, 'FAILED', ...header.slice(2).map(() => '-')] : [
    r.engine,
    String(r.jobs),
    r.planS.toFixed(2),
    r.workWallS.toFixed(2),
    r.throughput.toFixed(0),
    String(TARGET[r.engine as 'sqlite' | 'postgres']),
    (r.throughput / TARGET[r.engine as 'sqlite' | 'postgres']).toFixed(2) + 'x',
    r.endToEnd.toFixed(0),
    r.plan1M.toFixed(1),
  ]),
];
const widths = table[0].map((_, i) => Math.max(...table.map((r) => r[i].length)));
for (const r of table) console.log(r.map((c, i) => c.padStart(widths[i])).join('  '));
for (const r of rows) if ('error' in r) console.log(`${r.engine}: ${r.error}`);
