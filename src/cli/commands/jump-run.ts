// The actions of `ferry jump plan | import-joblist` (see jump.ts): parse, call the JUMP recipe
// through the orchestration service, print what it found and planned.
import type { Command } from 'commander';
import { isAbsolute } from 'node:path';
import { FerryError } from '../../errors.ts';
import type { Discovery } from '../../recipes/jump/discover.ts';
import { localPathOf } from '../../storage/spec.ts';
import { Output } from '../output.ts';
import { plannedEvent, runRecipeCommand } from '../run-recipe.ts';
import { storeOptionsFrom } from '../store-options.ts';

/** The options of jump.ts; the storage flags ride along for storeOptionsFrom. */
type JumpOptions = Record<string, unknown> & {
  dest: string;
  run?: string;
  keyTemplate: string;
  dataset: string;
  transfers?: number;
  ledger?: string;
};

type PlanOptions = JumpOptions & {
  results: string;
  sourcesUnder?: string;
  batchesUnder: string;
  dryRun?: boolean;
};

function common(o: JumpOptions) {
  checkDest(o.dest);
  return { dest: o.dest, run: o.run, keyTemplate: o.keyTemplate, dataset: o.dataset, transfers: o.transfers, store: storeOptionsFrom(o) };
}

export async function planJump(o: PlanOptions, cmd: Command): Promise<void> {
  const out = new Output({ json: cmd.optsWithGlobals().json });
  const input = { action: 'plan', results: o.results, sourcesUnder: o.sourcesUnder, batchesUnder: o.batchesUnder, ...common(o) };
  await runRecipeCommand({
    recipe: 'jump',
    input,
    ledger: o.ledger,
    out,
    dryRun: o.dryRun,
    run: 'none',
    onPlanned: (outcome) => {
      out.event('planned', plannedEvent(outcome));
      const { plan, runs, dryRun } = outcome;
      const found = plan.facts!.discovery as Discovery;
      const runName = plan.facts!.run as string;
      out.line(`Found ${found.sources.length} source(s):`);
      for (const s of found.sources) out.line(`  - ${s.source}`);
      for (const s of found.sources) {
        out.line(`Found ${s.batches.length} batch(es) for source '${s.source}'.`);
        for (const b of s.batches) out.line(`Found ${b.plates} plate(s) for source '${s.source}' in batch '${b.batch}'.`);
      }
      if (found.skipped.length) {
        out.line(`Skipped ${found.skipped.length} plate folder(s):`);
        for (const k of found.skipped) out.line(`  - ${k.path}: ${k.reason}`);
      }
      out.event('discovery', { ...found });
      if (found.plates.length === 0) throw new FerryError(`no plates with a <plate>.zarr folder under ${input.results}`, { hint: 'check --results and --batches-under' });
      if (dryRun) {
        out.line(`Dry run: would plan ${found.plates.length} plate job(s) in run '${runName}'.`);
        return;
      }
      const { added, jobs } = runs[0];
      out.line(`Created ${added} job(s) in run '${runName}' (${jobs - added} already planned).`);
      out.line(`Next: ferry work --run ${runName} --until-empty   or   ferry submit --scheduler slurm --workers 8 --run ${runName}`);
    },
    onDone: () => {},
  });
}

export async function importJoblist(dir: string, o: JumpOptions, cmd: Command): Promise<void> {
  const out = new Output({ json: cmd.optsWithGlobals().json });
  await runRecipeCommand({
    recipe: 'jump',
    input: { action: 'import', joblist: dir, ...common(o) },
    ledger: o.ledger,
    out,
    run: 'none',
    onPlanned: ({ plan }) => {
      const f = plan.facts as { read: number; fresh: number; states: Record<string, number>; problems: { file: string; reason: string }[]; run: string };
      out.line(`Read ${f.read} job file(s): imported ${f.fresh} into run '${f.run}' (${f.read - f.fresh} were already there).`);
      for (const [state, n] of Object.entries(f.states)) out.line(`  ${state}: ${n}`);
      if (f.problems.length) {
        out.line(`${f.problems.length} file(s) not imported:`);
        for (const p of f.problems) out.line(`  - ${p.file}: ${p.reason}`);
      }
      out.event('imported', { run: f.run, read: f.read, added: f.fresh, states: f.states, problems: f.problems });
    },
    onDone: () => {},
  });
}

function checkDest(dest: string): void {
  const local = localPathOf(dest);
  if (local !== undefined && !isAbsolute(local)) {
    throw new FerryError(`--dest ${dest} is a relative local path`, { hint: 'use s3://BUCKET/PREFIX, gs://BUCKET/PREFIX or an absolute folder' });
  }
}
