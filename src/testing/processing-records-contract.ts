// Behaviour every ProcessingRecords implementation owes the RELION launch, written once and run
// against each (ISPyB in MariaDB; Ferry's own ledger). `open()` gives fresh records holding
// SEED_VISITS; `openAnother()` a second handle on the same records, as a second `ferry` process
// would have.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isFerryError } from '../errors.ts';
import { ActiveProcessingError } from '../processing/records.ts';
import type { ParameterRow, ProcessingRecords, StartRequest } from '../processing/records.ts';

export interface RecordsFixture {
  records: ProcessingRecords;
  openAnother(): Promise<ProcessingRecords>;
  dispose(): Promise<void>;
}

/** A time as the seed gives it (facility local time), or relative to the records' clock. */
export type SeedTime = { at: string } | { hoursFromNow: number };

/** The seed's commissioning proposal (seeds/004) and its visits, plus three that follow the clock. */
export const SEED_PROPOSAL = { code: 'cm', number: '28212', title: 'Software commissioning', beamLineName: 'm12' } as const;
export const SEED_VISITS: { visitNumber: number; start: SeedTime; end: SeedTime }[] = [
  { visitNumber: 1, start: { at: '2021-01-01 09:00:00' }, end: { at: '2021-03-12 09:00:00' } },
  { visitNumber: 2, start: { at: '2021-03-12 09:00:00' }, end: { at: '2021-05-21 09:00:00' } },
  { visitNumber: 3, start: { at: '2021-05-21 09:00:00' }, end: { at: '2021-08-13 09:00:00' } },
  { visitNumber: 4, start: { at: '2021-08-13 09:00:00' }, end: { at: '2021-10-22 09:00:00' } },
  { visitNumber: 5, start: { at: '2021-10-22 09:00:00' }, end: { at: '2021-12-31 09:00:00' } },
  { visitNumber: 6, start: { hoursFromNow: -24 }, end: { hoursFromNow: 6 * 24 } },
  { visitNumber: 7, start: { hoursFromNow: -72 }, end: { hoursFromNow: -12 } },
  { visitNumber: 8, start: { hoursFromNow: -120 }, end: { hoursFromNow: -48 } },
];

export const VISITS = {
  /** 1 Jan - 12 Mar 2021 (the seed's February data), long ended. */
  february: 'cm28212-1',
  /** Started yesterday, ends in six days. */
  current: 'cm28212-6',
  /** Ended 12 hours ago: inside SynchWeb's 24 hour grace. */
  endedToday: 'cm28212-7',
  /** Ended two days ago. */
  ended: 'cm28212-8',
} as const;

const PARAMS: ParameterRow[] = [
  { key: 'voltage', value: '300' },
  { key: 'Cs', value: '2.7' },
  { key: 'stop_after_ctf_estimation', value: '1' },
];

function startRequest(over: Partial<StartRequest> = {}): StartRequest {
  return {
    visit: VISITS.current,
    imageDirectory: '/dls/m12/data/2026/cm28212-6/raw/',
    fileTemplate: 'GridSquare_*/Data/*.mrc',
    parameters: PARAMS,
    displayName: 'RELION',
    recipe: 'relion',
    ...over,
  };
}

async function rejectsWith(p: Promise<unknown>, code: string, text: RegExp): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(isFerryError(e), `expected a FerryError, got ${String(e)}`);
    assert.equal(e.code, code);
    assert.match(e.message, text);
    return true;
  });
}

