// `ferry relion status` on ISPyB: list the processing jobs of one visit with their latest program
// run and status, for a visit holding 10,000 jobs (100 data collections of 100 jobs, each with 10
// parameter rows and one program run in one of the five states), against the 200 ms target. Other
// visits hold 20,000 more jobs over 4,000 data collections, so that a plan that scans the
// database rather than the visit shows. The database is a fresh one in FERRY_TEST_ISPYB_URL's
// MariaDB (scripts/services/mariadb.sh).
//
//   node bench/relion-status.ts [--jobs 10000] [--repeats 5]
import { parseArgs } from 'node:util';
import { openIspybRecords } from '../src/processing/ispyb/ispyb-records.ts';
import { freshIspyb } from '../src/processing/ispyb/test-support.ts';
import type { TestIspyb } from '../src/processing/ispyb/test-support.ts';
import type { ProcessingRecords } from '../src/processing/records.ts';

export const STATUS_TARGET_MS = 200;
const VISIT = 'cm28212-6';

/** Fills visit cm28212-<visitNumber> with `jobs` processing jobs the way many Starts would have, in bulk. */
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
    const params = ids.flatMap((id) => Array.from({ length: 10 }, (_, k) => [id, `option_${k}`, String(k)]));
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

export interface Timing {
  wallMs: number;
  /** This process's CPU time: decoding rows and building the jobs, without the server's share. */
  clientCpuMs: number;
}

/** Each listing of the visit, after one untimed warm-up. */
export async function timeStatus(records: ProcessingRecords, repeats: number, expected: number): Promise<Timing[]> {
  const out: Timing[] = [];
  for (let r = -1; r < repeats; r++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    const jobs = await records.listJobs({ visit: VISIT });
    const wallMs = performance.now() - t0;
    const c = process.cpuUsage(c0);
    if (jobs.length !== expected) throw new Error(`listed ${jobs.length} jobs, expected ${expected}`);
    if (r >= 0) out.push({ wallMs, clientCpuMs: (c.user + c.system) / 1000 });
  }
  return out;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

if (import.meta.main) {
  const { values } = parseArgs({ options: { jobs: { type: 'string', default: '10000' }, repeats: { type: 'string', default: '5' } } });
  const jobs = Number(values.jobs);
  const db = await freshIspyb();
  try {
    const t0 = performance.now();
    await fillVisit(db, 6, jobs, 100);
    await fillVisit(db, 2, 2 * jobs, 5);
    const fillS = (performance.now() - t0) / 1000;
    const records = await openIspybRecords(db.url);
    try {
      const t = await timeStatus(records, Number(values.repeats), jobs);
      const wall = median(t.map((x) => x.wallMs));
      console.log(`ISPyB (MariaDB): ${jobs} jobs in the visit, ${2 * jobs} in another, filled in ${fillS.toFixed(1)} s`);
      console.log(
        `relion status --visit ${VISIT}: median ${wall.toFixed(0)} ms wall (best ${Math.min(...t.map((x) => x.wallMs)).toFixed(0)} ms, ` +
          `client CPU ${median(t.map((x) => x.clientCpuMs)).toFixed(0)} ms) over ${t.length} runs; target < ${STATUS_TARGET_MS} ms: ${wall < STATUS_TARGET_MS ? 'met' : 'MISSED'}`,
      );
    } finally {
      await records.close();
    }
  } finally {
    await db.dispose();
  }
}
