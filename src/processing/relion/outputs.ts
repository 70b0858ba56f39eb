// What RELION itself says about a project: job states from default_pipeline.star and the
// RELION_JOB_EXIT_* files its programs leave in their job folders, the movies Import found, the
// micrographs MotionCorr has finished, and the per-frame shifts it measured.
import { readdir, readFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { findBlock, parseStar, tableRecords } from '../../formats/star.ts';
import type { StarBlock } from '../../formats/star.ts';
import { exists, PIPELINE_STAR, readIfExists } from './files.ts';
import type { RelionJobState, RunRecord } from './files.ts';

export const EXIT_FILES = {
  success: 'RELION_JOB_EXIT_SUCCESS',
  failure: 'RELION_JOB_EXIT_FAILURE',
  aborted: 'RELION_JOB_EXIT_ABORTED',
} as const;
export const ABORT_NOW = 'RELION_JOB_ABORT_NOW';

/** default_pipeline.star's process status codes. */
const PIPELINE_CODES: Record<string, RelionJobState['state']> = {
  '0': 'running',
  '1': 'scheduled',
  '2': 'success',
  '3': 'failure',
  '4': 'aborted',
};

async function readStar(path: string): Promise<StarBlock[] | undefined> {
  const text = await readIfExists(path);
  return text === undefined ? undefined : parseStar(text, path);
}

/** default_pipeline.star's status of each process; empty while RELION is rewriting the file. */
async function pipelineCodes(projectDir: string): Promise<Map<string, string>> {
  try {
    const blocks = await readStar(join(projectDir, PIPELINE_STAR));
    return new Map(tableRecords(findBlock(blocks ?? [], 'pipeline_processes')).map((r) => [r.rlnPipeLineProcessName, r.rlnPipeLineProcessStatus]));
  } catch {
    // relion_pipeliner writes the file in place; a read during a write sees a torn file.
    return new Map();
  }
}

/**
 * Each job's state: its exit file when there is one (what RELION's programs write as they end, and
 * what the pipeliner itself reads), else the pipeline's status code.
 */
export async function jobStates(projectDir: string, jobs: RunRecord['jobs']): Promise<RelionJobState[]> {
  const codes = await pipelineCodes(projectDir);
  const out: RelionJobState[] = [];
  for (const job of jobs) {
    let state: RelionJobState['state'] | undefined;
    for (const [s, file] of Object.entries(EXIT_FILES)) {
      if (await exists(join(projectDir, job.name, file))) state = s as RelionJobState['state'];
    }
    out.push({ ...job, state: state ?? PIPELINE_CODES[codes.get(job.name) ?? '1'] ?? 'scheduled' });
  }
  return out;
}

/** Whether the pipeliner has started the job (it writes run.out as it launches the command). */
export const jobStarted = (projectDir: string, jobName: string) => exists(join(projectDir, jobName, 'run.out'));

/** Movies Import listed (relative to the project), or undefined before Import has written movies.star. */
export async function importedMovies(projectDir: string, importJob: string): Promise<string[] | undefined> {
  const blocks = await readStar(join(projectDir, importJob, 'movies.star')).catch(() => undefined);
  const movies = blocks && findBlock(blocks, 'movies');
  return movies ? tableRecords(movies).map((r) => r.rlnMicrographMovieName) : undefined;
}

/** MotionCorr's micrograph for a movie: dots in the name become underscores (motioncorr_runner.cpp). */
export function correctedMicrograph(motionCorrJob: string, movie: string): string {
  const root = movie.replace(/\.[^./]*$/, '').replaceAll('.', '_');
  return `${motionCorrJob}${root}.mrc`;
}

/**
 * Movies MotionCorr has finished: the micrograph and its metadata STAR exist (RELION's own test for
 * a finished movie). One listing per output folder, not two lookups per movie: status is polled.
 */
export async function countCorrected(projectDir: string, motionCorrJob: string, movies: string[]): Promise<number> {
  const listings = new Map<string, Promise<Set<string>>>();
  let done = 0;
  for (const movie of movies) {
    const mic = correctedMicrograph(motionCorrJob, movie);
    const dir = dirname(mic);
    let names = listings.get(dir);
    if (!names) {
      names = readdir(join(projectDir, dir)).then((n) => new Set(n), () => new Set<string>());
      listings.set(dir, names);
    }
    const files = await names;
    const base = basename(mic);
    if (files.has(base) && files.has(base.replace(/\.mrc$/, '.star'))) done++;
  }
  return done;
}

export interface CorrectedMicrograph {
  micrograph: string;
  metadata: string;
  accumMotionTotal: number;
}

/** corrected_micrographs.star of a finished MotionCorr job. */
export async function correctedMicrographs(projectDir: string, motionCorrJob: string): Promise<CorrectedMicrograph[]> {
  const blocks = await readStar(join(projectDir, motionCorrJob, 'corrected_micrographs.star'));
  return tableRecords(findBlock(blocks ?? [], 'micrographs')).map((r) => ({
    micrograph: r.rlnMicrographName,
    metadata: r.rlnMicrographMetadata,
    accumMotionTotal: Number(r.rlnAccumMotionTotal),
  }));
}

/** Per-frame global shifts (pixels) of one micrograph, from its metadata STAR's data_global_shift. */
export async function globalShifts(projectDir: string, metadataStar: string): Promise<Array<{ frame: number; x: number; y: number }>> {
  const blocks = await readStar(join(projectDir, metadataStar));
  return tableRecords(findBlock(blocks ?? [], 'global_shift')).map((r) => ({
    frame: Number(r.rlnMicrographFrameNumber),
    x: Number(r.rlnMicrographShiftX),
    y: Number(r.rlnMicrographShiftY),
  }));
}

/** Micrographs a CtfFind job has estimated the CTF of (the rows of its micrographs_ctf.star). */
export async function ctfEstimated(projectDir: string, ctfJob: string): Promise<number> {
  const blocks = await readStar(join(projectDir, ctfJob, 'micrographs_ctf.star'));
  return tableRecords(findBlock(blocks ?? [], 'micrographs')).length;
}

/**
 * What a failed job's run.err says went wrong: the message of RELION's error ("ERROR: " on a line of
 * its own, the message on the next), else the first line (what the program RELION wraps printed).
 */
export async function failureReason(projectDir: string, jobName: string): Promise<string | undefined> {
  const text = await readFile(join(projectDir, jobName, 'run.err'), 'utf8').catch(() => '');
  return errorMessageIn(text);
}

export function errorMessageIn(text: string): string | undefined {
  // RELION's own complaint when ghostscript is missing is not why a job failed.
  const lines = text.split('\n').map((l) => l.trim()).filter((l) => l && !/^ERROR in executing: gs /.test(l));
  for (let i = lines.length - 1; i >= 0; i--) {
    const m = /^ERROR:?\s*(.*)$/.exec(lines[i]);
    if (m) return m[1] || lines[i + 1];
  }
  return lines[0];
}
