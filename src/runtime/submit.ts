// Starting N workers at once: as one Slurm job array, one LSF job array, or N local processes.
// Every worker gets the ledger's absolute location so that it finds the ledger from any node.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { FerryError } from '../errors.ts';

export type SchedulerName = 'local' | 'slurm' | 'lsf';

export interface SubmitOptions {
  scheduler: SchedulerName;
  workers: number;
  /** Resolved ledger location (absolute path or postgres URL). */
  ledger: string;
  name?: string;
  queue?: string;
  time?: string;
  mem?: string;
  project?: string;
  logDir: string;
  /** Extra `ferry work` arguments: --run, --kinds, --concurrency, --lease, --grace. */
  workArgs: string[];
}

export interface Submission {
  scheduler: SchedulerName;
  /** argv of the one command (slurm, lsf); for local, of each worker. */
  argv: string[];
}

const FERRY_BIN = fileURLToPath(new URL('../../bin/ferry.js', import.meta.url));

/**
 * What a user should hear before cluster workers share a SQLite ledger: they all write one file
 * over the cluster's file system, whose locking (NFS, Lustre) SQLite cannot trust, one at a time.
 */
export function sharedLedgerWarning(o: Pick<SubmitOptions, 'scheduler' | 'workers' | 'ledger'>): string | undefined {
  if (o.scheduler === 'local' || /^postgres(ql)?:\/\//i.test(o.ledger)) return undefined;
  return (
    `${o.workers} ${o.scheduler} worker(s) will share the SQLite ledger ${o.ledger}: it must be on a file system every node ` +
    'sees with working locks (not NFS), and its writers take turns; for more than a few workers use PostgreSQL (--ledger postgres://... or FERRY_LEDGER)'
  );
}

export function workerArgv(o: SubmitOptions): string[] {
  return [process.execPath, FERRY_BIN, 'work', '--ledger', o.ledger, '--until-empty', ...o.workArgs];
}

export function buildSubmission(o: SubmitOptions): Submission {
  if (!Number.isInteger(o.workers) || o.workers < 1) {
    throw new FerryError(`--workers must be a whole number of at least 1, got ${o.workers}`);
  }
  const name = o.name ?? 'ferry-work';
  const minutes = o.time === undefined ? undefined : parseMinutes(o.time);
  const memMb = o.mem === undefined ? undefined : parseMegabytes(o.mem);
  const work = workerArgv(o);
  if (o.scheduler === 'slurm') {
    return {
      scheduler: 'slurm',
      argv: [
        'sbatch',
        '--parsable',
        `--job-name=${name}`,
        `--array=1-${o.workers}`,
        ...(o.queue ? [`--partition=${o.queue}`] : []),
        ...(minutes !== undefined ? [`--time=${minutes}`] : []),
        ...(memMb !== undefined ? [`--mem=${memMb}M`] : []),
        ...(o.project ? [`--account=${o.project}`] : []),
        `--output=${path.join(o.logDir, `${name}-%A_%a.out`)}`,
        // exec: the worker itself receives the SIGTERM that Slurm sends at the time limit or scancel.
        '--wrap',
        `exec ${work.map(shellQuote).join(' ')}`,
      ],
    };
  }
  if (o.scheduler === 'lsf') {
    return {
      scheduler: 'lsf',
      argv: [
        'bsub',
        '-J',
        `${name}[1-${o.workers}]`,
        ...(o.queue ? ['-q', o.queue] : []),
        ...(minutes !== undefined ? ['-W', `${Math.floor(minutes / 60)}:${String(minutes % 60).padStart(2, '0')}`] : []),
        ...(memMb !== undefined ? ['-M', `${memMb}MB`, '-R', `rusage[mem=${memMb}MB]`] : []),
        ...(o.project ? ['-P', o.project] : []),
        '-o',
        path.join(o.logDir, `${name}-%J_%I.out`),
        ...work,
      ],
    };
  }
  if (o.scheduler === 'local') return { scheduler: 'local', argv: work };
  throw new FerryError(`unknown scheduler ${o.scheduler as string}`, { hint: 'use --scheduler local, slurm or lsf' });
}

/** What `--dry-run` prints: the exact command, pasteable into a shell. */
export function describe(s: Submission, workers: number): string {
  const line = s.argv.map(shellQuote).join(' ');
  return s.scheduler === 'local' ? `${workers} x: ${line}` : line;
}

/** Runs the submission; returns the scheduler's job id (local: the worker pids). */
export function submit(s: Submission, o: SubmitOptions): string {
  fs.mkdirSync(o.logDir, { recursive: true });
  if (s.scheduler === 'local') {
    const pids: number[] = [];
    for (let i = 1; i <= o.workers; i++) {
      const log = fs.openSync(path.join(o.logDir, `${o.name ?? 'ferry-work'}-local-${Date.now()}-${i}.out`), 'a');
      const child = spawn(s.argv[0], s.argv.slice(1), { detached: true, stdio: ['ignore', log, log] });
      fs.closeSync(log);
      child.unref();
      pids.push(child.pid!);
    }
    return pids.join(',');
  }
  const r = spawnSync(s.argv[0], s.argv.slice(1), { encoding: 'utf8' });
  if (r.error) {
    const code = (r.error as NodeJS.ErrnoException).code;
    throw new FerryError(`could not run ${s.argv[0]} (${code === 'ENOENT' ? 'not found on PATH' : r.error.message})`, {
      hint: `run ferry submit on a machine where ${s.scheduler === 'slurm' ? 'Slurm' : 'LSF'} is installed, or use --scheduler local`,
    });
  }
  if (r.status !== 0) {
    throw new FerryError(`${s.argv[0]} refused the job: ${(r.stderr || r.stdout).trim()}`, {
      hint: 'check the queue/partition, time, memory and project against the cluster limits; --dry-run shows the command',
    });
  }
  const id = s.scheduler === 'slurm' ? r.stdout.trim().split(';')[0] : /Job <(\d+)>/.exec(r.stdout)?.[1];
  if (!id) throw new FerryError(`${s.argv[0]} did not print a job id: ${r.stdout.trim()}`);
  return id;
}

/** Accepts minutes ("90"), "H:MM", "H:MM:SS", "D-H:MM:SS" (as Slurm does) or "2h", "30m", "1d". */
export function parseMinutes(t: string): number {
  const unit = /^(\d+(?:\.\d+)?)([mhd])$/.exec(t.trim());
  if (unit) return Math.ceil(Number(unit[1]) * { m: 1, h: 60, d: 1440 }[unit[2] as 'm' | 'h' | 'd']);
  const m = /^(?:(\d+)-)?(\d+)(?::(\d+))?(?::(\d+))?$/.exec(t.trim());
  if (m) {
    const [days, a, b, c] = [Number(m[1] ?? 0), Number(m[2]), m[3], m[4]];
    if (b === undefined && !m[1]) return a;
    const [h, min, s] = c !== undefined ? [a, Number(b), Number(c)] : [a, Number(b ?? 0), 0];
    return days * 1440 + h * 60 + min + Math.ceil(s / 60);
  }
  throw new FerryError(`cannot read the time limit "${t}"`, { hint: 'write it as minutes (90), H:MM (1:30), H:MM:SS, or 2h / 30m / 1d' });
}

/** Accepts "4G", "4GB", "512M", "512MB", "2T" or plain megabytes. */
export function parseMegabytes(m: string): number {
  const r = /^(\d+(?:\.\d+)?)\s*([kmgt]?)i?b?$/i.exec(m.trim());
  if (!r) throw new FerryError(`cannot read the memory "${m}"`, { hint: 'write it like 4G, 512M or 2048 (megabytes)' });
  const factor = { '': 1, k: 1 / 1024, m: 1, g: 1024, t: 1024 * 1024 }[r[2].toLowerCase() as '' | 'k' | 'm' | 'g' | 't'];
  return Math.ceil(Number(r[1]) * factor);
}

export function shellQuote(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}
