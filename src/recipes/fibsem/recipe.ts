// FIB-SEM acquisitions (seed 000), one tab (acquisition) at a time:
// - check: list every stage and reduce it to the check_tabs report, kept as the tab's `check`
//   record (a run of no jobs: the check is the plan itself);
// - repair: the same check, then one `fibsem.repair` job per tile to fetch, archive and convert
//   what is missing, run here in parallel;
// - convert: the InLens conversion of every tile without a PNG, in batches of `fibsem.convert`
//   jobs left for workers (`ferry work`, `ferry submit`);
// - render-import: the tile specs of every transferred .dat imported into render-ws, both stacks
//   verified, as `render.*` jobs the command runs stage after stage (render/import-run.ts).
//
// A check is run often, by hand: this module loads only what a check needs, and each other
// action's planning loads when that action runs.
import { z } from 'zod';
import type { JobRecord } from '../../ledger/ledger.ts';
import type { LedgerRecord } from '../../ledger/records.ts';
import type { RunReport } from '../../runtime/recipe.ts';
import { defineRecipe } from '../../runtime/recipe.ts';
import { zodInput } from '../input.ts';
import { runTabCheck, sshTarget } from './check.ts';
import type { TabCheck } from './check.ts';
import { MAX_BATCH_TILES } from '../../render/stack-import.ts';
import { DEFAULT_SAMPLE_LAYERS } from '../../render/verify.ts';
import { BATCH_JOB, CONVERT_JOB, FINISH_JOB, OPEN_JOB, REPAIR_JOB, VERIFY_JOB } from './kinds.ts';
import { formatTabReport } from './report.ts';
import type { RepairParams, StepResult } from './repair.ts';
import { loadTab } from './tab.ts';

const scope = { tab: z.string().min(1), scopeListing: z.string().optional(), sshConfig: z.string().optional() };
const Input = z.discriminatedUnion('action', [
  z.strictObject({ action: z.literal('check'), ...scope }),
  z.strictObject({ action: z.literal('repair'), ...scope }),
  z.strictObject({ action: z.literal('convert'), tab: z.string().min(1), batch: z.number().int().positive().default(50), run: z.string().min(1).optional() }),
  z.strictObject({
    action: z.literal('render-import'),
    tab: z.string().min(1),
    url: z.string().min(1).optional(),
    owner: z.string().min(1).optional(),
    project: z.string().min(1).optional(),
    stack: z.string().min(1).optional(),
    replace: z.boolean().default(false),
    allowMissing: z.boolean().default(false),
    verify: z.union([z.literal('all'), z.number().int().positive()]).default(DEFAULT_SAMPLE_LAYERS),
    batch: z.number().int().positive().max(MAX_BATCH_TILES).optional(),
    run: z.string().min(1).optional(),
  }),
]);
export type FibsemInput = z.infer<typeof Input>;

/** What the `check` record of a tab holds: the report and where the scope listing came from. */
export interface CheckRecord {
  tab: string;
  report: TabCheck['report'];
  scopeSource: string;
  scopeDays: string[];
  ignoredListingLines: string[];
}

