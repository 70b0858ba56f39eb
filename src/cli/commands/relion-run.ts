// The actions of `ferry relion start | stop | status | listen` (see relion.ts): flags become the relion
// recipe's input, the orchestration service runs it, and what it recorded and launched is printed
// with what to do next. `status` reads the records directly; `listen` hands each Zocalo request to
// the recipe, the way Zocalo hands it to its RELION runner.
import { existsSync } from 'node:fs';
import { delimiter, join, resolve } from 'node:path';
import type { Command } from 'commander';
import { FerryError, errorMessage, isFerryError } from '../../errors.ts';
import { resolveLedgerLocation } from '../../ledger/location.ts';
import { openLedger } from '../../ledger/open.ts';
import { ispybWhere } from '../../processing/ispyb/url.ts';
import type { ProcessingRecords } from '../../processing/records.ts';
import { zocaloWhere } from '../../processing/zocalo/url.ts';
import type { ZocaloRequest } from '../../processing/zocalo/messages.ts';
import { catalog } from '../../recipes/index.ts';
import type { RelionInput, StartFacts } from '../../recipes/relion/recipe.ts';
import { ISPYB_URL_ENV, ledgerRecords } from '../../recipes/relion/records.ts';
import { relionStatus } from '../../recipes/relion/status.ts';
import type { RelionJobStatus } from '../../recipes/relion/status.ts';
import type { Stopped } from '../../recipes/relion/stop.ts';
import type { ClusterOptions } from '../../runtime/orchestrator.ts';
import { Orchestrator } from '../../runtime/orchestrator.ts';
import type { SchedulerName } from '../../runtime/submit.ts';
import { workdir } from '../../workdir.ts';
import { Output } from '../output.ts';
import { runRecipeCommand } from '../run-recipe.ts';

interface RecordsOptions {
  ispyb?: string;
  ledger?: string;
}

interface WorkerOptions extends RecordsOptions {
  scheduler: SchedulerName;
  partition?: string;
  time?: string;
}

interface StartOptions extends WorkerOptions {
  visit: string;
  imageDirectory: string;
  fileTemplate: string;
  params?: string;
  param?: string[];
  stopAndRestart?: boolean;
  force?: boolean;
  zocalo?: string;
  queue: string;
  dryRun?: boolean;
}

const output = (cmd: Command) => new Output({ json: cmd.optsWithGlobals().json });

/**
 * The ISPyB URL (flag, else FERRY_ISPYB_URL). Workers this command starts get it through the same
 * variable: the ledger keeps only the URL without its password.
 */
function ispybOf(o: RecordsOptions): string | undefined {
  const url = o.ispyb ?? (process.env[ISPYB_URL_ENV] || undefined);
  if (url) process.env[ISPYB_URL_ENV] = url;
  return url;
}

function clusterOf(o: WorkerOptions): ClusterOptions {
  return { scheduler: o.scheduler, ledger: resolveLedgerLocation(o.ledger).url, logDir: workdir('logs'), queue: o.partition, time: o.time };
}

/** The --ispyb to repeat in the commands suggested next (none when it comes from the environment). */
function ispybFlag(o: RecordsOptions): string {
  return o.ispyb ? ' --ispyb URL' : '';
}

export async function start(o: StartOptions, cmd: Command): Promise<void> {
  const out = output(cmd);
  const input: RelionInput = {
    action: 'start',
    visit: o.visit,
    imageDirectory: resolve(o.imageDirectory),
    fileTemplate: o.fileTemplate,
    paramsFile: o.params,
    paramOverrides: o.param,
    stopAndRestart: Boolean(o.stopAndRestart),
    force: Boolean(o.force),
    ispyb: ispybOf(o),
    zocalo: o.zocalo,
    zocaloQueue: o.queue,
    // The local worker runs on this machine: RELION need not wait for it to start.
    startHere: o.scheduler === 'local',
  };
  // Slurm missing here is found before anything is recorded, not after.
  if (o.scheduler === 'slurm' && !o.dryRun && !onPath('sbatch')) {
    throw new FerryError('--scheduler slurm needs sbatch, which is not on PATH here', { hint: 'run ferry relion start on a Slurm submit host, or use --scheduler local', kind: 'environment' });
  }
  let facts: StartFacts | undefined;
  try {
    await startCommand(o, input, out, (f) => (facts = f));
  } catch (e) {
    // Recorded and planned, but no worker could be started (the scheduler refused it).
    if (facts?.run && isFerryError(e)) {
      throw new FerryError(e.message, {
        hint: `processing job ${facts.processingJobId} is recorded and waits for a worker: ferry submit --scheduler ${o.scheduler} --workers 1 --run ${facts.run}; or stop it: ferry relion stop ${facts.processingJobId}`,
        kind: e.kind,
        cause: e,
      });
    }
    throw e;
  }
}

