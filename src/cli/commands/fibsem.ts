// `ferry fibsem check | repair | convert TAB.yaml`: the FlyEM acquisition check (check_tabs), the
// re-fetch of what is missing (03/04_fetch_missing scripts), and the InLens conversion as jobs.
import type { Command } from 'commander';
import { EXIT_OK, EXIT_PARTIAL, FerryError } from '../../errors.ts';
import { openLedger } from '../../ledger/open.ts';
import { runTabCheck, sshTarget } from '../../recipes/fibsem/check.ts';
import type { TabCheck } from '../../recipes/fibsem/check.ts';
import { convertRunName, planConvertJobs } from '../../recipes/fibsem/convert-plan.ts';
import { describeStep, planRepair, runRepair } from '../../recipes/fibsem/repair.ts';
import type { StepResult } from '../../recipes/fibsem/repair.ts';
import { formatTabReport } from '../../recipes/fibsem/report.ts';
import { loadTab } from '../../recipes/fibsem/tab.ts';
import type { Tab } from '../../recipes/fibsem/tab.ts';
import { Output } from '../output.ts';
import { LEDGER_HELP } from '../store-options.ts';

interface ScopeOpts {
  scopeListing?: string;
  sshConfig?: string;
}

function positiveInt(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new FerryError(`expected a whole number of at least 1, got ${JSON.stringify(v)}`);
  return n;
}

