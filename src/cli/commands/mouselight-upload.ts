// The action of `ferry mouselight upload` (see mouselight.ts).
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Command } from 'commander';
import { EXIT_PARTIAL, FerryError } from '../../errors.ts';
import type { JobRecord, Ledger, Run } from '../../ledger/ledger.ts';
import { resolveLedgerLocation } from '../../ledger/location.ts';
import { openLedger } from '../../ledger/open.ts';
import { enqueueUpload, runName } from '../../recipes/mouselight/jobs.ts';
import { loadLayout } from '../../recipes/mouselight/layout.ts';
import type { MouselightLayout } from '../../recipes/mouselight/layout.ts';
import { loadHandlers } from '../../recipes/handlers.ts';
import { needsSubfolder, planUpload, productNames } from '../../recipes/mouselight/plan.ts';
import type { UploadPlan } from '../../recipes/mouselight/plan.ts';
import { checkSampleDate, mmdd, sampleDateProblem } from '../../recipes/mouselight/sample-date.ts';
import { uploadScripts } from '../../recipes/mouselight/script.ts';
import { buildSubmission, describe, submit } from '../../runtime/submit.ts';
import type { SchedulerName } from '../../runtime/submit.ts';
import { Worker } from '../../runtime/worker.ts';
import { workdir } from '../../workdir.ts';
import { Output } from '../output.ts';
import { layoutStoreOptions, list } from './mouselight.ts';

function interactive(json: boolean): boolean {
  return !json && Boolean(process.stdin.isTTY) && Boolean(process.stdout.isTTY);
}

export async function upload(cmd: Command): Promise<void> {
  const o = cmd.optsWithGlobals();
  const out = new Output({ json: o.json });
  const layout = await loadLayout(o.config);
  const tty = interactive(Boolean(o.json));
  const date = await chooseDate(o.sample, tty);
  const products = await chooseProducts(layout, o.products, tty);
  const subfolders = o.subfolder ?? (tty && needsSubfolder(layout, products) ? await askSubfolders() : undefined);
  const plan = await planUpload(layout, { date, products, subfolders });
  for (const w of plan.warnings) out.warn(w);

  if (o.emitScript !== undefined) {
    const dir = path.resolve(o.emitScript === true ? '.' : o.emitScript);
    await mkdir(dir, { recursive: true });
    for (const [name, text] of uploadScripts(layout, plan)) {
      const file = path.join(dir, name);
      await writeFile(file, text, { mode: 0o755 });
      out.event('script', { file });
      out.line(`wrote ${file}`);
    }
    return;
  }
  if (o.dryRun) {
    printOperations(out, plan, o.submit);
    return;
  }

  const store = layoutStoreOptions(layout, o);
  const ledger = await openLedger(o.ledger);
  try {
    const runs = await enqueueUpload(ledger, plan, store);
    const mine = async (run?: Run) => (run ? (await ledger.listJobs({ runId: run.id })).filter((j) => plan.ops.some((op) => op.key === j.key)) : []);
    // A job that failed before is tried again now: the user asked for the product again.
    for (const run of [runs.local, runs.cluster]) {
      const jobs = await mine(run);
      const failed = jobs.filter((j) => j.state === 'error').map((j) => j.id);
      if (failed.length) await ledger.retry({ ids: failed });
      const done = jobs.filter((j) => j.state === 'success').map((j) => j.id);
      if (o.resync && done.length) await ledger.rerun({ ids: done });
    }
    out.event('planned', { sample: date, runs: [runs.local?.name, runs.cluster?.name].filter(Boolean), added: runs.added });
    out.line(`sample ${date}: ${plan.ops.length} operation(s), ${runs.added} new job(s) in ${[runs.local?.name, runs.cluster?.name].filter(Boolean).join(' and ')}`);

    let submitted: string | undefined;
    if (o.submit && runs.cluster) submitted = await submitCluster(ledger, out, o, layout, runs.cluster, date);
    const localRuns = [runs.local, o.submit ? undefined : runs.cluster].filter((r): r is Run => r !== undefined);
    if (localRuns.length) await runHere(ledger, out, localRuns.map((r) => r.id), o.concurrency);

    const jobs = [...(await mine(runs.local)), ...(await mine(runs.cluster))];
    printJobs(out, jobs);
    const failed = jobs.filter((j) => j.state === 'error' || j.state === 'cancelled');
    const waiting = jobs.filter((j) => j.state === 'todo' || j.state === 'ongoing');
    if (submitted && waiting.length) out.line(`${waiting.length} job(s) on ${o.submit} (${submitted}); follow them with: ferry status --run ${runs.cluster!.name}`);
    out.event('upload-finished', { sample: date, success: jobs.length - failed.length - waiting.length, failed: failed.length, waiting: waiting.length });
    if (failed.length) {
      out.warn(`${failed.length} of ${jobs.length} job(s) failed; see ferry jobs log ID, then run the same upload again to retry them`);
      process.exitCode = EXIT_PARTIAL;
    }
  } finally {
    await ledger.close();
  }
}

