// The action of `ferry mouselight upload` (see mouselight.ts): asks for what was not given (on a
// terminal), then runs the MouseLight recipe: the local run here, the cluster run here too or on
// Slurm / LSF workers with --submit; or prints the plan (--dry-run) or the equivalent scripts.
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Command } from 'commander';
import { FerryError } from '../../errors.ts';
import { resolveLedgerLocation } from '../../ledger/location.ts';
import { loadLayout } from '../../recipes/mouselight/layout.ts';
import type { MouselightLayout } from '../../recipes/mouselight/layout.ts';
import { runName } from '../../recipes/mouselight/jobs.ts';
import { needsSubfolder, planUpload, productNames } from '../../recipes/mouselight/plan.ts';
import type { UploadPlan } from '../../recipes/mouselight/plan.ts';
import { checkSampleDate, sampleDateProblem } from '../../recipes/mouselight/sample-date.ts';
import { uploadScripts } from '../../recipes/mouselight/script.ts';
import type { SchedulerName } from '../../runtime/submit.ts';
import { workdir } from '../../workdir.ts';
import { commaList } from '../parse.ts';
import { Output } from '../output.ts';
import { plannedEvent, runRecipeCommand } from '../run-recipe.ts';
import { storeOptionsFrom } from '../store-options.ts';

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

  if (o.emitScript !== undefined) {
    const plan = await planUpload(layout, { date, products, subfolders });
    for (const w of plan.warnings) out.warn(w);
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

  await runRecipeCommand({
    recipe: 'mouselight',
    input: { action: 'upload', config: o.config, sample: date, products, subfolders, resync: o.resync, store: storeOptionsFrom(o) },
    ledger: o.ledger,
    out,
    dryRun: o.dryRun,
    run: 'here',
    concurrency: o.concurrency,
    cluster: o.submit
      ? { scheduler: o.submit as SchedulerName, workers: o.workers, time: o.time, ledger: resolveLedgerLocation(o.ledger).url, logDir: workdir('logs') }
      : undefined,
    onPlanned: (outcome) => {
      out.event('planned', plannedEvent(outcome));
      const { plan, runs, dryRun } = outcome;
      const f = plan.facts as { sample: string; plan: UploadPlan };
      if (dryRun) {
        printOperations(out, f.plan, o.submit);
        return;
      }
      const added = runs.reduce((n, r) => n + r.added, 0);
      out.line(`sample ${date}: ${f.plan.ops.length} operation(s), ${added} new job(s) in ${runs.map((r) => r.run.name).join(' and ')}`);
    },
    onDone: async ({ outcome, waiting }, orchestrator) => {
      if (outcome.dryRun) return;
      const jobs = [];
      for (const [i, r] of outcome.runs.entries()) {
        const keys = new Set(outcome.plan.runs[i].jobs.map((j) => j.key));
        jobs.push(...(await (await orchestrator.ledger()).listJobs({ runId: r.run.id })).filter((j) => keys.has(j.key)));
      }
      for (const j of jobs) out.event('job', { id: j.id, key: j.key, state: j.state, params: j.params, result: j.result, error: j.lastError });
      out.table([
        ['JOB', 'KEY', 'STATE', 'VERIFIED FILES', 'TO'],
        ...jobs.map((j) => [j.id, j.key, j.state, (j.result as { verifiedFiles?: number } | null)?.verifiedFiles ?? '-', (j.params as { dst: string }).dst]),
      ]);
      for (const j of jobs) if (j.lastError && j.state !== 'success') out.line(`  ${j.key}: ${j.lastError}`);
      const failed = jobs.filter((j) => j.state === 'error' || j.state === 'cancelled').length;
      const left = waiting.reduce((n, w) => n + w.left, 0);
      for (const w of waiting) out.line(`${w.left} job(s) on ${o.submit}; follow them with: ferry status --run ${w.run}`);
      out.event('upload-finished', { sample: date, success: jobs.length - failed - left, failed, waiting: left });
      if (failed) out.warn(`${failed} of ${jobs.length} job(s) failed; see ferry jobs log ID, then run the same upload again to retry them`);
    },
  });
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
  return commaList(answer);
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
