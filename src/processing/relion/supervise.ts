// The supervisor of one RELION run: `node supervise.ts PROJECT_DIR`, started detached (its own
// process group, output to ferry_pipeline.log) by startPipeline. It owns the RUNNING_FERRY marker:
// claims it, runs relion_pipeliner in a process group of its own (RELION starts its jobs in the
// background of a shell, so they stay in that group), touches the marker as a heartbeat, stops the
// run on a stop request or a signal, and when the pipeliner has ended and no process of its group is
// left, writes the end record and removes the marker. Its first line on stdout tells the starter
// what happened: {"started":true}, {"attached":true} (another supervisor runs it) or {"ended":true}.
import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { readFile, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { errorMessage } from '../../errors.ts';
import { groupOf, identify, signalGroup } from '../local-process.ts';
import type { ProcessIdentity } from '../local-process.ts';
import { relionEnv } from './binaries.ts';
import {
  claimMarker, clip, exists, LOG_FILE, MARKER_FILE, readEndRecord, readRunRecord, removeFile, replaceMarker, STOP_FILE, WHEN_TOLD, writeEndRecord,
} from './files.ts';
import type { Marker, RunRecord } from './files.ts';
import { ABORT_NOW, errorMessageIn, jobStarted, jobStates } from './outputs.ts';
import { HEARTBEAT_MS, outcome, progressOf, readStatus, settleRelionJobs } from './status.ts';

/**
 * After RELION's abort markers, the pipeliner gets this long to end by itself before its group is
 * ended; less after a signal, which on a cluster comes a few seconds before SIGKILL (Slurm's KillWait).
 */
const ABORT_GRACE_MS = { request: 5_000, signal: 1_000 };
const TERM_GRACE_MS = 2_000;
const STOP_POLL_MS = 500;

const projectDir = process.argv[2];
const say = (msg: object): void => void process.stdout.write(`${JSON.stringify(msg)}\n`);
const log = (msg: string) => process.stderr.write(`[ferry supervisor ${new Date().toISOString()}] ${msg}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitGroupGone(leader: ProcessIdentity | undefined): Promise<void> {
  if (!leader) return;
  if ((await groupOf(leader)).length) {
    // The pipeliner has ended; what is left of its group are RELION jobs nobody will wait for.
    log('ending the RELION processes the pipeliner left behind');
    await signalGroup(leader, 'SIGKILL');
  }
  while ((await groupOf(leader)).length) await sleep(50);
}

/** Why relion_pipeliner failed: killed, or the RELION error it printed to the log. */
async function pipelinerError(code: number | null, signal: NodeJS.Signals | null): Promise<string | undefined> {
  if (signal) return `killed by ${signal}`;
  if (!code) return undefined;
  const text = await readFile(join(projectDir, LOG_FILE), 'utf8').catch(() => '');
  return errorMessageIn(text.split('\n').filter((l) => !l.startsWith('[ferry supervisor')).join('\n')) ?? `exited with ${code}`;
}

async function supervise(run: RunRecord, marker: Marker): Promise<void> {
  const out = openSync(join(projectDir, LOG_FILE), 'a');
  const pipeliner = spawn(join(run.relionBin, run.command[0]), run.command.slice(1), {
    cwd: projectDir,
    env: relionEnv(run.relionBin),
    detached: true,
    stdio: ['ignore', out, out],
  });
  closeSync(out);
  const exited = new Promise<[number | null, NodeJS.Signals | null]>((resolve) => pipeliner.once('exit', (c, s) => resolve([c, s])));
  const spawnError = new Promise<Error>((resolve) => pipeliner.once('error', resolve));
  if (pipeliner.pid !== undefined) marker.pipeliner = await identify(pipeliner.pid);
  await replaceMarker(projectDir, marker);
  say({ started: true, pid: process.pid });
  log(`started ${run.command.join(' ')} (pid ${pipeliner.pid})`);

  let stop: 'request' | NodeJS.Signals | undefined;
  const requestStop = async (why: 'request' | NodeJS.Signals) => {
    if (stop) return;
    stop = why;
    // A signal that follows a stop request (stopPipeline signals the supervisor after writing it) is that request.
    if (why !== 'request' && (await exists(join(projectDir, STOP_FILE)))) stop = 'request';
    log(`stopping (${stop === 'request' ? 'stop requested' : why})`);
    // RELION's own way first: its programs check for this file and end as aborted.
    for (const job of await jobStates(projectDir, run.jobs)) {
      if ((job.state === 'running' || job.state === 'scheduled') && (await jobStarted(projectDir, job.name))) {
        await writeFile(join(projectDir, job.name, ABORT_NOW), '');
      }
    }
    await Promise.race([exited, sleep(stop === 'request' ? ABORT_GRACE_MS.request : ABORT_GRACE_MS.signal)]);
    if (pipeliner.exitCode === null && pipeliner.signalCode === null && marker.pipeliner) {
      // The pipeliner sleeps between checks and ignores a job that does not see the abort: end them.
      await signalGroup(marker.pipeliner, 'SIGTERM');
      await Promise.race([exited, sleep(TERM_GRACE_MS)]);
      await signalGroup(marker.pipeliner, 'SIGKILL');
    }
  };
  for (const sig of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.on(sig, () => void requestStop(sig));
  const heartbeat = setInterval(() => {
    const now = new Date();
    void utimes(join(projectDir, MARKER_FILE), now, now).catch((e) => log(`heartbeat: ${errorMessage(e)}`));
  }, HEARTBEAT_MS);
  const stopPoll = setInterval(() => {
    void exists(join(projectDir, STOP_FILE)).then((yes) => (yes ? requestStop('request') : undefined));
  }, STOP_POLL_MS);

  const ended = await Promise.race([exited, spawnError]);
  clearInterval(stopPoll);
  clearInterval(heartbeat);
  let error: string | undefined;
  if (ended instanceof Error) {
    error = `could not start relion_pipeliner: ${ended.message}`;
  } else {
    error = await pipelinerError(...ended);
    await waitGroupGone(marker.pipeliner);
  }
  log(`relion_pipeliner ended${error ? `: ${error}` : ''}`);
  if (stop && (await exists(join(projectDir, STOP_FILE)))) stop = 'request';
  await settleRelionJobs(projectDir, run, stop === 'request' ? 'aborted' : 'failure');
  const end = await outcome(projectDir, run, { stop, startedAt: marker.startedAt, pipelinerError: error });
  await finish(end);
}

async function finish(end: Parameters<typeof writeEndRecord>[1]): Promise<void> {
  await writeEndRecord(projectDir, end);
  await removeFile(join(projectDir, STOP_FILE));
  await removeFile(join(projectDir, MARKER_FILE));
  log(`ended: ${end.state}: ${end.message}`);
}

/** Started ahead of its project (WHEN_TOLD): true once told to go, false when the starter went away. */
async function told(): Promise<boolean> {
  let text = '';
  for await (const chunk of process.stdin) {
    text += chunk;
    if (text.includes('\n')) break;
  }
  return text.startsWith('go\n');
}

async function main(): Promise<void> {
  // While it waits, the store driver it writes the marker with loads too.
  if (process.argv[3] === WHEN_TOLD && !(await Promise.all([told(), import('../../storage/file.ts')]))[0]) return;
  const run = await readRunRecord(projectDir);
  if (await readEndRecord(projectDir)) return say({ ended: true });
  const me = (await identify(process.pid))!;
  const marker: Marker = { supervisor: me, startedAt: new Date().toISOString(), slurmJobId: process.env.SLURM_JOB_ID };
  if (!(await claimMarker(projectDir, marker))) {
    // Another supervisor holds the run, or held it and died: reading the status ends a stale one.
    return say((await readStatus(projectDir)).state === 'running' ? { attached: true } : { ended: true });
  }
  // A stop may have ended the prepared run between the check above and the claim.
  if (await readEndRecord(projectDir)) {
    await removeFile(join(projectDir, MARKER_FILE));
    return say({ ended: true });
  }
  try {
    await supervise(run, marker);
  } catch (e) {
    log(`supervisor failed: ${e instanceof Error ? e.stack : String(e)}`);
    if (marker.pipeliner) {
      await signalGroup(marker.pipeliner, 'SIGKILL');
      await waitGroupGone(marker.pipeliner);
    }
    await settleRelionJobs(projectDir, run, 'failure').catch(() => {});
    await finish({
      state: 'failure',
      message: clip(`Ferry's supervisor failed: ${errorMessage(e)}`),
      startedAt: marker.startedAt,
      endedAt: new Date().toISOString(),
      progress: await progressOf(projectDir, run).catch(() => ({ done: 0, total: run.movies, unit: 'micrographs' as const })),
      jobs: await jobStates(projectDir, run.jobs).catch(() => []),
    });
    process.exitCode = 1;
  }
}

await main().catch((e) => {
  say({ error: errorMessage(e) });
  log(`cannot supervise ${projectDir}: ${e instanceof Error ? e.stack : String(e)}`);
  process.exitCode = 1;
});