async function chooseDate(given: string | undefined, tty: boolean): Promise<string> {
  if (given !== undefined) return checkSampleDate(given);
  if (!tty) throw new FerryError('no sample given', { hint: 'name it with --sample YYYY-MM-DD' });
  const { input } = await import('@inquirer/prompts');
  return input({ message: 'Sample date (YYYY-MM-DD)', validate: (v) => sampleDateProblem(v.trim()) ?? true }).then((v) => v.trim());
}

async function chooseProducts(layout: MouselightLayout, given: string[] | undefined, tty: boolean): Promise<string[]> {
  if (given !== undefined) return given;
  const names = productNames(layout);
  if (!tty) throw new FerryError('no products given', { hint: `name them with --products, e.g. --products ${names.slice(0, 2).join(',')}` });
  const { checkbox } = await import('@inquirer/prompts');
  return checkbox({
    message: 'Enter products to upload',
    choices: names.map((n) => ({ name: n, value: n, checked: n === 'images' })),
    validate: (chosen) => (chosen.length > 0 ? true : 'choose at least one product'),
  });
}

async function askSubfolders(): Promise<string[]> {
  const { input } = await import('@inquirer/prompts');
  const answer = await input({ message: 'Segmentation sub-folder(s), comma-separated', validate: (v) => (v.trim() ? true : 'name at least one') });
  return list(answer);
}

function printOperations(out: Output, plan: UploadPlan, scheduler?: string): void {
  for (const op of plan.ops) {
    const where = op.cluster && scheduler ? scheduler : 'here';
    out.event('operation', { ...op, runs: where, run: runName(plan.date, op.cluster) });
    if (op.files) for (const f of op.files) out.line(`copy  ${path.join(op.src, f)} -> ${op.dst}${f}  [${op.key}, ${where}]`);
    else out.line(`sync  ${op.src}/ -> ${op.dst}  [${op.key}, ${where}]`);
  }
  out.line(`dry run: ${plan.ops.length} operation(s) for sample ${plan.date}; nothing planned or copied`);
}

async function submitCluster(ledger: Ledger, out: Output, o: Record<string, any>, layout: MouselightLayout, run: Run, date: string): Promise<string | undefined> {
  const left = (await ledger.listJobs({ runId: run.id, states: ['todo'] })).length;
  if (left === 0) return undefined;
  const sub = {
    scheduler: o.submit as SchedulerName,
    workers: o.workers ?? left,
    ledger: resolveLedgerLocation(o.ledger).url,
    name: `ml${mmdd(date)}`,
    queue: layout.cluster.queue,
    project: layout.cluster.project,
    time: o.time,
    logDir: workdir('logs'),
    workArgs: ['--run', run.name],
  };
  const submission = buildSubmission(sub);
  const id = submit(submission, sub);
  out.event('submitted', { scheduler: sub.scheduler, jobId: id, workers: sub.workers, run: run.name, command: describe(submission, sub.workers) });
  out.line(`submitted ${sub.workers} worker(s) for ${run.name} to ${sub.scheduler}: job ${id}`);
  return id;
}

async function runHere(ledger: Ledger, out: Output, runIds: number[], concurrency: number): Promise<void> {
  await loadHandlers();
  const worker = new Worker(ledger, { runIds, concurrency, untilEmpty: true, warn: (m) => out.warn(m) });
  const stop = out.startProgress(() => ({ unit: 'jobs', done: worker.counts.succeeded, failed: worker.counts.failed }));
  try {
    await worker.run();
  } finally {
    stop();
  }
}

function printJobs(out: Output, jobs: JobRecord[]): void {
  for (const j of jobs) out.event('job', { id: j.id, key: j.key, state: j.state, params: j.params, result: j.result, error: j.lastError });
  out.table([
    ['JOB', 'KEY', 'STATE', 'VERIFIED FILES', 'TO'],
    ...jobs.map((j) => {
      const r = j.result as { verifiedFiles?: number } | null;
      return [j.id, j.key, j.state, r?.verifiedFiles ?? '-', (j.params as { dst: string }).dst];
    }),
  ]);
  for (const j of jobs) if (j.lastError && j.state !== 'success') out.line(`  ${j.key}: ${j.lastError}`);
}
