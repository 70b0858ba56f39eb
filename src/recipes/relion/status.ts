// `ferry relion status` and the web page's view of it: every processing job of a visit or data
// collection with SynchWeb's status from its records, and, for the jobs whose program run has not
// ended, what RELION's own files say (progress in micrographs, the job running). A pipeline that
// ended without its worker recording it (the worker was killed, its node lost) has its program run
// finished here from the project's end record, so that no job shows as running forever.
import { readdir } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import type { JobFilter, ProcessingJob, ProcessingRecords, ProcessingStatus } from '../../processing/records.ts';
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
  recordTime: string;
  /** SynchWeb's status: submitted, queued, running, success, failure. */
  status: ProcessingStatus;
  program: { autoProcProgramId: number; status: 0 | 1 | null; message: string | null; startTime: string | null; endTime: string | null } | null;
  /** Where its RELION project is (or will be); null when its movies are not in a visit folder. */
  projectDir: string | null;
  /** RELION's own view, for jobs whose run has not ended and whose project exists. */
  pipeline?: Pick<PipelineStatus, 'state' | 'message' | 'progress' | 'jobs' | 'runner'>;
}

export async function relionStatus(records: ProcessingRecords, filter: JobFilter): Promise<RelionJobStatus[]> {
  const jobs = await records.listJobs({ ...filter, recipe: filter.recipe ?? 'relion' });
  // Jobs of one data collection share their visit's processed/ folder: found once per collection.
  const processed = new Map<string, string | null>();
  const rows = jobs.map((j) => {
    const where = `${j.visit}\0${j.imageDirectory}\0${j.fileTemplate}`;
    if (!processed.has(where)) processed.set(where, processedDir(j));
    return row(j, processed.get(where)!);
  });
  // One listing per visit's processed/ folder rather than a look per job: a visit may hold thousands.
  const open = rows.filter((r) => r.program && r.program.status === null && r.projectDir);
  const listings = new Map<string, Promise<Set<string>>>();
  for (const r of open) {
    const processed = dirname(r.projectDir!);
    if (!listings.has(processed)) listings.set(processed, readdir(processed).then((n) => new Set(n), () => new Set<string>()));
  }
  for (const r of open) {
    if (!(await listings.get(dirname(r.projectDir!))!).has(basename(r.projectDir!))) continue;
    const s = await readStatus(r.projectDir!).catch(() => undefined);
    if (!s) continue;
    r.pipeline = { state: s.state, message: s.message, progress: s.progress, jobs: s.jobs, runner: s.runner };
    if (isEnded(s) && (await records.finishProgram(r.program!.autoProcProgramId, { success: s.state === 'success', message: s.message }))) {
      const ended = (await records.getJob(r.processingJobId))!;
      Object.assign(r, { status: ended.status, program: program(ended) });
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
    recordTime: j.recordTime.toISOString(),
    status: j.status,
    program: program(j),
    projectDir: processed === null ? null : `${processed}/relion_${j.processingJobId}`,
  };
}

function program(j: ProcessingJob): RelionJobStatus['program'] {
  const p = j.program;
  if (!p) return null;
  return {
    autoProcProgramId: p.autoProcProgramId,
    status: p.status,
    message: p.message,
    startTime: p.startTime?.toISOString() ?? null,
    endTime: p.endTime?.toISOString() ?? null,
  };
}
