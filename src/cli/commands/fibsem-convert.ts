// The action of `ferry fibsem convert` (see fibsem.ts): plans the conversion into the ledger.
import type { Command } from 'commander';
import { openLedger } from '../../ledger/open.ts';
import { convertRunName, planConvertJobs } from '../../recipes/fibsem/convert-plan.ts';
import { loadTab } from '../../recipes/fibsem/tab.ts';
import { Output } from '../output.ts';
import type { ConvertOptions } from './fibsem.ts';

export async function planConvert(tabFile: string, opts: ConvertOptions, cmd: Command): Promise<void> {
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
}
