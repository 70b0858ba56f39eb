// The processing side of a RELION launch (Zocalo's role), shared by a Start and by a request from
// Zocalo: the job's project folder under its visit's processed/ tree, the relion_it options the
// runner gets (the site's defaults under the job's recorded parameters, as Diamond's runner loads
// its default options and then SynchWeb's), a program run registered as queued, and the ledger run
// whose one job runs the pipeline.
import { readFile } from 'node:fs/promises';
import { FerryError, errorMessage } from '../../errors.ts';
import type { PlannedRun } from '../../runtime/recipe.ts';
import type { ProcessingJob, ProcessingRecords } from '../../processing/records.ts';
import type { RelionOptions } from '../../processing/relion-options.ts';
import type { RelionParams } from '../../processing/relion/options.ts';
import { checkProject, prepareProject, projectDirFor, startPipeline, visitDirOf, waitingSupervisor } from '../../processing/relion/runner.ts';
import type { CheckedProject, PreparedProject, WaitingSupervisor } from '../../processing/relion/runner.ts';
import { shellQuote } from '../../runtime/submit.ts';
import { runNameOf } from './records.ts';

export const PROCESS_JOB = 'relion.process';
/** AutoProcProgram.processingPrograms of Ferry's runs. */
export const PROGRAM = 'relion';
/** Site-wide relion_it options (threads, MPI, patches, CTFFIND...) under every job's parameters. */
export const DEFAULTS_ENV = 'FERRY_RELION_DEFAULTS';

/** What a relion.process job is given: the records say the rest. */
export interface ProcessParams {
  processingJobId: number;
  autoProcProgramId: number;
  /** The ISPyB database (URL without password), or absent for the ledger. */
  ispyb?: string;
}

/** The site's relion_it options: the JSON object in the file FERRY_RELION_DEFAULTS names, or none. */
export async function siteDefaults(env: NodeJS.ProcessEnv = process.env): Promise<RelionParams> {
  const file = env[DEFAULTS_ENV];
  if (!file) return {};
  let values: unknown;
  try {
    values = JSON.parse(await readFile(file, 'utf8'));
  } catch (e) {
    throw new FerryError(`cannot read the site's RELION options ${file} (${DEFAULTS_ENV}): ${errorMessage(e)}`, {
      hint: 'it holds one JSON object of relion_it options, e.g. {"motioncor_threads": 8, "ctffind4_exe": "/opt/ctffind/ctffind"}',
      kind: 'config',
    });
  }
  if (values === null || typeof values !== 'object' || Array.isArray(values)) {
    throw new FerryError(`the site's RELION options ${file} (${DEFAULTS_ENV}) are not a JSON object`, { kind: 'config' });
  }
  return values as RelionParams;
}

/** The options the runner gets: the site's, then the job's. */
export async function runnerParams(options: RelionOptions): Promise<RelionParams> {
  return { ...(await siteDefaults()), ...(options as RelionParams) };
}

type JobWhere = Pick<ProcessingJob, 'visit' | 'imageDirectory' | 'fileTemplate'>;

/** Where a job's movies are, and its visit folder (found from the image directory). */
function moviesOf(job: JobWhere): { visitDir: string; imageDirectory: string; fileTemplate: string } {
  if (!job.imageDirectory || !job.fileTemplate) {
    throw new FerryError('the data collection has no image directory or file template', {
      hint: "a RELION job needs the data collection's imageDirectory and fileTemplate",
      kind: 'config',
    });
  }
  return { visitDir: visitDirOf(job.imageDirectory, job.visit), imageDirectory: job.imageDirectory, fileTemplate: job.fileTemplate };
}

/** A job's project folder: <visit>/processed/relion_<processingJobId>. */
export function projectOf(job: JobWhere & Pick<ProcessingJob, 'processingJobId'>): ReturnType<typeof moviesOf> & { projectDir: string } {
  const m = moviesOf(job);
  return { ...m, projectDir: projectDirFor(m.visitDir, job.processingJobId) };
}

/** Everything the runner will check, before anything is recorded. */
export async function checkLaunch(job: JobWhere, options: RelionOptions): Promise<CheckedProject & { visitDir: string }> {
  const m = moviesOf(job);
  return { ...(await checkProject({ ...m, params: await runnerParams(options) })), visitDir: m.visitDir };
}

