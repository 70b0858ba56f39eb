// The action of `ferry fibsem repair` (see fibsem.ts): the check, then fetches and conversions.
import type { Command } from 'commander';
import { EXIT_PARTIAL } from '../../errors.ts';
import { sshTarget } from '../../recipes/fibsem/check.ts';
import { describeStep, planRepair, runRepair } from '../../recipes/fibsem/repair.ts';
import type { StepResult } from '../../recipes/fibsem/repair.ts';
import { loadTab } from '../../recipes/fibsem/tab.ts';
import { Output } from '../output.ts';
import type { RepairOptions } from './fibsem.ts';
import { checkWithWarnings } from './fibsem-check.ts';

export async function repairTab(tabFile: string, opts: RepairOptions, cmd: Command): Promise<void> {
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
}
