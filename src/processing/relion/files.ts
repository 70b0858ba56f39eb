// The files Ferry keeps in a RELION project folder next to RELION's own, and their records:
//   ferry_run.json      what was asked (ids, image folder, options, RELION jobs, the command), written
//                       once when the project is prepared;
//   RUNNING_FERRY       exists exactly while the pipeline runs: who runs it (host, boot, pid and
//                       start time of the supervisor and of relion_pipeliner), touched as a heartbeat;
//   ferry_end.json      how the run ended, written before RUNNING_FERRY is removed;
//   FERRY_STOP_NOW      a stop request for the supervisor (works from any host that sees the folder);
//   ferry_pipeline.log  output of the supervisor and relion_pipeliner.
import { access, readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { FerryError } from '../../errors.ts';
import { writeLocalFile } from '../../storage/location.ts';
import type { ProcessIdentity } from '../local-process.ts';
import type { JobType, RelionParams } from './options.ts';

export const RUN_FILE = 'ferry_run.json';
export const MARKER_FILE = 'RUNNING_FERRY';
export const END_FILE = 'ferry_end.json';
export const STOP_FILE = 'FERRY_STOP_NOW';
export const LOG_FILE = 'ferry_pipeline.log';
export const PIPELINE_STAR = 'default_pipeline.star';
/** relion_pipeliner --schedule name: RELION logs the schedule to pipeline_ferry.log. */
export const SCHEDULE = 'ferry';
/** The supervisor's flag for waiting, before anything else, for "go" on its stdin (and exiting at its end). */
export const WHEN_TOLD = '--when-told';

export type EndState = 'success' | 'failure' | 'stopped';
export type RunState = 'queued' | 'running' | EndState;

export interface RunRecord {
  /** The ids the project is named from and recorded under (processingJobId at least). */
  ids: Record<string, string | number>;
  visitDir: string;
  imageDirectory: string;
  fileTemplate: string;
  /** Movies that matched the template when the project was prepared. */
  movies: number;
  params: RelionParams;
  ignored: string[];
  /** RELION's job folders in the order they run, e.g. Import/job001/. */
  jobs: Array<{ type: JobType; name: string }>;
  /** Folder of the RELION programs, put first on PATH for the pipeliner and its jobs. */
  relionBin: string;
  relionVersion: string;
  /** argv of the relion_pipeliner run, relative to the project folder. */
  command: string[];
  preparedAt: string;
}

export interface Marker {
  supervisor: ProcessIdentity;
  /** relion_pipeliner, leader of the process group its RELION jobs run in. */
  pipeliner?: ProcessIdentity;
  /** The Slurm job the run lives in, if any: `scancel` it when its node no longer answers. */
  slurmJobId?: string;
  startedAt: string;
}

export interface Progress {
  done: number;
  total: number;
  unit: 'micrographs';
}

export interface RelionJobState {
  name: string;
  type: JobType;
  state: 'scheduled' | 'running' | 'success' | 'failure' | 'aborted';
}

export interface EndRecord {
  state: EndState;
  /** At most 80 characters (the length ISPyB's program message is shown at). */
  message: string;
  startedAt?: string;
  endedAt: string;
  progress: Progress;
  jobs: RelionJobState[];
}

export const MESSAGE_MAX = 80;

export function clip(message: string): string {
  const one = message.replace(/\s+/g, ' ').trim();
  return one.length <= MESSAGE_MAX ? one : `${one.slice(0, MESSAGE_MAX - 3)}...`;
}

export const exists = (path: string) => access(path).then(() => true, () => false);

/** A file's text, or undefined when there is no such file. */
export async function readIfExists(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

async function readJson<T>(path: string): Promise<T | undefined> {
  const text = await readIfExists(path);
  return text === undefined ? undefined : (JSON.parse(text) as T);
}

export async function readRunRecord(projectDir: string): Promise<RunRecord> {
  const run = await readJson<RunRecord>(join(projectDir, RUN_FILE));
  if (!run) {
    throw new FerryError(`${projectDir} is not a RELION project prepared by Ferry (no ${RUN_FILE})`, {
      hint: 'give the project folder ferry relion start printed',
    });
  }
  return run;
}

export const readMarker = (projectDir: string) => readJson<Marker>(join(projectDir, MARKER_FILE));
export const readEndRecord = (projectDir: string) => readJson<EndRecord>(join(projectDir, END_FILE));

/** Writes the end record unless one exists (the first account of an ending wins); true if written. */
export async function writeEndRecord(projectDir: string, end: EndRecord): Promise<boolean> {
  return writeLocalFile(join(projectDir, END_FILE), `${JSON.stringify(end, null, 2)}\n`, { ifAbsent: true });
}

/** Creates the marker only if none exists: two supervisors never both run one project. */
export async function claimMarker(projectDir: string, marker: Marker): Promise<boolean> {
  return writeLocalFile(join(projectDir, MARKER_FILE), `${JSON.stringify(marker)}\n`, { ifAbsent: true });
}

export async function replaceMarker(projectDir: string, marker: Marker): Promise<void> {
  await writeLocalFile(join(projectDir, MARKER_FILE), `${JSON.stringify(marker)}\n`);
}

export async function removeFile(path: string): Promise<void> {
  await unlink(path).catch((e: NodeJS.ErrnoException) => {
    if (e.code !== 'ENOENT') throw e;
  });
}
