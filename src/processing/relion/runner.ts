// The RELION runner's API, for the relion recipe's handlers (locally or inside a Ferry worker on a
// Slurm node): prepare a project, start its pipeline detached, wait for its end with progress, read
// its status from the folder alone, stop it.
//
//   const { projectDir } = await prepareProject({ visitDir, imageDirectory, fileTemplate, ids, params });
//   const handle = await startPipeline(projectDir);          // returns once RELION is under way
//   const end = await waitForEnd(handle, { signal, onProgress });
//
// The pipeline outlives the process that started it: a worker that dies mid-run leaves it running,
// and the job's next attempt calls startPipeline again, which attaches to it (or, if it died with
// the worker's node, finds it ended as a failure).
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { closeSync, openSync, watch } from 'node:fs';
import type { FSWatcher } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import module from 'node:module';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FerryError } from '../../errors.ts';
import { isRunning, onThisMachine } from '../local-process.ts';
import { clip, END_FILE, LOG_FILE, WHEN_TOLD, MARKER_FILE, readMarker, readRunRecord, STOP_FILE, writeEndRecord } from './files.ts';
import { jobStates } from './outputs.ts';
import { isEnded, markerLive, readStatus } from './status.ts';
import type { PipelineStatus } from './status.ts';

export { checkProject, prepareProject, projectDirFor, visitDirOf } from './project.ts';
export type { CheckedProject, CheckOptions, PrepareOptions, PreparedProject } from './project.ts';
export { readStatus } from './status.ts';
export type { PipelineStatus } from './status.ts';
export { correctedMicrographs, globalShifts } from './outputs.ts';

const SUPERVISOR = fileURLToPath(new URL('./supervise.ts', import.meta.url));

export interface PipelineHandle {
  projectDir: string;
  /** started: by this call; attached: it was already running; ended: it had already ended. */
  how: 'started' | 'attached' | 'ended';
  /** Resolves when the supervisor this call started exits (undefined for attached and ended). */
  exited?: Promise<void>;
}

/**
 * Starts the prepared project's pipeline under a detached supervisor, and resolves once the
 * supervisor holds the RUNNING_FERRY marker and relion_pipeliner is running. Idempotent: a running
 * pipeline is attached to, an ended one is left as it ended.
 */
export async function startPipeline(projectDir: string, o: { env?: NodeJS.ProcessEnv } = {}): Promise<PipelineHandle> {
  await readRunRecord(projectDir);
  return handshake(spawnSupervisor(projectDir, projectDir, false, o.env), projectDir);
}

export interface WaitingSupervisor {
  /** startPipeline, for the project prepared in the folder it was given. */
  start(): Promise<PipelineHandle>;
  /** The project will not be started: the supervisor exits (as it does when this process ends); resolves when it has. */
  drop(): Promise<void>;
}

/**
 * A supervisor started while its project is still being prepared in `folder` (the project folder to
 * be, whose log it writes to): Node loads it beside the preparation, not after it, and it starts the
 * pipeline only when told, so RELION starts sooner after a Start.
 */
export function waitingSupervisor(folder: string, projectDir: string, o: { env?: NodeJS.ProcessEnv } = {}): WaitingSupervisor {
  const child = spawnSupervisor(folder, projectDir, true, o.env);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  // Until told, it must not keep this process alive: its end is this process's end.
  (child.stdin as unknown as { unref?(): void }).unref?.();
  child.unref();
  return {
    start: () => {
      child.stdin!.end('go\n');
      return handshake(child, projectDir);
    },
    drop: () => {
      child.stdin!.destroy();
      return exited;
    },
  };
}

function spawnSupervisor(logFolder: string, projectDir: string, whenTold: boolean, env: NodeJS.ProcessEnv = process.env): ChildProcess {
  const log = openSync(join(logFolder, LOG_FILE), 'a');
  // The supervisor shares this process's compile cache (the CLI's), so its sources are not type-stripped again.
  const cache = module.getCompileCacheDir();
  const child = spawn(process.execPath, [SUPERVISOR, projectDir, ...(whenTold ? [WHEN_TOLD] : [])], {
    detached: true,
    stdio: [whenTold ? 'pipe' : 'ignore', 'pipe', log],
    env: { ...env, ...(cache ? { NODE_COMPILE_CACHE: cache } : {}) },
  });
  closeSync(log);
  return child;
}

/** The supervisor's first line: whether it started the pipeline, attached to it or found it ended. */
async function handshake(child: ChildProcess, projectDir: string): Promise<PipelineHandle> {
  const exited = new Promise<void>((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve() : child.once('exit', () => resolve())));
  const first = await new Promise<string | undefined>((resolve) => {
    let buf = '';
    child.stdout!.on('data', (d: Buffer) => {
      buf += d.toString();
      if (buf.includes('\n')) resolve(buf.slice(0, buf.indexOf('\n')));
    });
    child.stdout!.once('end', () => resolve(undefined));
    child.once('error', () => resolve(undefined));
  });
  child.stdout!.destroy();
  child.unref();
  const said = first ? (JSON.parse(first) as { started?: boolean; attached?: boolean; ended?: boolean; error?: string }) : undefined;
  if (!said || said.error) {
    const tail = (await readFile(join(projectDir, LOG_FILE), 'utf8').catch(() => '')).trim().split('\n').slice(-3).join(' / ');
    throw new FerryError(`could not start the RELION pipeline in ${projectDir}: ${said?.error ?? tail}`, { hint: `see ${join(projectDir, LOG_FILE)}` });
  }
  if (said.started) return { projectDir, how: 'started', exited };
  return { projectDir, how: said.attached ? 'attached' : 'ended' };
}

