// The actions of `ferry fibsem check | repair | convert | render-import` (see fibsem.ts): parse,
// call the FIB-SEM recipe through the orchestration service, print the check_tabs table, the
// repair's tiles and summary, the conversion plan, or the Render import's stacks, steps and
// verification.
import type { Command } from 'commander';
import type { ClaimedJob, Outcome } from '../../ledger/engine.ts';
import type { GroupSummary } from '../../formats/render/plan.ts';
import type { CheckRecord } from '../../recipes/fibsem/recipe.ts';
import type { StackFacts } from '../../recipes/fibsem/render/import-run.ts';
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

export interface RenderImportOptions {
  renderUrl?: string;
  owner?: string;
  project?: string;
  stack?: string;
  replace?: boolean;
  allowMissing?: boolean;
  verify?: 'all' | number;
  batch?: number;
  parallel: number;
  run?: string;
  dryRun?: boolean;
  ledger?: string;
}

/**
 * Each request is short, so a short lease: a killed import, run again, takes up the batches the
 * killed one had in hand this long after it died.
 */
const RENDER_LEASE_MS = 10_000;

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
  // Loaded here, not with the module: a check, run often by hand, loads nothing of a repair.
  const { describeStep } = await import('../../recipes/fibsem/repair.ts');
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

export async function renderImport(tabFile: string, opts: RenderImportOptions, cmd: Command): Promise<void> {
  const out = new Output({ json: cmd.optsWithGlobals().json });
  await runRecipeCommand({
    recipe: 'fibsem',
    input: {
      action: 'render-import',
      tab: tabFile,
      url: opts.renderUrl,
      owner: opts.owner,
      project: opts.project,
      stack: opts.stack,
      replace: Boolean(opts.replace),
      allowMissing: Boolean(opts.allowMissing),
      verify: opts.verify,
      batch: opts.batch,
      run: opts.run,
    },
    ledger: opts.ledger,
    out,
    dryRun: opts.dryRun,
    run: 'here',
    concurrency: opts.parallel,
    leaseMs: RENDER_LEASE_MS,
    onPlanned: (outcome) => {
      const f = outcome.plan.facts as unknown as RenderPlanFacts;
      const { preview } = f;
      out.event('renderPlan', { ...plannedEvent(outcome), preview: undefined });
      const restarts = f.groups.filter((g) => g.restartCondition).length;
      const patched = f.groups.filter((g) => g.patched).length;
      out.line(`${f.tab}: ${f.datFiles} .dat header(s) read${f.skipped.length ? `, ${f.skipped.length} left out` : ''}; ${restarts} restart(s)${patched ? `, ${patched} one-layer group(s) patched` : ''}`);
      out.line(`render-ws ${f.target.url}, owner ${f.target.owner}, project ${f.target.project}; run ${f.run}`);
      for (const s of f.stacks) {
        const done = s.verified ? ', imported and verified before' : s.sent ? `, ${s.sent} already sent` : '';
        out.line(`  ${s.stack}: ${s.tiles} tile(s) in ${s.sections} layer(s), ${s.batches} batch(es)${done}`);
      }
      if (preview) {
        out.event('renderPreview', preview);
        for (const s of preview.stacks) out.line(`  first tile spec of ${s.stack}: ${JSON.stringify(s.tileSpecs[0])}`);
        out.line('dry run: nothing was sent; --json prints every tile spec as it would be sent');
      }
    },
    onJobFinished: (job, outcome) => renderStepLine(out, job, outcome),
    onDone: ({ reports, exitCode }) => {
      for (const r of reports) {
        out.event('report', { ...r });
        for (const l of r.lines) out.line(l);
      }
      if (reports.length) out.line(exitCode === 0 ? 'every stack is COMPLETE and verified (exit 0)' : `not every stack is verified (exit ${exitCode})`);
    },
  });
}

interface RenderPlanFacts {
  tab: string;
  run: string;
  target: { url: string; owner: string; project: string; stack: string };
  datFiles: number;
  skipped: { path: string; reason: string }[];
  groups: GroupSummary[];
  stacks: StackFacts[];
  preview?: { stacks: { stack: string; tileSpecs: unknown[] }[] };
}

/** One line per step as it ends: what it did to the stack. */
function renderStepLine(out: Output, job: ClaimedJob, outcome: Outcome): void {
  const r = (outcome.result ?? {}) as Record<string, any>;
  out.event('renderStep', { kind: job.kind, key: job.key, state: outcome.state, result: outcome.result, error: outcome.error });
  if (outcome.state !== 'success') {
    out.warn(`${job.key}: ${outcome.error}${outcome.state === 'todo' ? ' (tried again shortly)' : ''}`);
    return;
  }
  if (r.superseded) return out.line(`${job.key}: not in the current plan any more, nothing sent`);
  if (job.kind === 'render.open') {
    const what = r.action === 'created' ? 'created (LOADING)' : r.action === 'reopened' ? `reopened: a new LOADING version, its ${r.existingTiles} tile(s) kept` : `resumed: LOADING, ${r.existingTiles} tile(s) there`;
    out.line(`${r.stack}: ${what}${r.staleTiles ? `, ${r.staleTiles} of them not planned (removed at the finish, --replace)` : ''}`);
  } else if (job.kind === 'render.batch') {
    out.line(`${r.stack}: batch ${r.index + 1} of ${r.of} sent (${r.tiles} tiles)`);
  } else if (job.kind === 'render.finish') {
    const repairs = [r.removed && `${r.removed} tile(s) of an earlier import removed`, r.resent && `${r.resent} missing tile(s) sent again`].filter(Boolean);
    const state = r.alreadyComplete ? 'already COMPLETE with the planned tiles' : 'COMPLETE';
    out.line(`${r.stack}: ${state}${repairs.length ? ` (${repairs.join(', ')})` : ''}${r.resolutionValues ? `, resolution values ${JSON.stringify(r.resolutionValues)}` : ''}`);
  } else if (job.kind === 'render.verify') {
    out.line(`${r.stack}: read back and compared with the plan`);
  }
}
