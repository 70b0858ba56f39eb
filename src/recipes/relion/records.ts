// Where a RELION launch keeps its records: an ISPyB database (a mysql:// URL), or Ferry's own ledger.
// The password of an ISPyB URL never goes into the ledger: jobs carry the URL without it, and the
// worker that runs one takes the password from FERRY_ISPYB_URL (which `ferry relion` sets for the
// workers it starts, and a site sets for its workers and `ferry serve`).
import type { Ledger } from '../../ledger/ledger.ts';
import type { RecordsAccess } from '../../ledger/records.ts';
import { ispybWhere } from '../../processing/ispyb/url.ts';
import type { ProcessingRecords } from '../../processing/records.ts';
import { LedgerProcessingRecords } from './ledger-records.ts';

export const ISPYB_URL_ENV = 'FERRY_ISPYB_URL';

/** The records of the ISPyB database at `url`, or of the ledger (visits recorded by their first Start). */
export async function openProcessingRecords(ispyb: string | undefined, ledger: () => Promise<Ledger>): Promise<ProcessingRecords> {
  if (ispyb) {
    const { openIspybRecords } = await import('../../processing/ispyb/ispyb-records.ts');
    return openIspybRecords(ispyb);
  }
  const l = await ledger();
  return ledgerRecords(l.records, `the ledger at ${l.where}`);
}

export function ledgerRecords(records: RecordsAccess, where: string): LedgerProcessingRecords {
  return new LedgerProcessingRecords(records, { visits: 'any', where });
}

/** The ISPyB URL a job names (without password), with the password of FERRY_ISPYB_URL when it names the same database. */
export function ispybUrlFor(where: string, env: NodeJS.ProcessEnv = process.env): string {
  const full = env[ISPYB_URL_ENV];
  return full && ispybWhere(full) === where ? full : where;
}

/**
 * The ledger run of a processing job: `relion-<id>` in ledger mode, `relion-<database>-<id>` with
 * ISPyB (e.g. relion-ispyb-6611642), so that jobs of two record stores never share a run.
 */
export function runNameOf(processingJobId: number, ispyb: string | undefined): string {
  if (!ispyb) return `relion-${processingJobId}`;
  const database = new URL(ispyb).pathname.replace(/^\//, '');
  return `relion-${decodeURIComponent(database)}-${processingJobId}`;
}
