// The action of `ferry fibsem check` (see fibsem.ts), and the check `repair` starts with. It reads
// the scope, the archive and the transferred folders but never the ledger, and loads none of what
// a repair needs to fetch and convert (fibsem-repair.ts): a check is run often, by hand.
import type { Command } from 'commander';
import { EXIT_OK, EXIT_PARTIAL } from '../../errors.ts';
import { runTabCheck } from '../../recipes/fibsem/check.ts';
import type { TabCheck } from '../../recipes/fibsem/check.ts';
import { formatTabReport } from '../../recipes/fibsem/report.ts';
import { loadTab } from '../../recipes/fibsem/tab.ts';
import type { Tab } from '../../recipes/fibsem/tab.ts';
import { Output } from '../output.ts';
import type { ScopeOptions } from './fibsem.ts';

export async function checkTab(tabFile: string, opts: ScopeOptions, cmd: Command): Promise<void> {
  const out = new Output({ json: cmd.optsWithGlobals().json });
  const tab = await loadTab(tabFile);
  const check = await checkWithWarnings(tab, opts, out);
  const { report } = check;
  out.event('tabCheck', { tab: tab.tab, scopeSource: check.scopeSource, scopeDays: check.scopeDays, ...report, ignoredListingLines: check.ignoredListingLines });
  for (const line of formatTabReport(tab.tab, report)) out.line(line);
  process.exitCode = report.complete ? EXIT_OK : EXIT_PARTIAL;
}

/** The check that `check` and `repair` start with, its warnings printed. */
export async function checkWithWarnings(tab: Tab, opts: ScopeOptions, out: Output): Promise<TabCheck> {
  const check = await runTabCheck(tab, { listing: opts.scopeListing, sshConfig: opts.sshConfig });
  const ignored = check.ignoredListingLines;
  if (ignored.length) out.warn(`${ignored.length} line(s) from the scope listing are not .dat paths (complaints from find included), first: ${ignored[0]}`);
  if (check.report.range.first === undefined) {
    out.warn('no logs and no expected first/last .dat names: every .dat in the scope listing counts as part of this tab');
  }
  return check;
}
