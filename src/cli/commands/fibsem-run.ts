// The actions of `ferry fibsem check | repair | convert` (see fibsem.ts): parse, call the FIB-SEM
// recipe through the orchestration service, print the check_tabs table, the repair's tiles and
// summary, or the conversion plan.
import type { Command } from 'commander';
import type { CheckRecord } from '../../recipes/fibsem/recipe.ts';
import { describeStep } from '../../recipes/fibsem/repair.ts';
import type { RepairStep } from '../../recipes/fibsem/repair.ts';
import { Output } from '../output.ts';
import { plannedEvent, runRecipeCommand } from '../run-recipe.ts';

export interface ScopeOptions {
  scopeListing?: string;
  sshConfig?: string;
}

export interface RepairOptions extends ScopeOptions {
  parallel: number;
  dryRun?: boolean;
}

export interface ConvertOptions {
  batch: number;
  run?: string;
  ledger?: string;
}

export async function checkTab(tabFile: string, opts: ScopeOptions & { ledger?: string }, cmd: Command): Promise<void> {
  const out = new Output({ json: cmd.optsWithGlobals().json });
  await runRecipeCommand({
    recipe: 'fibsem',
    input: { action: 'check', tab: tabFile, scopeListing: opts.scopeListing, sshConfig: opts.sshConfig },
    ledger: opts.ledger,
    out,
    run: 'here',
    onPlanned: () => {},
    onDone: ({ reports }) => {
      const [r] = reports;
      const c = r.data as unknown as CheckRecord;
      out.event('tabCheck', { tab: c.tab, scopeSource: c.scopeSource, scopeDays: c.scopeDays, ...c.report, ignoredListingLines: c.ignoredListingLines });
      for (const line of r.lines) out.line(line);
    },
  });
}

export async function repairTab(tabFile: string, opts: RepairOptions & { ledger?: string }, cmd: Command): Promise<void> {
  const out = new Output({ json: cmd.optsWithGlobals().json });
  await runRecipeCommand({
    recipe: 'fibsem',
    input: { action: 'repair', tab: tabFile, scopeListing: opts.scopeListing, sshConfig: opts.sshConfig },
    ledger: opts.ledger,
    out,
    dryRun: opts.dryRun,
    run: 'here',
    concurrency: opts.parallel,
    unit: 'tiles',
    onPlanned: ({ plan, dryRun }) => {
      const f = plan.facts as { tab: string; host: string; steps: RepairStep[]; folders: { archiveDat: string; inLensPng: string } };
      out.event('repairPlan', { tab: f.tab, dryRun, steps: f.steps.map((s) => ({ core: s.core, fetch: s.fetch, convert: s.convert })) });
      const fetches = f.steps.filter((s) => s.fetch?.from === 'scope').length;
      const copies = f.steps.filter((s) => s.fetch?.from === 'transferred').length;
      const converts = f.steps.filter((s) => s.convert).length;
      out.line(`${f.tab}: ${fetches} .dat to fetch from ${f.host}, ${copies} to archive from the transferred folder, ${converts} InLens PNG to convert`);
      if (dryRun) for (const s of f.steps) for (const l of describeStep(s, f.host, f.folders)) out.line(`would ${l}`);
    },
    onJobFinished: (job, outcome) => {
      out.event('tile', { core: job.key, state: outcome.state, ...(outcome.result as object | undefined), error: outcome.error });
      if (outcome.state !== 'success') out.warn(`${job.key}: ${outcome.error}`);
    },
    onDone: ({ reports }) => {
      for (const r of reports) {
        out.event('repairSummary', { tab: r.run, ...r.data });
        for (const l of r.lines) out.line(l);
      }
    },
  });
}

export async function planConvert(tabFile: string, opts: ConvertOptions, cmd: Command): Promise<void> {
  const out = new Output({ json: cmd.optsWithGlobals().json });
  await runRecipeCommand({
    recipe: 'fibsem',
    input: { action: 'convert', tab: tabFile, batch: opts.batch, run: opts.run },
    ledger: opts.ledger,
    out,
    run: 'none',
    onPlanned: (outcome) => {
      out.event('planned', plannedEvent(outcome));
      const { plan, runs } = outcome;
      const f = plan.facts as { tab: string; run: string; tiles: number };
      const { jobs, added } = runs[0];
      out.line(`${f.tab}: ${f.tiles} tile(s) without an InLens PNG in ${jobs} job(s), ${added} new, in run ${f.run}`);
      if (added) out.line(`run them here with: ferry work --run ${f.run} --until-empty  (or on a cluster with ferry submit --run ${f.run})`);
    },
    onDone: () => {},
  });
}