export function register(program: Command): void {
  const fibsem = program.command('fibsem').description('FIB-SEM acquisitions: check every transfer stage of a tab, fetch what is missing, convert to InLens PNG');
  const scopeOptions = (c: Command) =>
    c
      .option('--scope-listing <file>', 'a saved listing of the .dat files on the scope, one path a line (default: scope.listing, else `find` over ssh)')
      .option('--ssh-config <file>', 'ssh config file to use instead of ~/.ssh/config (default: scope.sshConfig)');

  scopeOptions(
    fibsem
      .command('check')
      .description('count every stage of a tab (InLens png, transferred dat, archived dat, scope dat, logs) and list what is missing; exit 0 only when nothing is')
      .argument('<tab>', 'tab description (YAML)'),
  ).action(async (tabFile: string, opts: ScopeOpts, cmd: Command) => {
    const out = new Output({ json: cmd.optsWithGlobals().json });
    const tab = await loadTab(tabFile);
    const check = await checkWithWarnings(tab, opts, out);
    const { report } = check;
    out.event('tabCheck', { tab: tab.tab, scopeSource: check.scopeSource, scopeDays: check.scopeDays, ...report, ignoredListingLines: check.ignoredListingLines });
    for (const line of formatTabReport(tab.tab, report)) out.line(line);
    process.exitCode = report.complete ? EXIT_OK : EXIT_PARTIAL;
  });

  scopeOptions(
    fibsem
      .command('repair')
      .description('fetch every missing .dat from the scope over ssh into the archive, archive unarchived ones, convert missing InLens PNGs; bad files go to quarantine')
      .argument('<tab>', 'tab description (YAML)')
      .option('--parallel <n>', 'files fetched and converted at once', positiveInt, 8)
      .option('--dry-run', 'print what would be fetched, archived and converted, and change nothing'),
  ).action(async (tabFile: string, opts: ScopeOpts & { parallel: number; dryRun?: boolean }, cmd: Command) => {
    const out = new Output({ json: cmd.optsWithGlobals().json });
    const tab = await loadTab(tabFile);
    const check = await checkWithWarnings(tab, opts, out);
    const steps = planRepair(tab, check);
    const target = sshTarget(tab, opts.sshConfig);
    out.event('repairPlan', {
      tab: tab.tab,
      dryRun: Boolean(opts.dryRun),
      steps: steps.map((s) => ({ core: s.core, fetch: s.fetch, convert: s.convert })),
    });
    const fetches = steps.filter((s) => s.fetch?.from === 'scope').length;
    const copies = steps.filter((s) => s.fetch?.from === 'transferred').length;
    const converts = steps.filter((s) => s.convert).length;
    out.line(`${tab.tab}: ${fetches} .dat to fetch from ${target.host}, ${copies} to archive from the transferred folder, ${converts} InLens PNG to convert`);
    if (opts.dryRun) {
      for (const s of steps) for (const l of describeStep(s, target.host, tab)) out.line(`would ${l}`);
      return;
    }
    if (steps.length === 0) return;

    let done = 0;
    let failed = 0;
    let bytes = 0;
    const stop = out.startProgress(() => ({ unit: 'tiles', done, total: steps.length, failed, bytesDone: bytes }));
    // Ctrl-C: stop the fetches cleanly (no partial file stays behind) instead of dying mid-write.
    const stopping = new AbortController();
    const onSignal = () => stopping.abort();
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    let results: StepResult[];
    try {
      results = await runRepair(tab, steps, {
        parallel: opts.parallel,
        target,
        signal: stopping.signal,
        onBytes: (n) => (bytes += n),
        onResult: (r) => {
          done++;
          if (r.error) {
            failed++;
            out.warn(`${r.core}: ${r.error}${r.quarantined ? ` (moved to ${r.quarantined.path})` : ''}`);
          }
          out.event('tile', { ...r });
        },
      });
    } finally {
      stop();
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
    const archived = results.filter((r) => r.archived).length;
    const converted = results.filter((r) => r.converted).length;
    const quarantined = results.filter((r) => r.quarantined).length;
    out.event('repairSummary', { tab: tab.tab, tiles: steps.length, archived, converted, quarantined, failed, bytes });
    out.line(`${archived} .dat archived, ${converted} InLens PNG converted, ${quarantined} quarantined in ${tab.folders.quarantine}, ${failed} tile(s) failed`);
    if (failed) {
      out.line('run `ferry fibsem check` to see what is still missing; quarantined files have a .reason.txt beside them');
      process.exitCode = EXIT_PARTIAL;
    }
  });

  fibsem
    .command('convert')
    .description('plan the InLens PNG conversion of every .dat whose PNG is missing as fibsem.convert jobs (run them with `ferry work` or `ferry submit`)')
    .argument('<tab>', 'tab description (YAML)')
    .option('--batch <n>', 'tiles per job', positiveInt, 50)
    .option('--run <name>', 'run to plan the jobs in (default: fibsem-<tab>-inlens)')
    .option('--ledger <url>', LEDGER_HELP)
    .action(async (tabFile: string, opts: { batch: number; run?: string; ledger?: string }, cmd: Command) => {
      const out = new Output({ json: cmd.optsWithGlobals().json });
      const tab = await loadTab(tabFile);
      const { jobs, tiles } = await planConvertJobs(tab, opts.batch);
      const ledger = await openLedger(opts.ledger);
      try {
        const run = await ledger.createRun({ name: opts.run ?? convertRunName(tab), labels: { recipe: 'fibsem', tab: tab.tab } });
        const added = await ledger.addJobs(run.id, jobs);
        out.event('planned', { tab: tab.tab, run: run.name, tiles, jobs: jobs.length, added });
        out.line(`${tab.tab}: ${tiles} tile(s) without an InLens PNG in ${jobs.length} job(s), ${added} new, in run ${run.name}`);
        if (added) out.line(`run them here with: ferry work --run ${run.name} --until-empty  (or on a cluster with ferry submit --run ${run.name})`);
      } finally {
        await ledger.close();
      }
    });
}

async function checkWithWarnings(tab: Tab, opts: ScopeOpts, out: Output): Promise<TabCheck> {
  const check = await runTabCheck(tab, { listing: opts.scopeListing, sshConfig: opts.sshConfig });
  const ignored = check.ignoredListingLines;
  if (ignored.length) out.warn(`${ignored.length} line(s) from the scope listing are not .dat paths (complaints from find included), first: ${ignored[0]}`);
  if (check.report.range.first === undefined) {
    out.warn('no logs and no expected first/last .dat names: every .dat in the scope listing counts as part of this tab');
  }
  return check;
}