export interface WaitOptions {
  /** Stops waiting (the pipeline keeps running; startPipeline attaches to it again). */
  signal?: AbortSignal;
  /** Called with each status whose message or progress differs from the last. */
  onProgress?: (s: PipelineStatus) => void;
  pollMs?: number;
}

/** Resolves with the final status (success, failure or stopped); rejects with the signal's reason when aborted. */
export async function waitForEnd(handle: PipelineHandle, o: WaitOptions = {}): Promise<PipelineStatus> {
  const pollMs = o.pollMs ?? 500;
  let last = '';
  // The end record appearing (or the marker going) wakes the wait at once where the file system
  // reports changes, also for a pipeline this process only attached to; polling covers the rest (NFS).
  let wake = () => {};
  let watcher: FSWatcher | undefined;
  try {
    watcher = watch(handle.projectDir, { persistent: false }, (_, name) => {
      if (name === END_FILE || name === MARKER_FILE) wake();
    });
    watcher.on('error', () => watcher?.close());
  } catch {
    // No change notification here (a full inotify table, an unsupported file system): polling it is.
  }
  try {
    for (;;) {
      o.signal?.throwIfAborted();
      const s = await readStatus(handle.projectDir);
      const seen = `${s.state} ${s.message} ${s.progress.done}/${s.progress.total}`;
      if (seen !== last) {
        last = seen;
        o.onProgress?.(s);
      }
      // Over once the supervisor has also removed its marker (it writes the end record just before).
      if (isEnded(s) && !(await supervisorFinishing(handle.projectDir))) return s;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, pollMs);
        function done() {
          clearTimeout(timer);
          o.signal?.removeEventListener('abort', done);
          resolve();
        }
        wake = done;
        o.signal?.addEventListener('abort', done, { once: true });
        // The supervisor's exit is the end: no need to wait for the next poll.
        void handle.exited?.then(done);
      });
    }
  } finally {
    watcher?.close();
  }
}

/** Whether the run's supervisor is still alive, between writing the end record and removing its marker. */
async function supervisorFinishing(projectDir: string): Promise<boolean> {
  const marker = await readMarker(projectDir);
  return marker !== undefined && (await markerLive(projectDir, marker));
}

export interface StopOptions {
  /** How long to wait for the run to end (default 30 s: RELION's abort, then its processes ended). */
  timeoutMs?: number;
}

/**
 * Stops a run: a stop request its supervisor acts on (RELION_JOB_ABORT_NOW in the running jobs, then
 * the pipeliner's process group is ended), and a SIGTERM to the supervisor when it runs on this
 * machine. Resolves with the final status (stopped). A run that already ended is an error; a run
 * prepared but never started is ended as stopped, so that it never starts.
 */
export async function stopPipeline(projectDir: string, o: StopOptions = {}): Promise<PipelineStatus> {
  const s = await readStatus(projectDir);
  if (isEnded(s)) {
    throw new FerryError(`the processing in ${projectDir} has already ended (${s.state}: ${s.message})`, {
      hint: 'there is nothing to stop',
      code: 'ALREADY_ENDED',
    });
  }
  if (s.state === 'queued') {
    const run = await readRunRecord(projectDir);
    await writeEndRecord(projectDir, {
      state: 'stopped',
      message: clip('stopped before it started'),
      endedAt: new Date().toISOString(),
      progress: s.progress,
      jobs: await jobStates(projectDir, run.jobs),
    });
    return readStatus(projectDir);
  }
  await writeFile(join(projectDir, STOP_FILE), `${JSON.stringify({ requestedAt: new Date().toISOString(), host: hostname(), pid: process.pid })}\n`);
  const marker = await readMarker(projectDir);
  if (marker && onThisMachine(marker.supervisor) && (await isRunning(marker.supervisor))) {
    try {
      process.kill(marker.supervisor.pid, 'SIGTERM');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ESRCH') throw e;
    }
  }
  const deadline = Date.now() + (o.timeoutMs ?? 30_000);
  for (;;) {
    const now = await readStatus(projectDir);
    if (isEnded(now)) return now;
    if (Date.now() > deadline) {
      const who = marker?.supervisor;
      throw new FerryError(`the processing in ${projectDir} did not stop within ${Math.round((o.timeoutMs ?? 30_000) / 1000)} s`, {
        hint: marker?.slurmJobId
          ? `it runs in Slurm job ${marker.slurmJobId} on ${who?.host}: scancel ${marker.slurmJobId}`
          : `its supervisor is pid ${who?.pid} on ${who?.host}; the stop request stays in ${STOP_FILE}`,
        exitCode: 1,
      });
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}
