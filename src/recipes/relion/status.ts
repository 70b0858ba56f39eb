// `ferry relion status` and the web page's view of it: every processing job of a visit or data
// collection with SynchWeb's status from its records, and, for the jobs whose program run has not
// ended, what RELION's own files say (progress in micrographs, the job running). A pipeline that
// ended without its worker recording it (the worker was killed, its node lost) has its program run
// finished here from the project's end record, so that no job shows as running forever.
import { readdir } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import type { JobFilter, ProcessingJob, ProcessingRecords, ProcessingStatus, ProgramRun } from '../../processing/records.ts';
import { readStatus } from '../../processing/relion/runner.ts';
import type { PipelineStatus } from '../../processing/relion/runner.ts';
import { isEnded } from '../../processing/relion/status.ts';
import { projectOf } from './launch.ts';

export interface RelionJobStatus {
  processingJobId: number;
  dataCollectionId: number;
  visit: string;
  imageDirectory: string | null;
  fileTemplate: string | null;
  recordTime: Date;
  /** SynchWeb's status: submitted, queued, running, success, failure. */
  status: ProcessingStatus;
  /** The latest program run (AutoProcProgram), once the processing side registered one. */
  program: ProgramRun | null;
  /** Where its RELION project is (or will be); null when its movies are not in a visit folder. */
  projectDir: string | null;
  /** RELION's own view, for jobs whose run has not ended and whose project exists. */
  pipeline?: Pick<PipelineStatus, 'state' | 'message' | 'progress' | 'jobs' | 'runner'>;
}

export async function relionStatus(records: ProcessingRecords, filter: JobFilter): Promise<RelionJobStatus[]> {
  const jobs = await records.listJobs({ ...filter, recipe: filter.recipe ?? 'relion' });
  // Jobs of one data collection share their visit's processed/ folder: found once per collection.
  const processed = new Map<number, string | null>();
  const rows = jobs.map((j) => {
    let dir = processed.get(j.dataCollectionId);
    if (dir === undefined) processed.set(j.dataCollectionId, (dir = processedDir(j)));
    return row(j, dir);
  });
  // One listing per visit's processed/ folder rather than a look per job: a visit may hold thousands.
  const open = rows.filter((r) => r.program && r.program.status === null && r.projectDir);
  const listings = new Map<string, Promise<Set<string>>>();
  for (const r of open) {
    const folder = dirname(r.projectDir!);
    if (!listings.has(folder)) listings.set(folder, readdir(folder).then((n) => new Set(n), () => new Set<string>()));
  }
  for (const r of open) {
    if (!(await listings.get(dirname(r.projectDir!))!).has(basename(r.projectDir!))) continue;
    const s = await readStatus(r.projectDir!).catch(() => undefined);
    if (!s) continue;
    r.pipeline = { state: s.state, message: s.message, progress: s.progress, jobs: s.jobs, runner: s.runner };
    if (isEnded(s) && (await records.finishProgram(r.program!.autoProcProgramId, { success: s.state === 'success', message: s.message }))) {
      const ended = (await records.getJob(r.processingJobId))!;
      Object.assign(r, { status: ended.status, program: ended.program });
    }
  }
  return rows;
}

/** The folder a job's project is in, or null when its movies are not in a visit folder (recorded by another tool). */
function processedDir(j: ProcessingJob): string | null {
  try {
    return dirname(projectOf(j).projectDir);
  } catch {
    return null;
  }
}

function row(j: ProcessingJob, processed: string | null): RelionJobStatus {
  return {
    processingJobId: j.processingJobId,
    dataCollectionId: j.dataCollectionId,
    visit: j.visit,
    imageDirectory: j.imageDirectory,
    fileTemplate: j.fileTemplate,
    recordTime: j.recordTime,
    status: j.status,
    program: j.program,
    projectDir: processed === null ? null : `${processed}/relion_${j.processingJobId}`,
  };
}
