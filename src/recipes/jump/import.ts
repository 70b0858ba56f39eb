// Continues a campaign started with the lab's old scripts: each old job file becomes a plate job
// in the ledger with its state and its log. Importing again changes nothing that Ferry has done
// since: only plates the run does not have yet are added.
import type { Ledger } from '../../ledger/ledger.ts';
import type { JobState } from '../../ledger/schema.ts';
import { readOldJobList } from './joblist.ts';
import type { OldJob } from './joblist.ts';
import { plateJob } from './plan.ts';
import type { PlanOptions } from './plan.ts';

export interface ImportResult {
  read: number;
  added: number;
  states: Partial<Record<JobState, number>>;
  problems: { file: string; reason: string }[];
}

export async function importOldJobs(ledger: Ledger, dir: string, runName: string, opts: PlanOptions, dataset = 'cpg0016-jump'): Promise<ImportResult> {
  const { jobs, problems } = await readOldJobList(dir);
  const run = await ledger.createRun({ name: runName, labels: { recipe: 'jump', dest: opts.dest, importedFrom: dir } });
  const before = new Set((await ledger.listJobs({ runId: run.id })).map((j) => j.key));
  const fresh = jobs.filter((j) => !before.has(plateJob(plateOf(j, dataset), opts).key));
  const added = await ledger.addJobs(run.id, fresh.map((j) => plateJob(plateOf(j, dataset), opts)));
  const ids = new Map((await ledger.listJobs({ runId: run.id })).map((j) => [j.key, j.id]));
  const states: Partial<Record<JobState, number>> = {};
  for (const j of fresh) {
    const { state, note } = carriedState(j);
    const lastLine = j.log.at(-1)?.message;
    await ledger.importJobState(ids.get(plateJob(plateOf(j, dataset), opts).key)!, {
      state,
      lastError: state === 'error' ? (lastLine ?? 'error in the old job list (no log line)') : undefined,
      events: [...j.log.map((l) => ({ at: l.at, type: 'imported-log', message: l.message })), { type: 'imported', message: note }],
    });
    states[state] = (states[state] ?? 0) + 1;
  }
  return { read: jobs.length, added, states, problems };
}

/** An old `ongoing` means a transfer the cluster cut off: it is queued again, not left hanging. */
function carriedState(j: OldJob): { state: JobState; note: string } {
  switch (j.status) {
    case 'ongoing':
      return { state: 'todo', note: `imported from ${j.file}: was 'ongoing' (its transfer was cut off), queued again` };
    case 'success':
      return { state: 'success', note: `imported from ${j.file} as success (uploaded by the old scripts, not verified by Ferry)` };
    default:
      return { state: j.status, note: `imported from ${j.file} as ${j.status}` };
  }
}

function plateOf(j: OldJob, dataset: string) {
  const parts = j.plateDir.split('/');
  const i = parts.indexOf(dataset);
  const galleryPath = i >= 0 ? parts.slice(i).join('/') : `${j.source}/${j.batch}/${j.plate}`;
  return { source: j.source, batch: j.batch, plate: j.plate, dir: j.plateDir, galleryPath };
}
