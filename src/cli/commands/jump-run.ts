// The actions of `ferry jump plan | import-joblist` (see jump.ts).
import type { Command } from 'commander';
import { basename, isAbsolute, resolve } from 'node:path';
import { EXIT_OK, EXIT_PARTIAL, FerryError } from '../../errors.ts';
import { openLedger } from '../../ledger/open.ts';
import { discoverPlates } from '../../recipes/jump/discover.ts';
import { importOldJobs } from '../../recipes/jump/import.ts';
import { planPlates } from '../../recipes/jump/plan.ts';
import { localPathOf } from '../../storage/spec.ts';
import { Output } from '../output.ts';
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

export async function planJump(o: PlanOptions, cmd: Command): Promise<void> {
  const out = new Output({ json: cmd.optsWithGlobals().json });
  checkDest(o.dest);
  const results = resolve(o.results);
  const found = await discoverPlates(results, { sourcesUnder: o.sourcesUnder, batchesUnder: o.batchesUnder, dataset: o.dataset });
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
  if (found.plates.length === 0) throw new FerryError(`no plates with a <plate>.zarr folder under ${results}`, { hint: 'check --results and --batches-under' });
  const runName = o.run ?? `jump-${basename(results)}`;
  if (o.dryRun) {
    out.line(`Dry run: would plan ${found.plates.length} plate job(s) in run '${runName}'.`);
    return;
  }
  const ledger = await openLedger(o.ledger);
  try {
    const { added } = await planPlates(ledger, runName, found.plates, { dest: o.dest, keyTemplate: o.keyTemplate, transfers: o.transfers, store: storeOptionsFrom(o) }, { results });
    out.line(`Created ${added} job(s) in run '${runName}' (${found.plates.length - added} already planned).`);
    out.line(`Next: ferry work --run ${runName}   or   ferry submit --scheduler slurm --workers 8 --run ${runName}`);
    out.event('planned', { run: runName, plates: found.plates.length, added, skipped: found.skipped.length });
  } finally {
    await ledger.close();
  }
}

export async function importJoblist(dir: string, o: JumpOptions, cmd: Command): Promise<void> {
  const out = new Output({ json: cmd.optsWithGlobals().json });
  checkDest(o.dest);
  const runName = o.run ?? `jump-${basename(resolve(dir))}`;
  const ledger = await openLedger(o.ledger);
  try {
    const r = await importOldJobs(ledger, resolve(dir), runName, { dest: o.dest, keyTemplate: o.keyTemplate, transfers: o.transfers, store: storeOptionsFrom(o) }, o.dataset);
    out.line(`Read ${r.read} job file(s): imported ${r.added} into run '${runName}' (${r.read - r.added} were already there).`);
    for (const [state, n] of Object.entries(r.states)) out.line(`  ${state}: ${n}`);
    if (r.problems.length) {
      out.line(`${r.problems.length} file(s) not imported:`);
      for (const p of r.problems) out.line(`  - ${p.file}: ${p.reason}`);
    }
    out.event('imported', { run: runName, ...r });
    process.exitCode = r.problems.length ? EXIT_PARTIAL : EXIT_OK;
  } finally {
    await ledger.close();
  }
}

function checkDest(dest: string): void {
  const local = localPathOf(dest);
  if (local !== undefined && !isAbsolute(local)) {
    throw new FerryError(`--dest ${dest} is a relative local path`, { hint: 'use s3://BUCKET/PREFIX, gs://BUCKET/PREFIX or an absolute folder' });
  }
}