export const recipe = defineRecipe<FibsemInput>({
  name: 'fibsem',
  title: 'FIB-SEM: check every transfer stage of a tab, fetch what is missing, convert to InLens PNG, import into Render',
  input: zodInput(Input, 'FIB-SEM input'),
  kinds: {
    [CONVERT_JOB]: async () => (await import('./convert-job.ts')).convertHandler,
    [REPAIR_JOB]: async () => (await import('./repair-job.ts')).repairHandler,
    [OPEN_JOB]: async () => (await import('./render/jobs.ts')).openHandler,
    [BATCH_JOB]: async () => (await import('./render/jobs.ts')).batchHandler,
    [FINISH_JOB]: async () => (await import('./render/jobs.ts')).finishHandler,
    [VERIFY_JOB]: async () => (await import('./render/jobs.ts')).verifyHandler,
  },

  async plan(input, ctx) {
    if (input.action === 'render-import') return (await import('./render/import-run.ts')).planRenderImportRun(input, ctx);
    const tab = await loadTab(input.tab);
    const identity = { tab: tab.tab };
    if (input.action === 'convert') {
      const { convertRunName, planConvertJobs } = await import('./convert-plan.ts');
      const { jobs, tiles } = await planConvertJobs(tab, input.batch);
      const run = input.run ?? convertRunName(tab);
      return {
        // A run whose InLens folder changed would leave its PNGs in two folders.
        runs: [{ name: run, labels: { tab: tab.tab }, identity: { ...identity, inLensPng: tab.folders.inLensPng }, jobs, placement: 'cluster' }],
        warnings: [],
        facts: { tab: tab.tab, run, tiles },
      };
    }
    const check = await runTabCheck(tab, { listing: input.scopeListing, sshConfig: input.sshConfig });
    const warnings = checkWarnings(check);
    const record = { type: 'check', key: tab.tab, body: checkRecord(check) };
    if (input.action === 'check') {
      return { runs: [{ name: `fibsem-${tab.tab}-check`, labels: { tab: tab.tab }, identity, jobs: [], records: [record] }], warnings, facts: { check: record.body } };
    }
    // Every tile planned is missing something now, also one repaired before and lost since.
    const { planRepair, repairJobs } = await import('./repair.ts');
    const steps = planRepair(tab, check);
    const target = sshTarget(tab, input.sshConfig);
    return {
      runs: [{ name: `fibsem-${tab.tab}-repair`, labels: { tab: tab.tab }, identity, jobs: repairJobs(tab, steps, target), records: [record], requeue: 'all' }],
      warnings,
      facts: { tab: tab.tab, host: target.host, steps, folders: tab.folders },
    };
  },

  async report(view): Promise<RunReport> {
    if (view.run.labels.render !== undefined) return (await import('./render/import-run.ts')).renderImportReport(view);
    if (view.run.name.endsWith('-check')) {
      const [rec] = await view.records<CheckRecord>('check');
      if (!rec) return { run: view.run.name, ok: false, lines: ['no check has been recorded for this tab'] };
      return { run: view.run.name, ok: rec.body.report.complete, lines: formatTabReport(rec.body.tab, rec.body.report), data: { ...rec.body } };
    }
    if (view.run.name.endsWith('-repair')) return repairReport(view.run.name, await view.jobs(), await view.records<StepResult>('tile'));
    const c = view.status.counts;
    return { run: view.run.name, ok: c.success === c.total, lines: [`${c.success} of ${c.total} conversion batch(es) done, ${c.error} failed`], data: { counts: c } };
  },
});

function checkRecord(c: TabCheck): CheckRecord {
  return { tab: c.tab, report: c.report, scopeSource: c.scopeSource, scopeDays: c.scopeDays, ignoredListingLines: c.ignoredListingLines };
}

function checkWarnings(check: TabCheck): string[] {
  const w: string[] = [];
  const ignored = check.ignoredListingLines;
  if (ignored.length) w.push(`${ignored.length} line(s) from the scope listing are not .dat paths (complaints from find included), first: ${ignored[0]}`);
  if (check.report.range.first === undefined) w.push('no logs and no expected first/last .dat names: every .dat in the scope listing counts as part of this tab');
  return w;
}

/** A repair: what was archived, converted and quarantined, and how many tiles are still not whole. */
function repairReport(run: string, jobs: JobRecord[], tiles: LedgerRecord<StepResult>[]): RunReport {
  const ids = new Set(jobs.map((j) => j.id));
  const results = tiles.filter((t) => t.jobId !== null && ids.has(t.jobId)).map((t) => t.body);
  const archived = results.filter((r) => r.archived).length;
  const converted = results.filter((r) => r.converted).length;
  const quarantined = results.filter((r) => r.quarantined).length;
  const failed = jobs.filter((j) => j.state !== 'success').length;
  const folder = (jobs[0]?.params as RepairParams | undefined)?.folders.quarantine;
  const lines = [`${archived} .dat archived, ${converted} InLens PNG converted, ${quarantined} quarantined${folder ? ` in ${folder}` : ''}, ${failed} tile(s) failed`];
  if (failed) lines.push('run `ferry fibsem check` to see what is still missing; quarantined files have a .reason.txt beside them');
  return { run, ok: failed === 0, lines, data: { tiles: jobs.length, archived, converted, quarantined, failed } };
}

