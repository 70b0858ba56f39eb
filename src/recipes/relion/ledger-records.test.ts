// ProcessingRecords in Ferry's own ledger, on SQLite and on PostgreSQL (scripts/services/pg.sh): the
// contract every implementation owes, then what is particular to the ledger: ISPyB's names in the
// records, and visits recorded by their first Start.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Ledger } from '../../ledger/ledger.ts';
import { openLedger } from '../../ledger/open.ts';
import { freshLedger } from '../../testing/ledger.ts';
import { recordsContract, SEED_PROPOSAL, SEED_VISITS, VISITS } from '../../testing/processing-records-contract.ts';
import type { SeedTime } from '../../testing/processing-records-contract.ts';
import { LedgerProcessingRecords } from './ledger-records.ts';

/** A seed time as the records keep it: the seed's facility times are this machine's local time. */
function seedDate(t: SeedTime): Date {
  if ('hoursFromNow' in t) return new Date(Date.now() + t.hoursFromNow * 3600_000);
  const [y, mo, d, h, mi, s] = t.at.split(/[- :]/).map(Number);
  return new Date(y, mo - 1, d, h, mi, s);
}

async function withSeedVisits(ledger: Ledger): Promise<LedgerProcessingRecords> {
  const records = new LedgerProcessingRecords(ledger.records, { visits: 'recorded', where: `the ledger at ${ledger.where}` });
  for (const v of SEED_VISITS) {
    await records.addVisit({
      name: `${SEED_PROPOSAL.code}${SEED_PROPOSAL.number}-${v.visitNumber}`,
      beamLineName: SEED_PROPOSAL.beamLineName,
      startDate: seedDate(v.start),
      endDate: seedDate(v.end),
    });
  }
  return records;
}

for (const engine of ['sqlite', 'postgres'] as const) {
  describe(`ledger records on ${engine}`, () => {
    recordsContract(async () => {
      const loc = await freshLedger(engine);
      const ledger = await openLedger(loc.url);
      const records = await withSeedVisits(ledger);
      const others: Ledger[] = [];
      return {
        records,
        // PostgreSQL: a second connection pool, as a second ferry process has. SQLite: the same
        // connection, because better-sqlite3 waits for a lock by blocking its thread, so two
        // connections in one process would stall each other; two processes racing on one SQLite
        // ledger are tested through the CLI (relion.test.ts).
        openAnother: async () => {
          if (engine === 'sqlite') return new LedgerProcessingRecords(ledger.records, { visits: 'recorded', where: `the ledger at ${ledger.where}` });
          const other = await openLedger(loc.url);
          others.push(other);
          return new LedgerProcessingRecords(other.records, { visits: 'recorded', where: `the ledger at ${other.where}` });
        },
        dispose: async () => {
          for (const o of others) await o.close();
          await ledger.close();
          await loc.dispose();
        },
      };
    });
  });
}

test('the records carry ISPyB names and ids; a visit not recorded yet is recorded by its first start, open for processing', async () => {
  const loc = await freshLedger('sqlite');
  const ledger = await openLedger(loc.url);
  try {
    const records = new LedgerProcessingRecords(ledger.records, { visits: 'any', where: `the ledger at ${ledger.where}` });
    const visit = await records.findVisit('CM28212-1');
    assert.deepEqual([visit.name, visit.processingAllowed, visit.endDate], ['cm28212-1', true, null]);
    const r = await records.start({
      visit: 'cm28212-1',
      imageDirectory: '/dls/m12/data/2021/cm28212-1/raw',
      fileTemplate: 'GridSquare_*/Data/*.mrc',
      parameters: [{ key: 'voltage', value: '300' }],
      displayName: 'RELION',
      recipe: 'relion',
    });
    const [session] = await ledger.records.list<any>({ recipe: 'relion', type: 'BLSession' });
    assert.equal(r.visit.sessionId, session.id);
    assert.deepEqual(session.body, { proposalCode: 'cm', proposalNumber: '28212', visit_number: 1, beamLineName: null, startDate: null, endDate: null });
    const [dc] = await ledger.records.list<any>({ recipe: 'relion', type: 'DataCollection' });
    assert.equal(dc.id, r.dataCollectionId);
    assert.equal(dc.body.SESSIONID, session.id);
    assert.equal(dc.body.imageDirectory, '/dls/m12/data/2021/cm28212-1/raw/');
    assert.equal(dc.body.imageSuffix, 'mrc');
    const [group] = await ledger.records.list<any>({ recipe: 'relion', type: 'DataCollectionGroup' });
    assert.deepEqual([dc.body.dataCollectionGroupId, group.body.experimentType, group.body.sessionId], [group.id, 'EM', session.id]);
    const [job] = await ledger.records.list<any>({ recipe: 'relion', type: 'ProcessingJob' });
    assert.equal(job.id, r.processingJobId);
    assert.deepEqual([job.body.dataCollectionId, job.body.displayName, job.body.recipe, job.body.automatic], [dc.id, 'RELION', 'relion', 0]);
    const [param] = await ledger.records.list<any>({ recipe: 'relion', type: 'ProcessingJobParameter' });
    assert.deepEqual(param.body, { processingJobId: job.id, parameterKey: 'voltage', parameterValue: '300' });
    const program = await records.registerProgram(r.processingJobId, { programs: 'relion', environment: 'project=/x' });
    await records.finishProgram(program, { success: true, message: 'done: 3/3 micrographs motion-corrected' });
    const [app] = await ledger.records.list<any>({ recipe: 'relion', type: 'AutoProcProgram' });
    assert.equal(app.id, program);
    assert.deepEqual(
      [app.body.processingJobId, app.body.processingPrograms, app.body.processingEnvironment, app.body.processingStatus, app.body.processingMessage],
      [job.id, 'relion', 'project=/x', 1, 'done: 3/3 micrographs motion-corrected'],
    );
    assert.ok(app.body.processingStartTime <= app.body.processingEndTime);
    // The same visit spelled otherwise is the same visit.
    assert.equal((await records.listJobs({ visit: 'CM28212-1' })).length, 1);
    assert.equal((await records.findVisit(VISITS.current)).processingAllowed, true);
  } finally {
    await ledger.close();
    await loc.dispose();
  }
});
