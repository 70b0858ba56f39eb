// ferry mouselight upload | neurons: publishing a MouseLight sample (seed 001). `upload` turns the
// chosen products of a sample date into tracked, verified transfer jobs and runs them (here, or
// the large ones on Slurm / LSF); `neurons` builds each date's metadata.json from NeuronBrowser
// and the tracings already in the bucket. Their actions load from mouselight-upload.ts and
// mouselight-neurons.ts when one runs.
import { Option } from 'commander';
import type { Command } from 'commander';
import { repeatableList as list } from '../parse.ts';
import { addStoreOptions, parseCount, LEDGER_HELP } from '../store-options.ts';

/**
 * The same as DEFAULT_LAYOUT_FILE in recipes/mouselight/layout.ts (startup.test.ts holds them
 * equal), written out here because importing it would load yaml and zod for every command.
 */
export const DEFAULT_LAYOUT_FILE = 'mouselight.yaml';

export function register(program: Command): void {
  const ml = program.command('mouselight').description('publish MouseLight samples: upload their products, write per-date neuron metadata');

  addStoreOptions(
    ml
      .command('upload')
      .description('upload the chosen products of a sample date as tracked, verified jobs')
      .option('--config <file>', 'facility layout (YAML)', DEFAULT_LAYOUT_FILE)
      .option('--sample <date>', 'sample date, YYYY-MM-DD (asked for on a terminal)')
      .option('--products <list>', 'comma-separated products (chosen from a list on a terminal; e.g. images,registration)', list)
      .option('--subfolder <list>', 'segmentation sub-folder(s) of the sample, comma-separated (e.g. stitching-output)', list)
      .option('--dry-run', 'print every operation; plan and copy nothing')
      .option('--resync', 'sync products that were already verified again (their sources gained or changed files)')
      .option('--emit-script [dir]', 'write the equivalent aws s3 / bsub shell scripts into dir (default: here) instead of running')
      .addOption(new Option('--submit <scheduler>', 'run the cluster products on Slurm or LSF workers (the rest here)').choices(['slurm', 'lsf']))
      .addOption(new Option('--workers <n>', 'cluster workers to start with --submit (default: one per cluster job)').argParser(parseCount('--workers')))
      .option('--time <limit>', 'time limit per cluster worker with --submit: minutes, H:MM, 2h...')
      .addOption(new Option('--concurrency <n>', 'jobs run at once here').default(4).argParser(parseCount('--concurrency')))
      .option('--ledger <url>', LEDGER_HELP),
  ).action(async (_o, cmd: Command) => (await import('./mouselight-upload.ts')).upload(cmd));

  addStoreOptions(
    ml
      .command('neurons')
      .description('build each date\'s neurons/<location>/<date>/metadata.json; print it, or upload it with --write')
      .option('--config <file>', 'facility layout (YAML)', DEFAULT_LAYOUT_FILE)
      .option('--answer <file>', `a saved NeuronBrowser answer (JSON) instead of asking neurons.graphql`)
      .option('--location <list>', 'tracing locations, comma-separated (default: neurons.locations of the layout)', list)
      .option('--date <list>', 'only these sample dates, comma-separated', list)
      .option('--write', 'upload the metadata files (default: print what would be uploaded)')
      .option('--ledger <url>', LEDGER_HELP),
  ).action(async (_o, cmd: Command) => (await import('./mouselight-neurons.ts')).neurons(cmd));
}
