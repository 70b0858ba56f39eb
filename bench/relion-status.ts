// `ferry relion status` for a visit holding 10,000 processing jobs (100 data collections of 100 jobs,
// each with 10 parameter rows and one program run in one of the five states: submitted, queued,
// running, success, failure), against the 200 ms target, on ISPyB (MariaDB) and on the ledger
// (SQLite). Another visit holds more jobs, so that a plan that reads more than the visit shows. What
// is timed is relionStatus (src/recipes/relion/status.ts), what the command and the web page call:
// the records of the visit's jobs with their latest program runs, and a look for the project folders
// of the jobs still running. ISPyB is a fresh database in FERRY_TEST_ISPYB_URL's MariaDB
// (scripts/services/mariadb.sh); the ledger a fresh SQLite file.
//
//   node bench/relion-status.ts [--jobs 10000] [--repeats 5]
import { spawnSync } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { sql } from 'kysely';
import { openLedger } from '../src/ledger/open.ts';
import { openIspybRecords } from '../src/processing/ispyb/ispyb-records.ts';
import { freshIspyb } from '../src/testing/ispyb.ts';
import type { TestIspyb } from '../src/testing/ispyb.ts';
import type { ProcessingRecords } from '../src/processing/records.ts';
import type { LedgerProcessingRecords } from '../src/recipes/relion/ledger-records.ts';
import { ledgerRecords } from '../src/recipes/relion/records.ts';
import { relionStatus } from '../src/recipes/relion/status.ts';
import { tempDir } from '../src/testing/tree.ts';

export const STATUS_TARGET_MS = 200;
const VISIT = 'cm28212-6';
const PARAMETERS = Array.from({ length: 10 }, (_, k) => ({ key: `option_${k}`, value: String(k) }));

/** Fills visit cm28212-<visitNumber> of ISPyB with `jobs` processing jobs the way many Starts would have, in bulk. */
export async function fillVisit(db: TestIspyb, visitNumber: number, jobs: number, perCollection: number): Promise<void> {
  const [session] = await db.query<any[]>('SELECT sessionId FROM BLSession WHERE visit_number = ?', [visitNumber]);
  const collections = Math.ceil(jobs / perCollection);
  await db.query('START TRANSACTION');
  for (let c = 0; c < collections; c++) {
    const group = await db.query<any>("INSERT INTO DataCollectionGroup (sessionId, comments, experimentType) VALUES (?, 'bench', 'EM')", [session.sessionId]);
    const dc = await db.query<any>(
      "INSERT INTO DataCollection (SESSIONID, dataCollectionGroupId, imageDirectory, fileTemplate, imageSuffix, startTime) VALUES (?, ?, ?, 'GridSquare_*/Data/*.mrc', 'mrc', NOW())",
      [session.sessionId, group.insertId, `/dls/m12/data/2026/cm28212-${visitNumber}/raw${c}/`],
    );
    const n = Math.min(perCollection, jobs - c * perCollection);
    const first = (await db.query<any>(`INSERT INTO ProcessingJob (dataCollectionId, displayName, recipe, automatic) VALUES ${Array(n).fill('(?, "RELION", "relion", 0)').join(',')}`, Array(n).fill(dc.insertId))).insertId;
    const ids = Array.from({ length: n }, (_, i) => first + i);
    const params = ids.flatMap((id) => PARAMETERS.map((p) => [id, p.key, p.value]));
    await db.query(`INSERT INTO ProcessingJobParameter (processingJobId, parameterKey, parameterValue) VALUES ${params.map(() => '(?, ?, ?)').join(',')}`, params.flat());
    // One in five has no program yet (submitted); the others are queued, running, success, failure.
    const programs = ids.filter((_, i) => i % 5 !== 0).map((id, i) => {
      const state = i % 4;
      return [id, 'relion', state >= 1 ? 'NOW()' : 'NULL', state === 2 ? 1 : state === 3 ? 0 : null, state >= 2 ? 'NOW()' : 'NULL'];
    });
    await db.query(
      `INSERT INTO AutoProcProgram (processingJobId, processingPrograms, processingStartTime, processingStatus, processingEndTime, recordTimeStamp) VALUES ${programs
        .map((p) => `(?, ?, ${p[2]}, ?, ${p[4]}, NOW())`)
        .join(',')}`,
      programs.flatMap((p) => [p[0], p[1], p[3]]),
    );
  }
  await db.query('COMMIT');
}

/**
 * The same visit in the ledger, through the records' own API (each Start replacing the data
 * collection's jobs still open, as a stop-and-restart would).
 */
