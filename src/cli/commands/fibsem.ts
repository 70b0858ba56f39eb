// `ferry fibsem check TAB.yaml`: the FlyEM acquisition check (check_tabs) as one command.
import type { Command } from 'commander';
import { EXIT_OK, EXIT_PARTIAL } from '../../errors.ts';
import { runTabCheck } from '../../recipes/fibsem/check.ts';
import { formatTabReport } from '../../recipes/fibsem/report.ts';
import { loadTab } from '../../recipes/fibsem/tab.ts';
import { Output } from '../output.ts';

export function register(program: Command): void {
  const fibsem = program.command('fibsem').description('FIB-SEM acquisitions: check every transfer stage of a tab');

  fibsem
    .command('check')
    .description('count every stage of a tab (InLens png, transferred dat, archived dat, scope dat, logs) and list what is missing; exit 0 only when nothing is')
    .argument('<tab>', 'tab description (YAML)')
    .option('--scope-listing <file>', 'listing of the .dat files on the scope, one path a line (overrides scope.listing)')
    .action(async (tabFile: string, opts: { scopeListing?: string }, cmd: Command) => {
      const out = new Output({ json: cmd.optsWithGlobals().json });
      const tab = await loadTab(tabFile);
      const { report, ignoredListingLines } = await runTabCheck(tab, opts.scopeListing ?? tab.scope.listing);
      if (ignoredListingLines.length) {
        out.warn(`${ignoredListingLines.length} line(s) of the scope listing name no .dat file, first: ${ignoredListingLines[0]}`);
      }
      if (report.range.first === undefined) {
        out.warn('no logs and no expected first/last .dat names: every .dat in the scope listing counts as part of this tab');
      }
      out.event('tabCheck', { tab: tab.tab, ...report, ignoredListingLines });
      for (const line of formatTabReport(tab.tab, report)) out.line(line);
      process.exitCode = report.complete ? EXIT_OK : EXIT_PARTIAL;
    });
}
