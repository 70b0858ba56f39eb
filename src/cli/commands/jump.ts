// ferry jump plan | import-joblist: JUMP Cell Painting plate uploads (seed 002). The actions, which
// need the ledger, load from jump-run.ts when one runs.
import { Option } from 'commander';
import type { Command } from 'commander';
import { addStoreOptions, parseCount, LEDGER_HELP } from '../store-options.ts';

/**
 * The same as DEFAULT_KEY_TEMPLATE in recipes/jump/plan.ts (startup.test.ts holds them equal), written
 * out here because importing it would load the planner, the transfer job and zod for every command.
 */
export const DEFAULT_KEY_TEMPLATE = '{gallery_path}';

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
  ).action(async (o, cmd: Command) => (await import('./jump-run.ts')).planJump(o, cmd));

  addPlanOptions(
    jump
      .command('import-joblist')
      .description('read a folder of job files from the old scripts (status, plate folder, ---, log) into the ledger, keeping states and logs')
      .argument('<dir>', 'folder of source_N__batch__plate.txt files'),
  ).action(async (dir: string, o, cmd: Command) => (await import('./jump-run.ts')).importJoblist(dir, o, cmd));
}