async function startCommand(o: StartOptions, input: RelionInput, out: Output, planned: (f: StartFacts) => void): Promise<void> {
  let facts: StartFacts | undefined;
  await runRecipeCommand({
    recipe: 'relion',
    input,
    ledger: o.ledger,
    out,
    dryRun: o.dryRun,
    run: 'here',
    cluster: o.dryRun ? undefined : clusterOf(o),
    onPlanned: (outcome) => {
      facts = outcome.plan.facts as unknown as StartFacts;
      planned(facts);
      out.event(outcome.dryRun ? 'would-start' : 'started', { ...facts });
      printStart(out, facts, outcome.dryRun);
    },
    onDone: (e) => {
      if (!facts || e.outcome.dryRun) return;
      const dc = facts.dataCollectionId;
      if (facts.zocalo) out.line(`Sent Zocalo's start message for processing job ${facts.processingJobId} to ${facts.zocalo}: its consumer runs it.`);
      out.line(`Follow it: ferry relion status --data-collection ${dc}${ispybFlag(o)}    Stop it: ferry relion stop ${facts.processingJobId}${ispybFlag(o)}${facts.zocalo ? ' --zocalo URL' : ''}`);
    },
  });
}

function onPath(program: string): boolean {
  return (process.env.PATH ?? '').split(delimiter).some((d) => d && existsSync(join(d, program)));
}

function printStart(out: Output, f: StartFacts, dryRun: boolean): void {
  for (const s of f.stopped) out.line(stoppedLine(s));
  if (dryRun) {
    const stops = f.stopping.length ? `stop processing job ${f.stopping.join(', ')}, then ` : '';
    out.line(`Dry run, nothing recorded or run. Would ${stops}record in ${f.records}: visit ${f.visit}, data collection ${f.dataCollectionId ?? '(new)'}, a processing job with these parameters:`);
  } else {
    const dc = `data collection ${f.dataCollectionId}${f.dataCollectionCreated ? ' (new)' : ''}`;
    out.line(`Recorded in ${f.records}: visit ${f.visit}, ${dc}, processing job ${f.processingJobId} with these parameters:`);
  }
  out.table([['parameter', 'value'], ...f.parameters.map((p) => [p.key, p.value])]);
  out.line(`Movies: ${f.movies} matching ${f.fileTemplate} in ${f.imageDirectory}`);
  if (!f.zocalo) {
    out.line(`Project: ${f.projectDir} (Movies -> the image directory; RELION ${f.relionJobs.join(', ')}; the RUNNING_FERRY file there exists while it runs)`);
    if (f.ignored.length) out.line(`Recorded but not used by Ferry's pipeline, which ends with ${f.relionJobs.at(-1)}: ${f.ignored.join(', ')}`);
  }
}

function stoppedLine(s: Stopped): string {
  const how = s.state === 'stopped' ? s.message : `it had ended on its own: ${s.state}: ${s.message}`;
  return `Stopped processing job ${s.processingJobId}: ${how} (program run ${s.autoProcProgramId} ended with status ${s.state === 'success' ? 1 : 0}).`;
}

export async function stop(processingJobId: number, o: RecordsOptions & { zocalo?: string; queue: string; dryRun?: boolean }, cmd: Command): Promise<void> {
  const out = output(cmd);
  await runRecipeCommand({
    recipe: 'relion',
    input: { action: 'stop', processingJobId, ispyb: ispybOf(o), zocalo: o.zocalo, zocaloQueue: o.queue } satisfies RelionInput,
    ledger: o.ledger,
    out,
    dryRun: o.dryRun,
    run: 'none',
    onPlanned: ({ plan, dryRun }) => {
      const f = plan.facts as { processingJobId: number; status: string; zocalo: string | null; stopped?: Stopped };
      out.event(dryRun ? 'would-stop' : 'stopped', { ...f });
      if (dryRun) out.line(`Dry run: would stop processing job ${f.processingJobId}, which is ${f.status}.`);
      else if (f.stopped) out.line(stoppedLine(f.stopped));
      else out.line(`Sent Zocalo's stop message for processing job ${f.processingJobId} to ${f.zocalo}: its consumer stops it and ends its program run.`);
    },
    onDone: () => {},
  });
}

interface StatusOptions extends RecordsOptions {
  visit?: string;
  dataCollection?: number;
  /** true when given without a number of seconds. */
  watch?: number | true;
}