export function recordsContract(open: () => Promise<RecordsFixture>): void {
  test('a visit is found by name with its dates; an unknown or malformed name is refused', async () => {
    const f = await open();
    try {
      const v = await f.records.findVisit('cm28212-1');
      assert.equal(v.name, 'cm28212-1');
      assert.equal(v.beamLineName, 'm12');
      assert.deepEqual([v.startDate?.getFullYear(), v.startDate?.getMonth(), v.startDate?.getDate(), v.startDate?.getHours()], [2021, 0, 1, 9]);
      assert.deepEqual([v.endDate?.getMonth(), v.endDate?.getDate()], [2, 12]);
      assert.equal(v.processingAllowed, false);
      assert.equal((await f.records.findVisit(VISITS.current)).processingAllowed, true);
      await rejectsWith(f.records.findVisit('cm28212-99'), 'UnknownVisit', /cm28212-99/);
      await rejectsWith(f.records.findVisit('nt21004'), 'UnknownVisit', /not a visit name/);
    } finally {
      await f.dispose();
    }
  });

  test('start records a data collection and a submitted job with its parameters; a second start is refused naming the job', async () => {
    const f = await open();
    try {
      const r = await f.records.start(startRequest());
      assert.equal(r.dataCollectionCreated, true);
      assert.equal(r.visit.name, VISITS.current);
      assert.deepEqual(await f.records.parameters(r.processingJobId), PARAMS);
      const job = await f.records.getJob(r.processingJobId);
      assert.equal(job?.status, 'submitted');
      assert.equal(job?.dataCollectionId, r.dataCollectionId);
      assert.equal(job?.imageDirectory, '/dls/m12/data/2026/cm28212-6/raw/');
      assert.equal(job?.visit, VISITS.current);
      // The same movies, the directory written without its trailing slash: the same data collection.
      await assert.rejects(f.records.start(startRequest({ imageDirectory: '/dls/m12/data/2026/cm28212-6/raw' })), (e: unknown) => {
        assert.ok(e instanceof ActiveProcessingError);
        assert.deepEqual(e.active.map((j) => [j.processingJobId, j.status]), [[r.processingJobId, 'submitted']]);
        assert.match(e.message, new RegExp(`processing job ${r.processingJobId} is submitted`));
        return true;
      });
      assert.equal(await f.records.findDataCollection(VISITS.current, '/dls/m12/data/2026/cm28212-6/raw', 'GridSquare_*/Data/*.mrc'), r.dataCollectionId);
      assert.equal(await f.records.findDataCollection(VISITS.current, '/dls/m12/data/2026/cm28212-6/raw/', 'Frames/*.tif'), undefined);
      assert.equal((await f.records.listJobs({ visit: VISITS.current })).length, 1);
    } finally {
      await f.dispose();
    }
  });

  test('status follows the program run: queued, running, success or failure; an ended run never changes', async () => {
    const f = await open();
    try {
      const first = await f.records.start(startRequest());
      const run = await f.records.registerProgram(first.processingJobId, { programs: 'relion', commandLine: 'relion_pipeliner --schedule preprocess' });
      assert.equal((await f.records.getJob(first.processingJobId))?.status, 'queued');
      assert.equal(await f.records.startProgram(run), true);
      assert.equal(await f.records.startProgram(run), false);
      const running = await f.records.getJob(first.processingJobId);
      assert.equal(running?.status, 'running');
      assert.ok(running?.program?.startTime);
      assert.deepEqual((await f.records.activeJobs(first.dataCollectionId)).map((j) => j.processingJobId), [first.processingJobId]);
      assert.equal(await f.records.finishProgram(run, { success: true, message: 'RELION preprocessing finished' }), true);
      assert.equal(await f.records.finishProgram(run, { success: false, message: 'late failure' }), false);
      const ended = await f.records.getJob(first.processingJobId);
      assert.equal(ended?.status, 'success');
      assert.equal(ended?.program?.status, 1);
      assert.equal(ended?.program?.message, 'RELION preprocessing finished');
      assert.ok(ended?.program?.endTime);
      assert.deepEqual(await f.records.activeJobs(first.dataCollectionId), []);

      // Once nothing is active the data collection takes a new job; the old one stays as it was.
      const second = await f.records.start(startRequest());
      assert.equal(second.dataCollectionCreated, false);
      assert.equal(second.dataCollectionId, first.dataCollectionId);
      const queued = await f.records.registerProgram(second.processingJobId, { programs: 'relion' });
      // A run stopped before it started ends as a failure, with a start time, as SynchWeb needs to show it.
      const long = `stopped: ${'x'.repeat(200)}`;
      assert.equal(await f.records.finishProgram(queued, { success: false, message: long }), true);
      const failed = await f.records.getJob(second.processingJobId);
      assert.equal(failed?.status, 'failure');
      assert.ok(failed?.program?.startTime);
      assert.equal(failed?.program?.message?.length, 80);
      assert.ok(failed?.program?.message?.startsWith('stopped: xxx'));
      assert.deepEqual((await f.records.listJobs({ dataCollectionId: first.dataCollectionId })).map((j) => j.status), ['success', 'failure']);
      await rejectsWith(f.records.startProgram(999_999), 'UnknownProgram', /999999/);
      await rejectsWith(f.records.registerProgram(999_999, { programs: 'relion' }), 'UnknownProcessingJob', /999999/);
      await rejectsWith(f.records.parameters(999_999), 'UnknownProcessingJob', /999999/);
    } finally {
      await f.dispose();
    }
  });

  test('a job shows its latest program run', async () => {
    const f = await open();
    try {
      const r = await f.records.start(startRequest());
      const a = await f.records.registerProgram(r.processingJobId, { programs: 'relion' });
      await f.records.finishProgram(a, { success: false, message: 'node lost' });
      const b = await f.records.registerProgram(r.processingJobId, { programs: 'relion' });
      const job = await f.records.getJob(r.processingJobId);
      assert.equal(job?.program?.autoProcProgramId, b);
      assert.equal(job?.status, 'queued');
    } finally {
      await f.dispose();
    }
  });

  test('a visit that ended more than 24 hours ago is refused unless forced; one that ended 12 hours ago is not', async () => {
    const f = await open();
    try {
      const today = await f.records.start(startRequest({ visit: VISITS.endedToday }));
      assert.equal(today.visit.name, VISITS.endedToday);
      await rejectsWith(f.records.start(startRequest({ visit: VISITS.ended })), 'VisitEnded', /cm28212-8 ended over 24 hours ago/);
      await rejectsWith(f.records.start(startRequest({ visit: VISITS.february })), 'VisitEnded', /cm28212-1 ended over 24 hours ago, at 2021-03-12 09:00/);
      await rejectsWith(f.records.start(startRequest({ visit: 'cm28212-42' })), 'UnknownVisit', /cm28212-42/);
      assert.deepEqual(await f.records.listJobs({ visit: VISITS.ended }), []);
      const forced = await f.records.start(startRequest({ visit: VISITS.february, force: true }));
      assert.equal((await f.records.getJob(forced.processingJobId))?.visit, VISITS.february);
    } finally {
      await f.dispose();
    }
  });

  test('stop-and-restart: a new job may replace the ones the caller stopped, and the old records stay as they were', async () => {
    const f = await open();
    try {
      const old = await f.records.start(startRequest());
      const run = await f.records.registerProgram(old.processingJobId, { programs: 'relion' });
      await f.records.startProgram(run);
      const newParams = [...PARAMS.slice(0, 2), { key: 'stop_after_ctf_estimation', value: '0' }];
      const fresh = await f.records.start(startRequest({ parameters: newParams, replacing: [old.processingJobId] }));
      assert.equal(fresh.dataCollectionId, old.dataCollectionId);
      assert.notEqual(fresh.processingJobId, old.processingJobId);
      assert.deepEqual(await f.records.parameters(old.processingJobId), PARAMS);
      assert.deepEqual(await f.records.parameters(fresh.processingJobId), newParams);
      assert.equal((await f.records.getJob(old.processingJobId))?.status, 'running');
      // The replacement is active itself: a start that replaces only the old job is refused.
      await assert.rejects(f.records.start(startRequest({ replacing: [old.processingJobId] })), (e: unknown) => {
        assert.ok(e instanceof ActiveProcessingError);
        assert.deepEqual(e.active.map((j) => j.processingJobId), [fresh.processingJobId]);
        return true;
      });
    } finally {
      await f.dispose();
    }
  });

  test('two starts at once on one data collection: exactly one wins, and one data collection is recorded', async () => {
    const f = await open();
    const other = await f.openAnother();
    try {
      for (let round = 0; round < 5; round++) {
        const req = startRequest({ imageDirectory: `/dls/m12/data/2026/cm28212-6/race-${round}/` });
        const results = await Promise.allSettled([f.records.start(req), other.start(req)]);
        const won = results.filter((r) => r.status === 'fulfilled');
        const lost = results.filter((r) => r.status === 'rejected');
        assert.equal(won.length, 1, `round ${round}: ${JSON.stringify(results.map((r) => r.status))}`);
        assert.ok(lost[0].reason instanceof ActiveProcessingError, String(lost[0].reason));
      }
      const jobs = await f.records.listJobs({ visit: VISITS.current });
      assert.equal(jobs.length, 5);
      assert.equal(new Set(jobs.map((j) => j.dataCollectionId)).size, 5);
      // Starts on different data collections do not get in each other's way.
      const both = await Promise.all([
        f.records.start(startRequest({ imageDirectory: '/dls/m12/data/2026/cm28212-6/a/' })),
        other.start(startRequest({ imageDirectory: '/dls/m12/data/2026/cm28212-6/b/' })),
      ]);
      assert.notEqual(both[0].dataCollectionId, both[1].dataCollectionId);
    } finally {
      await other.close();
      await f.dispose();
    }
  });

  test('jobs are listed per visit, per data collection and per recipe', async () => {
    const f = await open();
    try {
      const a = await f.records.start(startRequest());
      const b = await f.records.start(startRequest({ fileTemplate: 'Frames/*.tif', recipe: 'ctffind-only', displayName: 'CTF' }));
      const c = await f.records.start(startRequest({ visit: VISITS.endedToday }));
      assert.deepEqual((await f.records.listJobs({ visit: VISITS.current })).map((j) => j.processingJobId), [a.processingJobId, b.processingJobId]);
      assert.deepEqual((await f.records.listJobs({ visit: VISITS.current, recipe: 'relion' })).map((j) => j.processingJobId), [a.processingJobId]);
      assert.deepEqual((await f.records.listJobs({ dataCollectionId: c.dataCollectionId })).map((j) => j.processingJobId), [c.processingJobId]);
      const listed = (await f.records.listJobs({ visit: VISITS.current }))[1];
      assert.equal(listed.recipe, 'ctffind-only');
      assert.equal(listed.displayName, 'CTF');
      assert.equal(listed.fileTemplate, 'Frames/*.tif');
      assert.equal(listed.automatic, false);
      assert.ok(listed.recordTime instanceof Date);
      assert.equal(await f.records.getJob(999_999), undefined);
      await assert.rejects(f.records.listJobs({}), /needs a visit or a data collection/);
    } finally {
      await f.dispose();
    }
  });
}
