// The actions of the ledger commands (see jobs.ts), loaded only when one of them runs: they bring
// the ledger with its SQLite and PostgreSQL drivers.
import path from 'node:path';
import type { Command } from 'commander';
import { FerryError, exitCodeOfOutcome } from '../../errors.ts';
import type { ProgressUpdate } from '../../ledger/engine.ts';
import type { JobState } from '../../ledger/schema.ts';
import type { Ledger, RunStatus } from '../../ledger/ledger.ts';
import { resolveLedgerLocation } from '../../ledger/location.ts';
import { migrateLedger, openLedger } from '../../ledger/open.ts';
import { catalog } from '../../recipes/index.ts';
import { Orchestrator, registerCatalogKinds } from '../../runtime/orchestrator.ts';
import { registeredKinds } from '../../runtime/registry.ts';
import { buildSubmission, describe, sharedLedgerWarning, submit } from '../../runtime/submit.ts';
import type { SchedulerName } from '../../runtime/submit.ts';
import { Worker } from '../../runtime/worker.ts';
import { Output, formatBytes, formatDuration, runningDetail } from '../output.ts';

interface LedgerOption {
  ledger?: string;
}

interface WorkOptions extends LedgerOption {
  run?: string[];
  kinds?: string[];
  concurrency: number;
  untilEmpty?: boolean;
  lease: number;
  grace: number;
  batch?: number;
  retryBackoff: number;
}

interface StatusOptions extends LedgerOption {
  run?: string[];
  /** true when given without a number of seconds. */
  watch?: number | true;
}

interface ListOptions extends LedgerOption {
  run?: string;
  state?: JobState[];
  kind?: string;
  limit: number;
}

interface SubmitCommandOptions extends LedgerOption {
  scheduler: SchedulerName;
  workers: number;
  partition?: string;
  queue?: string;
  time?: string;
  mem?: string;
  project?: string;
  name: string;
  logDir: string;
  run?: string[];
  kinds?: string[];
  concurrency?: number;
  lease?: number;
  grace?: number;
  dryRun?: boolean;
}