export async function fillLedgerVisit(records: LedgerProcessingRecords, visitNumber: number, jobs: number, perCollection: number): Promise<void> {
  const visit = `cm28212-${visitNumber}`;
  for (let c = 0; c * perCollection < jobs; c++) {
    const open: number[] = [];
    let withProgram = 0;
    for (let i = 0; i < Math.min(perCollection, jobs - c * perCollection); i++) {
      const { processingJobId } = await records.start({
        visit,
        imageDirectory: `/dls/m12/data/2026/${visit}/raw${c}/`,
        fileTemplate: 'GridSquare_*/Data/*.mrc',
        parameters: PARAMETERS,
        displayName: 'RELION',
        recipe: 'relion',
        replacing: open,
      });
      open.push(processingJobId);
      if (i % 5 === 0) continue;
      const state = withProgram++ % 4;
      const program = await records.registerProgram(processingJobId, { programs: 'relion' });
      if (state >= 1) await records.startProgram(program);
      if (state >= 2) await records.finishProgram(program, { success: state === 2, message: state === 2 ? 'done' : 'failed' });
    }
  }
}

export interface Timing {
  wallMs: number;
  /** This process's CPU time: decoding rows and building the jobs, without the server's share. */
  clientCpuMs: number;
}

/** Each status of the visit, after one untimed warm-up. */
export async function timeStatus(records: ProcessingRecords, repeats: number, expected: number): Promise<Timing[]> {
  const out: Timing[] = [];
  for (let r = -1; r < repeats; r++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    const jobs = await relionStatus(records, { visit: VISIT });
    const wallMs = performance.now() - t0;
    const c = process.cpuUsage(c0);
    if (jobs.length !== expected) throw new Error(`listed ${jobs.length} jobs, expected ${expected}`);
    if (r >= 0) out.push({ wallMs, clientCpuMs: (c.user + c.system) / 1000 });
  }
  return out;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function report(what: string, jobs: number, fillS: number, t: Timing[]): string {
  const wall = median(t.map((x) => x.wallMs));
  return (
    `${what}: ${jobs} jobs in visit ${VISIT} (filled in ${fillS.toFixed(1)} s): median ${wall.toFixed(0)} ms wall ` +
    `(best ${Math.min(...t.map((x) => x.wallMs)).toFixed(0)} ms, client CPU ${median(t.map((x) => x.clientCpuMs)).toFixed(0)} ms) over ${t.length} runs; ` +
    `target < ${STATUS_TARGET_MS} ms: ${wall < STATUS_TARGET_MS ? 'met' : 'MISSED'}`
  );
}

/** Status of a 10,000-job visit on ISPyB (another visit holds twice as many). */
export async function ispybStatusBench(jobs: number, repeats: number): Promise<string> {
  const db = await freshIspyb();
  try {
    const t0 = performance.now();
    await fillVisit(db, 6, jobs, 100);
    await fillVisit(db, 2, 2 * jobs, 5);
    const fillS = (performance.now() - t0) / 1000;
    const records = await openIspybRecords(db.url);
    try {
      return report(`ISPyB (MariaDB), ${2 * jobs} more in another visit`, jobs, fillS, await timeStatus(records, repeats, jobs));
    } finally {
      await records.close();
    }
  } finally {
    await db.dispose();
  }
}

/**
 * Status of a 10,000-job visit in a SQLite ledger (another visit holds as many), timed in a process
 * of its own as `ferry relion status` runs: not in the one that filled the ledger, whose heap the
 * filling has grown.
 */
export async function ledgerStatusBench(jobs: number, repeats: number): Promise<string> {
  const dir = await tempDir('ferry-bench-relion-status-');
  const file = join(dir, 'ledger.sqlite');
  try {
    const ledger = await openLedger(file);
    const t0 = performance.now();
    try {
      const records = ledgerRecords(ledger.records, 'the bench ledger');
      // Filling commits ~50,000 small transactions: without an fsync each, as a bulk load may.
      await sql`pragma synchronous = off`.execute(ledger.db);
      await fillLedgerVisit(records, 6, jobs, 100);
      await fillLedgerVisit(records, 2, jobs, 5);
    } finally {
      await ledger.close();
    }
    const fillS = (performance.now() - t0) / 1000;
    const child = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--time-ledger', file, '--jobs', String(jobs), '--repeats', String(repeats)], { encoding: 'utf8' });
    if (child.status !== 0) throw new Error(`timing the ledger's status failed: ${child.stderr}`);
    return report(`Ledger (SQLite), ${jobs} more in another visit`, jobs, fillS, JSON.parse(child.stdout) as Timing[]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function timeLedger(file: string, jobs: number, repeats: number): Promise<Timing[]> {
  const ledger = await openLedger(file, { mustExist: true });
  try {
    return await timeStatus(ledgerRecords(ledger.records, 'the bench ledger'), repeats, jobs);
  } finally {
    await ledger.close();
  }
}

if (import.meta.main) {
  const { values } = parseArgs({ options: { jobs: { type: 'string', default: '10000' }, repeats: { type: 'string', default: '5' }, 'time-ledger': { type: 'string' } } });
  if (values['time-ledger']) {
    console.log(JSON.stringify(await timeLedger(values['time-ledger'], Number(values.jobs), Number(values.repeats))));
  } else {
    console.log(await ispybStatusBench(Number(values.jobs), Number(values.repeats)));
    console.log(await ledgerStatusBench(Number(values.jobs), Number(values.repeats)));
  }
}
