// ferry jump plan | import-joblist: JUMP Cell Painting plate uploads (seed 002).
import { Option } from 'commander';
import type { Command } from 'commander';
import { basename, resolve } from 'node:path';
import { EXIT_OK, EXIT_PARTIAL, FerryError } from '../../errors.ts';
import { openLedger } from '../../ledger/open.ts';
import { discoverPlates } from '../../recipes/jump/discover.ts';
import { importOldJobs } from '../../recipes/jump/import.ts';
import { DEFAULT_KEY_TEMPLATE, planPlates } from '../../recipes/jump/plan.ts';
import { parseStoreUrl } from '../../storage/open.ts';
import { Output } from '../output.ts';
import { addStoreOptions, parseCount, storeOptionsFrom, LEDGER_HELP } from '../store-options.ts';


function addPlanOptions(cmd: Command): Command {
  return addStoreOptions(
    cmd
      .requiredOption('--dest <url>', 'destination, with any key prefix: s3://staging-cellpainting-gallery/LAB_FOLDER')
      .option('--run <name>', 'run name in the ledger (default: jump-<results folder name>)')
      .option('--key-template <template>', 'destination path of a plate under --dest; {gallery_path} {source} {batch} {plate}', DEFAULT_KEY_TEMPLATE)
      .option('--dataset <name>', 'gallery dataset folder that {gallery_path} starts from', 'cpg0016-jump')
      .addOption(new Option('--transfers <n>', 'files of one plate in flight at once').argParser(parseCount('--transfers')))
      .option('--ledger <url>', LEDGER_HELP),
  );
}

export function register(program: Command): void {
  const jump = program.command('jump').description('JUMP Cell Painting: one verified, resumable upload job per plate');

  addPlanOptions(
    jump
      .command('plan')
      .description('find every source_N/batch/plate with <plate>.zarr under --results and create one upload job per plate')
      .requiredOption('--results <dir>', 'the segmentation results folder')
      .option('--sources-under <glob>', 'where the source_N folders are, relative to --results (default: found at any depth)')
      .option('--batches-under <glob>', 'where the batch folders are, relative to source_N', 'workspace/segmentation/*/objects')
      .option('--dry-run', 'print what would be planned, create no jobs'),
  ).action(async (o, cmd: Command) => {
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
  });

  addPlanOptions(
    jump
      .command('import-joblist')
      .description('read a folder of job files from the old scripts (status, plate folder, ---, log) into the ledger, keeping states and logs')
      .argument('<dir>', 'folder of source_N__batch__plate.txt files'),
  ).action(async (dir: string, o, cmd: Command) => {
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
  });
}

function checkDest(dest: string): void {
  const p = parseStoreUrl(dest);
  if (p.scheme === 'file' && !dest.startsWith('/') && !dest.startsWith('file:')) {
    throw new FerryError(`--dest ${dest} is a relative local path`, { hint: 'use s3://BUCKET/PREFIX, gs://BUCKET/PREFIX or an absolute folder' });
  }
}