export async function runWork(opts: WorkOptions, cmd: Command): Promise<void> {
  const out = output(cmd);
  const ledger = await openLedger(opts.ledger, { mustExist: true });
  try {
    const runs = opts.run ? await Promise.all(opts.run.map((n) => ledger.getRun(n))) : undefined;
    // Only the recipes of the runs asked for, when each says its recipe; kinds named with --kinds
    // may be any recipe's.
    const recipes = runs?.map((r) => r.labels.recipe);
    await registerCatalogKinds(catalog, recipes?.every(Boolean) ? [...new Set(recipes)] : undefined);
    if ((opts.kinds ?? []).some((k) => !registeredKinds().includes(k))) await registerCatalogKinds(catalog);
    const unknown = (opts.kinds ?? []).filter((k) => !registeredKinds().includes(k));
    if (unknown.length) {
      throw new FerryError(`--kinds: no job kind named ${unknown.join(', ')}`, { hint: `the kinds are: ${registeredKinds().join(', ')}`, kind: 'usage' });
    }
    const runIds = runs?.map((r) => r.id);
    const worker = new Worker(ledger, {
      runIds,
      kinds: opts.kinds,
      concurrency: opts.concurrency,
      leaseMs: opts.lease * 1000,
      untilEmpty: Boolean(opts.untilEmpty),
      batch: opts.batch,
      retryBackoffMs: opts.retryBackoff * 1000,
      warn: (m) => out.warn(m),
    });
    let signals = 0;
    const onSignal = (sig: string) => {
      signals++;
      out.warn(`${sig}: ${signals > 1 ? 'releasing running jobs now' : `no new jobs; running jobs have ${opts.grace}s to finish`}`);
      worker.stop(signals > 1 ? 0 : opts.grace * 1000);
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
    out.line(`worker ${worker.owner} on ${ledger.where}`);
    // A worker on a few long jobs (a volume task, a large transfer) would otherwise print "0 jobs"
    // for minutes: the line also says how far its running jobs are.
    const stopProgress = out.startProgress(() => ({
      unit: 'jobs',
      done: worker.counts.succeeded,
      failed: worker.counts.failed,
      detail: runningDetail(worker.runningProgress),
    }));
    const summary = await worker.run().finally(stopProgress);
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
    out.event('worker-finished', { ...summary });
    out.line(
      `done: ${summary.succeeded} succeeded, ${summary.failed} failed, ${summary.retried} to retry, ${summary.released} released`,
    );
    process.exitCode = exitCodeOfOutcome(summary);
    // A handler that ignores its abort signal must not keep a stopped worker alive.
    if (signals > 0) setTimeout(() => process.exit(), 2_000).unref();
  } finally {
    await ledger.close();
  }
}

export async function runStatus(opts: StatusOptions, cmd: Command): Promise<void> {
  const out = output(cmd);
  await withLedger(opts.ledger, async (ledger) => {
    const runIds = opts.run ? await Promise.all(opts.run.map(async (n) => (await ledger.getRun(n)).id)) : undefined;
    const every = opts.watch === undefined ? 0 : opts.watch === true ? 2 : opts.watch;
    for (;;) {
      const status = await ledger.status({ runIds });
      if (every && out.tty && !out.json) process.stdout.write('\x1b[2J\x1b[H');
      printStatus(out, status);
      // Runs named on the command line are also summed up by their workflow (a check's table, a
      // Render stack's counts), as the command that ran them printed it.
      if (runIds) {
        const reports = await new Orchestrator(ledger, catalog).reportRuns(status.map((s) => s.run));
        for (const r of reports) {
          out.event('report', { ...r });
          out.line('');
          for (const l of r.lines) out.line(`${r.run}: ${l}`);
        }
      }
      if (!every) return;
      await new Promise((r) => setTimeout(r, every * 1000));
    }
  }, 'read');
}

export async function listJobs(opts: ListOptions, cmd: Command): Promise<void> {
  const out = output(cmd);
  await withLedger(opts.ledger, async (ledger) => {
    const runId = opts.run ? (await ledger.getRun(opts.run)).id : undefined;
    const list = await ledger.listJobs({ runId, states: opts.state, kind: opts.kind, limit: opts.limit });
    for (const j of list) out.event('job', { ...j });
    out.table([
      ['ID', 'RUN', 'KIND', 'KEY', 'STATE', 'ATTEMPTS', 'UPDATED', 'LAST ERROR'],
      ...list.map((j) => [j.id, j.runId, j.kind, j.key, j.state, `${j.attempts}/${j.maxAttempts}`, iso(j.updatedAt), short(j.lastError)]),
    ]);
    if (list.length === 0) out.line('no jobs');
  }, 'read');
}

export async function showJob(id: number, opts: LedgerOption, cmd: Command): Promise<void> {
  const out = output(cmd);
  await withLedger(opts.ledger, async (ledger) => {
    const j = await ledger.getJob(id);
    out.event('job', { ...j });
    const p = j.progress;
    const rows: [string, string][] = [
      ['id', String(j.id)],
      ['run', String(j.runId)],
      ['kind', j.kind],
      ['key', j.key],
      ['state', j.state],
      ['attempts', `${j.attempts} of ${j.maxAttempts}`],
      ['params', JSON.stringify(j.params)],
      ['lease', j.leaseOwner ? `${j.leaseOwner} until ${iso(j.leaseExpiresAt)}` : '-'],
      ['heartbeat', iso(j.heartbeatAt)],
      ['progress', p ? `${p.done}${p.total !== undefined ? '/' + p.total : ''} ${p.unit}${p.bytesDone !== undefined ? `, ${formatBytes(p.bytesDone)}` : ''}` : '-'],
      ['result', j.result === null ? '-' : JSON.stringify(j.result)],
      ['last error', j.lastError ?? '-'],
      ['created', iso(j.createdAt)],
      ['started', iso(j.startedAt)],
      ['finished', iso(j.finishedAt)],
    ];
    for (const [k, v] of rows) out.line(`${k.padEnd(10)}  ${v}`);
  }, 'read');
}

export async function jobLog(id: number, opts: LedgerOption, cmd: Command): Promise<void> {
  const out = output(cmd);
  await withLedger(opts.ledger, async (ledger) => {
    for (const e of await ledger.events(id)) {
      out.event('job-event', { ...e });
      out.line(`${iso(e.at)}  ${e.type.padEnd(15)} ${e.message}`.trimEnd());
    }
  }, 'read');
}

export async function retryOrCancel(verb: 'retry' | 'cancel', idArgs: string[], opts: LedgerOption & { run?: string }, cmd: Command): Promise<void> {
  const out = output(cmd);
  const ids = idArgs.map((s) => {
    const n = Number(s);
    if (!Number.isInteger(n) || n < 1) throw new FerryError(`"${s}" is not a job id`, { hint: 'job ids are whole numbers; see ferry jobs list' });
    return n;
  });
  if (ids.length === 0 && !opts.run) throw new FerryError(`say which jobs to ${verb}`, { hint: `ferry jobs ${verb} ID... or --run NAME` });
  await withLedger(opts.ledger, async (ledger) => {
    const runId = opts.run ? (await ledger.getRun(opts.run)).id : undefined;
    const changed = verb === 'retry' ? await ledger.retry({ ids, runId }) : await ledger.cancel({ ids, runId });
    out.event(verb, { ids: changed });
    out.line(`${verb === 'retry' ? 'retrying' : 'cancelled'} ${changed.length} job(s)`);
  });
}

export async function runSubmit(opts: SubmitCommandOptions, cmd: Command): Promise<void> {
  const out = output(cmd);
  const loc = resolveLedgerLocation(opts.ledger);
  if (opts.partition && opts.queue && opts.partition !== opts.queue) {
    throw new FerryError('--partition and --queue name the same thing; give one');
  }
  // The scheduler kills a job a while after its SIGTERM (Slurm KillWait 30 s, LSF 10 s by
  // default): release running jobs before that rather than lose them to the kill.
  const grace: number | undefined = opts.grace ?? { slurm: 20, lsf: 5, local: undefined }[opts.scheduler];
  const workArgs = [
    ...(opts.run ? opts.run.flatMap((r) => ['--run', r]) : []),
    ...(opts.kinds ? ['--kinds', opts.kinds.join(',')] : []),
    ...(opts.concurrency ? ['--concurrency', String(opts.concurrency)] : []),
    ...(opts.lease ? ['--lease', String(opts.lease)] : []),
    ...(grace !== undefined ? ['--grace', String(grace)] : []),
  ];
  const sub = {
    scheduler: opts.scheduler,
    workers: opts.workers,
    ledger: loc.url,
    name: opts.name,
    queue: opts.partition ?? opts.queue,
    time: opts.time,
    mem: opts.mem,
    project: opts.project,
    logDir: path.resolve(opts.logDir),
    workArgs,
  };
  const submission = buildSubmission(sub);
  const shared = sharedLedgerWarning(sub);
  if (shared) out.warn(shared);
  if (opts.dryRun) {
    out.event('submit-dry-run', { scheduler: sub.scheduler, argv: submission.argv, workers: sub.workers });
    out.line(describe(submission, sub.workers));
    return;
  }
  // Fail here, not in N cluster jobs, when the ledger cannot be opened.
  await withLedger(opts.ledger, async () => {});
  const id = submit(submission, sub);
  out.event('submitted', { scheduler: sub.scheduler, jobId: id, workers: sub.workers });
  out.line(id);
}

export async function runMigrate(opts: LedgerOption, cmd: Command): Promise<void> {
  const out = output(cmd);
  const { applied, where } = await migrateLedger(opts.ledger);
  out.event('migrated', { where, applied });
  out.line(applied.length ? `applied ${applied.join(', ')} to ${where}` : `${where} is already at the current schema`);
}

function printStatus(out: Output, status: RunStatus[]): void {
  for (const s of status) out.event('run-status', { ...s });
  if (status.length === 0) {
    out.line('no runs in the ledger');
    return;
  }
  out.table([
    ['RUN', 'TOTAL', 'TODO', 'ONGOING', 'SUCCESS', 'ERROR', 'CANCELLED', 'RATE', 'ETA', 'PROGRESS'],
    ...status.map((s) => [
      s.run.name,
      s.counts.total,
      s.counts.todo,
      s.counts.ongoing,
      s.counts.success,
      s.counts.error,
      s.counts.cancelled,
      `${(s.rate * 60).toFixed(s.rate * 60 < 10 ? 1 : 0)}/min`,
      s.etaSeconds === null ? '?' : s.etaSeconds === 0 ? '-' : formatDuration(s.etaSeconds),
      [
        ...s.progress.map((p) => `${p.done}/${p.total} ${p.unit}`),
        ...(s.bytes.total || s.bytes.done ? [`${formatBytes(s.bytes.done)}/${formatBytes(s.bytes.total)}`] : []),
      ].join(', ') || '-',
    ]),
  ]);
}

/** Opens the ledger that must exist; `read` for commands that only look (nothing is created or changed). */
async function withLedger(url: string | undefined, fn: (l: Ledger) => Promise<void>, access: 'read' | 'write' = 'write'): Promise<void> {
  const ledger = await openLedger(url, { mustExist: true, readOnly: access === 'read' });
  try {
    await fn(ledger);
  } finally {
    await ledger.close();
  }
}

function output(cmd: Command): Output {
  return new Output({ json: Boolean(cmd.optsWithGlobals().json) });
}

function iso(ms: number | null): string {
  return ms === null ? '-' : new Date(ms).toISOString().replace(/\.\d+Z$/, 'Z');
}

function short(s: string | null): string {
  if (!s) return '';
  const line = s.split('\n')[0];
  return line.length > 60 ? line.slice(0, 57) + '...' : line;
}
