// The web page on a run of 1,000,000 jobs, on SQLite and PostgreSQL: how long the server takes to
// read every run's counts (its first read, and a live tick when the run moved), and how long the
// run page's requests take through HTTP: the run with its counts, its first page of jobs, a state
// filter, a page deep in the run, and a key search that matches nothing (a whole scan). Target: the
// run page (run + first page) under a second. PostgreSQL from FERRY_TEST_PG_URL.
//
//   node bench/serve.ts [--jobs 1000000] [--repeat 5]
import { parseArgs } from 'node:util';
import { sql } from 'kysely';
import { freshLedger } from '../src/testing/ledger.ts';
import { openLedger } from '../src/ledger/open.ts';
import { catalog } from '../src/recipes/index.ts';
import { Orchestrator } from '../src/runtime/orchestrator.ts';
import { startWebServer } from '../src/server/app.ts';

const { values } = parseArgs({ options: { jobs: { type: 'string', default: '1000000' }, repeat: { type: 'string', default: '5' } } });
const JOBS = Number(values.jobs);
const REPEAT = Number(values.repeat);

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}

async function get(url: string): Promise<unknown> {
  const r = await fetch(url);
  if (!r.ok) throw new Error(`${url}: ${r.status} ${await r.text()}`);
  return r.json();
}

const rows: string[][] = [];
for (const engine of ['sqlite', 'postgres'] as const) {
  const t = await freshLedger(engine);
  try {
    const ledger = await openLedger(t.url);
    const run = await ledger.createRun({ name: 'plates-1m', labels: { recipe: 'jump' } });
    await ledger.addJobs(run.id, (function* () {
      for (let i = 0; i < JOBS; i++) yield { kind: 'noop', key: `source_4/batch/plate-${String(i).padStart(7, '0')}`, params: { plate: i } };
    })());
    // A run under way: a tenth done with progress, a thousand failed, a few running.
    const now = Date.now();
    await ledger.db.updateTable('jobs').set({ state: 'success', started_at: now - 60_000, finished_at: now, progress_unit: 'files', progress_done: 10, progress_total: 10, bytes_done: 1e6, bytes_total: 1e6 }).where('id', '<=', JOBS / 10).execute();
    await ledger.db.updateTable('jobs').set({ state: 'error', last_error: 'AccessDenied' }).where('id', '>', JOBS / 2).where('id', '<=', JOBS / 2 + 1000).execute();
    await ledger.db.updateTable('jobs').set({ state: 'ongoing', lease_owner: 'w', lease_expires_at: now + 600_000 }).where('id', '>', JOBS / 10).where('id', '<=', JOBS / 10 + 8).execute();
    if (engine === 'postgres') await sql`vacuum analyze jobs`.execute(ledger.db);
    else await sql`analyze`.execute(ledger.db);

    const first = await timed(() => ledger.status());
    const full: number[] = [];
    const tick: number[] = [];
    for (let i = 0; i < REPEAT; i++) {
      full.push(await timed(() => ledger.status()));
      tick.push(await timed(() => ledger.status({ runIds: [run.id] })));
    }

    const server = await startWebServer({ orchestrator: new Orchestrator(ledger, catalog), port: 0, readOnly: true, live: { tickMs: 60_000, fullMs: 3_600_000 } });
    try {
      const base = server.url;
      await get(`${base}api/runs`);
      const measure = async (label: string, path: string | string[]) => {
        const paths = Array.isArray(path) ? path : [path];
        const times: number[] = [];
        for (let i = 0; i < REPEAT; i++) times.push(await timed(() => Promise.all(paths.map((p) => get(base + p)))));
        rows.push([engine, label, median(times).toFixed(0), Math.max(...times).toFixed(0)]);
      };
      rows.push([engine, 'ledger status, every run: the first read after opening', first.toFixed(0), '']);
      rows.push([engine, 'ledger status, every run (a full re-read, every 60 s)', median(full).toFixed(0), Math.max(...full).toFixed(0)]);
      rows.push([engine, 'ledger status, the run (a live tick after it moved)', median(tick).toFixed(0), Math.max(...tick).toFixed(0)]);
      await measure('run page: run + first page of jobs (in parallel)', [`api/runs/${run.id}`, `api/runs/${run.id}/jobs?limit=50`]);
      await measure('first page of jobs', `api/runs/${run.id}/jobs?limit=50`);
      await measure('failed jobs, first page', `api/runs/${run.id}/jobs?state=error&limit=50`);
      await measure(`page after job ${(JOBS * 0.9).toLocaleString('en')}`, `api/runs/${run.id}/jobs?after=${JOBS * 0.9}&limit=50`);
      await measure('key search, 1 match (scans the run)', `api/runs/${run.id}/jobs?q=plate-${String(JOBS - 1).padStart(7, '0')}&limit=50`);
      await measure('key search, no match (scans the run)', `api/runs/${run.id}/jobs?q=no-such-plate&limit=50`);
    } finally {
      await server.close();
      await ledger.close();
    }
  } finally {
    await t.dispose();
  }
}

console.log(`\n### ferry serve on a run of ${JOBS.toLocaleString('en')} jobs (median and worst of ${REPEAT}, ms)\n`);
console.log('| engine | what | median ms | worst ms |');
console.log('|---|---|---:|---:|');
for (const r of rows) console.log(`| ${r.join(' | ')} |`);
console.log('\n(target: the run page, run + first page of jobs, under 1000 ms; figures on a busy shared machine are noisy)');
