// `ferry fibsem check | repair | convert TAB.yaml`: the FlyEM acquisition check (check_tabs), the
// re-fetch of what is missing (03/04_fetch_missing scripts), and the InLens conversion as jobs.
// check runs from fibsem-check.ts, repair from fibsem-repair.ts, convert from fibsem-convert.ts (it
// needs the ledger), each loaded when its command runs.
import type { Command } from 'commander';
import { FerryError } from '../../errors.ts';
import { LEDGER_HELP } from '../store-options.ts';

export interface ScopeOptions {
  scopeListing?: string;
  sshConfig?: string;
}

export interface RepairOptions extends ScopeOptions {
  parallel: number;
  dryRun?: boolean;
}

export interface ConvertOptions {
  batch: number;
  run?: string;
  ledger?: string;
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
  ).action(async (tabFile: string, opts: ScopeOptions, cmd: Command) => (await import('./fibsem-check.ts')).checkTab(tabFile, opts, cmd));

  scopeOptions(
    fibsem
      .command('repair')
      .description('fetch every missing .dat from the scope over ssh into the archive, archive unarchived ones, convert missing InLens PNGs; bad files go to quarantine')
      .argument('<tab>', 'tab description (YAML)')
      .option('--parallel <n>', 'files fetched and converted at once', positiveInt, 8)
      .option('--dry-run', 'print what would be fetched, archived and converted, and change nothing'),
  ).action(async (tabFile: string, opts: RepairOptions, cmd: Command) => (await import('./fibsem-repair.ts')).repairTab(tabFile, opts, cmd));

  fibsem
    .command('convert')
    .description('plan the InLens PNG conversion of every .dat whose PNG is missing as fibsem.convert jobs (run them with `ferry work` or `ferry submit`)')
    .argument('<tab>', 'tab description (YAML)')
    .option('--batch <n>', 'tiles per job', positiveInt, 50)
    .option('--run <name>', 'run to plan the jobs in (default: fibsem-<tab>-inlens)')
    .option('--ledger <url>', LEDGER_HELP)
    .action(async (tabFile: string, opts: ConvertOptions, cmd: Command) => (await import('./fibsem-convert.ts')).planConvert(tabFile, opts, cmd));
}
