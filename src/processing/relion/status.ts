// The state of a processing run, from the project folder alone (so any host that sees the folder can
// ask): the end record if the run ended; else the RUNNING_FERRY marker, whose supervisor must be
// alive, or the run is stale: a crash, kill -9 or lost node. A stale run is ended on the spot as a
// failure (its leftover RELION processes killed when they are on this machine, its RELION jobs
// given an exit file, the marker removed), so it is never shown as running forever.
import { rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { groupOf, isRunning, onThisMachine, signalGroup } from '../local-process.ts';
import { clip, MARKER_FILE, readEndRecord, readMarker, readRunRecord, removeFile, writeEndRecord } from './files.ts';
import type { EndRecord, Marker, Progress, RelionJobState, RunRecord, RunState } from './files.ts';
import { countCorrected, ctfEstimated, EXIT_FILES, failureReason, importedMovies, jobStarted, jobStates } from './outputs.ts';

/** The supervisor touches its marker this often; a marker untouched for STALE_AFTER_MS is stale. */
export const HEARTBEAT_MS = 10_000;
export const STALE_AFTER_MS = 60_000;

export interface PipelineStatus {
  projectDir: string;
  state: RunState;
  /** At most 80 characters. */
  message: string;
  progress: Progress;
  jobs: RelionJobState[];
  startedAt?: string;
  endedAt?: string;
  /** Who runs it, while it runs. */
  runner?: { host: string; pid: number; slurmJobId?: string };
}

export const isEnded = (s: { state: RunState }) => s.state === 'success' || s.state === 'failure' || s.state === 'stopped';

/** Micrographs motion-corrected of the movies found (Import's list once it exists). */
export async function progressOf(projectDir: string, run: RunRecord): Promise<Progress> {
  const importJob = run.jobs.find((j) => j.type === 'Import')!;
  const motionCorr = run.jobs.find((j) => j.type === 'MotionCorr')!;
  const movies = await importedMovies(projectDir, importJob.name);
  const done = movies ? await countCorrected(projectDir, motionCorr.name, movies) : 0;
  return { done, total: movies?.length ?? run.movies, unit: 'micrographs' };
}

const corrected = (p: Progress) => `${p.done}/${p.total} micrographs motion-corrected`;

function runningMessage(jobs: RelionJobState[], progress: Progress): string {
  const current = jobs.find((j) => j.state === 'running') ?? jobs.find((j) => j.state === 'scheduled');
  return clip(`${current ? `${current.type} running: ` : ''}${corrected(progress)}`);
}

/**
 * How a run ended, from RELION's files once relion_pipeliner and its jobs have exited. `stop` says
 * what ended it early: a stop request (stopped), or a signal without one (a failure: e.g. Slurm's
 * time limit, or the node's worker going away).
 */
export async function outcome(
  projectDir: string,
  run: RunRecord,
  /** pipelinerError: why relion_pipeliner itself failed ("killed by SIGKILL", its RELION error). */
  o: { stop?: 'request' | NodeJS.Signals; startedAt?: string; pipelinerError?: string },
): Promise<EndRecord> {
  const jobs = await jobStates(projectDir, run.jobs);
  const progress = await progressOf(projectDir, run);
  const end = (state: EndRecord['state'], message: string): EndRecord => ({
    state,
    message: clip(message),
    startedAt: o.startedAt,
    endedAt: new Date().toISOString(),
    progress,
    jobs,
  });
  // A job aborted without Ferry's request was aborted in RELION itself (the GUI's abort): also a stop.
  if (o.stop === 'request' || (!o.stop && jobs.some((j) => j.state === 'aborted'))) return end('stopped', `stopped: ${corrected(progress)}`);
  if (o.stop) return end('failure', `ended by ${o.stop} before finishing: ${corrected(progress)}`);
  const unfinished = jobs.filter((j) => j.state !== 'success').map((j) => j.name).join(' ');
  // A pipeliner that died took its running job with it: that job's failure is the pipeliner's.
  if (o.pipelinerError) return end('failure', `relion_pipeliner ${unfinished ? `ended before ${unfinished}` : 'failed'}: ${o.pipelinerError}`);
  const failed = jobs.find((j) => j.state === 'failure');
  if (failed) return end('failure', `${failed.name} failed: ${(await failureReason(projectDir, failed.name)) ?? 'see its run.err'}`);
  if (unfinished) return end('failure', `relion_pipeliner ended before ${unfinished}`);
  const ctfJob = jobs.find((j) => j.type === 'CtfFind');
  if (!ctfJob) return end('success', `done: ${corrected(progress)}`);
  // RELION's CtfFind skips each micrograph CTFFIND fails on and still ends in success.
  const ctf = await ctfEstimated(projectDir, ctfJob.name);
  if (ctf === 0 && progress.done > 0) {
    return end('failure', `${ctfJob.name} estimated no CTF (0/${progress.done}): ${(await failureReason(projectDir, ctfJob.name)) ?? 'see its run.err'}`);
  }
  return end('success', `done: ${corrected(progress)}, ${ctf} CTF-estimated`);
}

/**
 * Leaves RELION's view of an ended run consistent: a job that had started and has no exit file gets
 * one (the GUI and pipeliner then show it ended, not running), and the pipeline lock a killed
 * relion_pipeliner may have held is removed (it would block the next RELION command for 2 minutes).
 * Only call once every RELION process of the run is gone.
 */
export async function settleRelionJobs(projectDir: string, run: RunRecord, as: 'aborted' | 'failure'): Promise<void> {
  for (const job of await jobStates(projectDir, run.jobs)) {
    if ((job.state === 'running' || job.state === 'scheduled') && (await jobStarted(projectDir, job.name))) {
      await writeFile(join(projectDir, job.name, EXIT_FILES[as]), '');
    }
  }
  await rm(join(projectDir, '.relion_lock'), { recursive: true, force: true });
}

/**
 * Whether the marker's supervisor still runs: checked directly on its own machine, by heartbeat
 * elsewhere (clocks of the machines sharing the folder must agree to well within STALE_AFTER_MS).
 */
export async function markerLive(projectDir: string, marker: Marker): Promise<boolean> {
  if (onThisMachine(marker.supervisor)) return isRunning(marker.supervisor);
  const touched = await stat(join(projectDir, MARKER_FILE)).then((s) => s.mtimeMs, () => 0);
  return Date.now() - touched < STALE_AFTER_MS;
}

/** Ends a run whose supervisor is gone: kills what is left of it here, records a failure, removes the marker. */
async function endStale(projectDir: string, run: RunRecord, marker: Marker): Promise<EndRecord> {
  const leftovers = marker.pipeliner ? await groupOf(marker.pipeliner) : [];
  if (marker.pipeliner && leftovers.length) {
    await signalGroup(marker.pipeliner, 'SIGKILL');
    for (let i = 0; i < 100 && (await groupOf(marker.pipeliner)).length; i++) await new Promise((r) => setTimeout(r, 50));
  }
  // RELION jobs still running on another (lost) machine are left to that machine's end.
  if (onThisMachine(marker.supervisor)) await settleRelionJobs(projectDir, run, 'failure');
  const where = `pid ${marker.supervisor.pid} on ${marker.supervisor.host}`;
  const why = onThisMachine(marker.supervisor) ? `its supervisor (${where}) is gone` : `no heartbeat from ${where} for ${STALE_AFTER_MS / 1000} s`;
  const progress = await progressOf(projectDir, run);
  await writeEndRecord(projectDir, {
    state: 'failure',
    message: clip(`processing died: ${why}`),
    startedAt: marker.startedAt,
    endedAt: new Date().toISOString(),
    progress,
    jobs: await jobStates(projectDir, run.jobs),
  });
  await removeFile(join(projectDir, MARKER_FILE));
  return (await readEndRecord(projectDir))!;
}

export async function readStatus(projectDir: string): Promise<PipelineStatus> {
  const run = await readRunRecord(projectDir);
  let end = await readEndRecord(projectDir);
  const marker = await readMarker(projectDir);
  if (!end && marker) {
    if (await markerLive(projectDir, marker)) {
      const jobs = await jobStates(projectDir, run.jobs);
      const progress = await progressOf(projectDir, run);
      return {
        projectDir,
        state: 'running',
        message: runningMessage(jobs, progress),
        progress,
        jobs,
        startedAt: marker.startedAt,
        runner: { host: marker.supervisor.host, pid: marker.supervisor.pid, slurmJobId: marker.slurmJobId },
      };
    }
    end = await endStale(projectDir, run, marker);
  } else if (end && marker && !(await markerLive(projectDir, marker))) {
    // The supervisor died between writing its end record and removing the marker.
    await removeFile(join(projectDir, MARKER_FILE));
  }
  if (end) return { projectDir, ...end };
  return {
    projectDir,
    state: 'queued',
    message: `prepared, not started: ${run.movies} movies found`,
    progress: { done: 0, total: run.movies, unit: 'micrographs' },
    jobs: await jobStates(projectDir, run.jobs),
  };
}