export async function status(o: StatusOptions, cmd: Command): Promise<void> {
  const out = output(cmd);
  if (o.visit === undefined && o.dataCollection === undefined) {
    throw new FerryError('ferry relion status needs --visit or --data-collection', { hint: 'e.g. ferry relion status --visit cm28212-1', kind: 'usage' });
  }
  const ispyb = ispybOf(o);
  const { records, close } = await openRecordsToRead(ispyb, o.ledger);
  try {
    const filter = { visit: o.visit, dataCollectionId: o.dataCollection };
    if (o.watch === undefined) {
      printStatus(out, await relionStatus(records, filter));
      return;
    }
    const every = o.watch === true ? 2 : o.watch;
    let stopped = false;
    let wake = () => {};
    const onSignal = () => {
      stopped = true;
      wake();
    };
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    try {
      while (!stopped) {
        const rows = await relionStatus(records, filter);
        // On a terminal the table is redrawn in place; elsewhere each round is printed after the last.
        if (out.tty && !out.json) process.stdout.write('\x1b[H\x1b[2J');
        out.line(`${new Date().toLocaleString()} (every ${every} s; Ctrl-C to end)`);
        printStatus(out, rows);
        await new Promise<void>((r) => {
          const t = setTimeout(r, every * 1000);
          wake = () => {
            clearTimeout(t);
            r();
          };
        });
      }
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
  } finally {
    await close();
  }
}

async function openRecordsToRead(ispyb: string | undefined, ledgerUrl: string | undefined): Promise<{ records: ProcessingRecords; close: () => Promise<void> }> {
  if (ispyb) {
    const { openIspybRecords } = await import('../../processing/ispyb/ispyb-records.ts');
    const records = await openIspybRecords(ispyb);
    return { records, close: () => records.close() };
  }
  const ledger = await openLedger(ledgerUrl, { mustExist: true });
  return { records: ledgerRecords(ledger.records, `the ledger at ${ledger.where}`), close: () => ledger.close() };
}

/** 2026-12-06 17:50:29 in this machine's time zone (ISPyB's times are the facility's local times). */
function localTime(d: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

function printStatus(out: Output, rows: RelionJobStatus[]): void {
  for (const r of rows) out.event('job', { ...r });
  if (rows.length === 0) {
    out.line('No RELION processing jobs.');
    return;
  }
  const counts = new Map<string, number>();
  for (const r of rows) counts.set(r.status, (counts.get(r.status) ?? 0) + 1);
  out.table([
    ['job', 'data collection', 'status', 'micrographs', 'started', 'message', 'project'],
    ...rows.map((r) => [
      r.processingJobId,
      r.dataCollectionId,
      r.status,
      r.pipeline ? `${r.pipeline.progress.done}/${r.pipeline.progress.total}` : '',
      r.program?.startTime ? localTime(r.program.startTime) : '',
      (r.status === 'running' || r.status === 'queued') && r.pipeline ? r.pipeline.message : (r.program?.message ?? ''),
      r.projectDir ?? '',
    ]),
  ]);
  out.line([...counts].map(([s, n]) => `${n} ${s}`).join(', '));
}

export async function listen(o: WorkerOptions & { zocalo: string; queue: string }, cmd: Command): Promise<void> {
  const out = output(cmd);
  const ispyb = ispybOf(o);
  if (!ispyb) {
    throw new FerryError('ferry relion listen needs --ispyb (or FERRY_ISPYB_URL): Zocalo\'s requests name processing jobs recorded in ISPyB', { kind: 'usage' });
  }
  // The AMQP client loads only for the command that listens.
  const { RejectedRequest, listenZocalo } = await import('../../processing/zocalo/consume.ts');
  const orchestrator = new Orchestrator(() => openLedger(o.ledger), catalog);
  const cluster = clusterOf(o);
  try {
    const recipe = await orchestrator.recipe('relion');
    const handle = async (req: ZocaloRequest) => {
      const input: RelionInput =
        req.kind === 'start'
          ? { action: 'process', processingJobId: req.processingJobId, ispyb, startHere: o.scheduler === 'local' }
          : { action: 'stop', processingJobId: req.processingJobId, ispyb };
      try {
        const e = await orchestrator.execute(recipe, input, {
          run: 'here',
          cluster,
          warn: (m) => out.warn(m),
          onEvent: (ev) => {
            if (ev.type === 'submitted') out.event('submitted', { run: ev.run, scheduler: ev.scheduler, jobId: ev.id });
          },
        });
        const f = e.outcome.plan.facts as { projectDir?: string; stopped?: Stopped };
        for (const w of e.outcome.plan.warnings) out.line(`processing job ${req.processingJobId}: ${w}`);
        out.event(req.kind === 'start' ? 'processing' : 'stopped', { processingJobId: req.processingJobId, ...f });
        if (f.stopped) out.line(stoppedLine(f.stopped));
        else if (e.outcome.runs.length) out.line(`processing job ${req.processingJobId}: RELION runs in ${f.projectDir} (${e.waiting.map((w) => w.run).join(', ')})`);
      } catch (err) {
        // Requests that can never succeed are dropped; a database or ledger out of reach ends the
        // listener and leaves the request queued for the next one.
        if (isFerryError(err) && err.kind !== 'environment' && !/^(IspybUnreachable|IspybAccessDenied|NotIspyb)$/.test(err.code ?? '')) {
          throw new RejectedRequest(errorMessage(err));
        }
        throw err;
      }
    };
    const listener = await listenZocalo(o.zocalo, handle, { queue: o.queue, log: (l) => out.warn(l) });
    out.event('listening', { queue: o.queue, zocalo: zocaloWhere(o.zocalo).where, ispyb: ispybWhere(ispyb) });
    out.line(`Listening to ${o.queue} at ${zocaloWhere(o.zocalo).where} for processing jobs in ${ispybWhere(ispyb)} (Ctrl-C to end)`);
    const end = () => void listener.close();
    process.once('SIGINT', end);
    process.once('SIGTERM', end);
    try {
      await listener.done;
    } finally {
      process.off('SIGINT', end);
      process.off('SIGTERM', end);
    }
  } finally {
    await orchestrator.close();
  }
}
