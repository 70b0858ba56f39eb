// Stopping a processing job (the processing side of SynchWeb's Stop): no worker may start it again
// (its ledger job is cancelled), its pipeline is stopped (RELION's abort markers, then the process
// group; scancel when its Slurm node does not act on the request), and its program run ends with
// status 0 and a message that starts with "stopped". Old records are never changed otherwise.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { FerryError, errorMessage } from '../../errors.ts';
import type { Ledger } from '../../ledger/ledger.ts';
import type { ProcessingJob, ProcessingRecords } from '../../processing/records.ts';
import { isActive } from '../../processing/status.ts';
import { exists, readMarker, RUN_FILE } from '../../processing/relion/files.ts';
import { readStatus, stopPipeline } from '../../processing/relion/runner.ts';
import type { PipelineStatus } from '../../processing/relion/runner.ts';
import { isEnded } from '../../processing/relion/status.ts';
import { join } from 'node:path';
import { PROGRAM, projectOf } from './launch.ts';
import { runNameOf } from './records.ts';

export interface Stopped {
  processingJobId: number;
  autoProcProgramId: number;
  /** How the pipeline ended: stopped, or (when it ended on its own meanwhile) success or failure. */
  state: 'stopped' | 'success' | 'failure';
  message: string;
  projectDir?: string;
  /** Ledger jobs cancelled so that no worker starts the job again. */
  cancelledJobs: number;
}

export function alreadyEnded(job: ProcessingJob): FerryError {
  return new FerryError(`processing job ${job.processingJobId} has already ended (${job.status}${job.program?.message ? `: ${job.program.message}` : ''})`, {
    hint: 'there is nothing to stop; start it again with ferry relion start ... (add --stop-and-restart while another job of its data collection runs)',
    code: 'AlreadyEnded',
  });
}

/** A stop that waits this long for the pipeline, then asks Slurm, then waits as long again. */
const STOP_WAIT_MS = 30_000;

export async function stopProcessing(
  records: ProcessingRecords,
  job: ProcessingJob,
  o: { ispyb: string | undefined; ledger?: () => Promise<Ledger> },
): Promise<Stopped> {
  if (!isActive(job.status)) throw alreadyEnded(job);
  let cancelledJobs = 0;
  if (o.ledger) {
    const ledger = await o.ledger();
    const run = await ledger.findRun(runNameOf(job.processingJobId, o.ispyb));
    if (run) cancelledJobs = (await ledger.cancel({ runId: run.id })).length;
  }
  let projectDir: string | undefined;
  try {
    projectDir = projectOf(job).projectDir;
  } catch {
    // A job recorded by another tool, with movies outside a visit folder: it has no Ferry project.
  }
  let end: PipelineStatus | undefined;
  if (projectDir && (await exists(join(projectDir, RUN_FILE)))) {
    end = await readStatus(projectDir);
    if (!isEnded(end)) end = await stopWithin(projectDir);
  }
  const state = end?.state === 'success' || end?.state === 'failure' ? end.state : 'stopped';
  const message = end?.message ?? 'stopped before it started';
  // The job's open run, or (a job no processing side took up yet) one registered to carry the stop.
  const open = job.program && job.program.status === null ? job.program.autoProcProgramId : undefined;
  const autoProcProgramId = open ?? (await records.registerProgram(job.processingJobId, { programs: PROGRAM }));
  await records.finishProgram(autoProcProgramId, { success: state === 'success', message });
  return { processingJobId: job.processingJobId, autoProcProgramId, state, message, projectDir, cancelledJobs };
}

/** stopPipeline; if the run does not end in time and lives in a Slurm job, that job is cancelled. */
async function stopWithin(projectDir: string): Promise<PipelineStatus> {
  try {
    return await stopPipeline(projectDir, { timeoutMs: STOP_WAIT_MS });
  } catch (e) {
    if (e instanceof FerryError && e.code === 'ALREADY_ENDED') return readStatus(projectDir);
    const slurmJobId = (await readMarker(projectDir))?.slurmJobId;
    if (!slurmJobId) throw e;
    try {
      await promisify(execFile)('scancel', [slurmJobId], { timeout: 30_000 });
    } catch (s) {
      throw new FerryError(`${errorMessage(e)}; scancel ${slurmJobId} failed too: ${errorMessage(s)}`, { kind: 'environment' });
    }
    return stopPipeline(projectDir, { timeoutMs: STOP_WAIT_MS }).catch(async (again: unknown) => {
      if (again instanceof FerryError && again.code === 'ALREADY_ENDED') return readStatus(projectDir);
      throw again;
    });
  }
}