export interface Launch {
  run: PlannedRun;
  projectDir: string;
  autoProcProgramId: number;
  movies: number;
  relionJobs: string[];
  ignored: string[];
}

export interface LaunchOptions {
  /** The ISPyB database (URL without password) the job is recorded in; none for the ledger. */
  ispyb: string | undefined;
  /**
   * Start the pipeline now, from this process, rather than when the job's worker starts: for a
   * worker on this machine, which then attaches to it (RELION starts one process start sooner).
   */
  startHere: boolean;
  /** What checkLaunch found for this job and these options (else the project checks again). */
  checked?: CheckedProject;
}

/**
 * Prepares the job's project and registers its program run (queued), and plans the ledger run that
 * processes it. A project that cannot be prepared is recorded as a failed run, with why.
 */
export async function launch(records: ProcessingRecords, job: ProcessingJob, options: RelionOptions, o: LaunchOptions): Promise<Launch> {
  const p = projectOf(job);
  let waiting: WaitingSupervisor | undefined;
  try {
    const prepared = await prepareProject({
      ...p,
      ids: { processingJobId: job.processingJobId, dataCollectionId: job.dataCollectionId },
      params: await runnerParams(options),
      checked: o.checked,
      onFolder: o.startHere ? (folder) => (waiting = waitingSupervisor(folder, p.projectDir)) : undefined,
    }).catch(async (e) => {
      await recordFailure(records, job.processingJobId, `not started: ${errorMessage(e)}`);
      throw e;
    });
    const command = prepared.run.command.map(shellQuote).join(' ');
    const environment = `project=${prepared.projectDir}`;
    const autoProcProgramId = await records.registerProgram(job.processingJobId, {
      programs: PROGRAM,
      // ISPyB keeps 255 characters of each: a longer line is left out rather than cut.
      commandLine: command.length <= 255 ? command : undefined,
      environment: environment.length <= 255 ? environment : undefined,
    });
    if (o.startHere) {
      // A project another prepare made is started the ordinary way: its log is not this supervisor's.
      const supervisor = prepared.here ? waiting : undefined;
      waiting = undefined;
      try {
        await (supervisor ? supervisor.start() : startPipeline(prepared.projectDir));
      } catch (e) {
        await records.finishProgram(autoProcProgramId, { success: false, message: `not started: ${errorMessage(e)}` });
        throw e;
      }
      await records.startProgram(autoProcProgramId);
    }
    return planned(records, job, prepared, autoProcProgramId, o.ispyb);
  } finally {
    void (waiting as WaitingSupervisor | undefined)?.drop();
  }
}

function planned(records: ProcessingRecords, job: ProcessingJob, prepared: PreparedProject, autoProcProgramId: number, ispyb: string | undefined): Launch {
  const params: ProcessParams = { processingJobId: job.processingJobId, autoProcProgramId, ...(ispyb ? { ispyb } : {}) };
  const name = runNameOf(job.processingJobId, ispyb);
  return {
    run: {
      name,
      labels: {
        visit: job.visit,
        dataCollectionId: String(job.dataCollectionId),
        processingJobId: String(job.processingJobId),
        projectDir: prepared.projectDir,
        records: records.where,
      },
      identity: { records: records.where, processingJobId: job.processingJobId },
      // A second attempt is for a worker that died: it attaches to the pipeline, or finds how it ended.
      jobs: [{ kind: PROCESS_JOB, key: 'process', params, maxAttempts: 2 }],
      placement: 'cluster',
      cluster: { name: `ferry-${name}` },
    },
    projectDir: prepared.projectDir,
    autoProcProgramId,
    movies: prepared.run.movies,
    relionJobs: prepared.run.jobs.map((j) => j.name),
    ignored: prepared.run.ignored,
  };
}

/** A program run that ended before it could start, so that the job never shows as waiting forever. */
export async function recordFailure(records: ProcessingRecords, processingJobId: number, message: string): Promise<void> {
  const id = await records.registerProgram(processingJobId, { programs: PROGRAM });
  await records.finishProgram(id, { success: false, message });
}
