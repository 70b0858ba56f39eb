// `ferry fibsem check | repair | convert | render-import TAB.yaml`: the FlyEM acquisition check
// (check_tabs), the re-fetch of what is missing (03/04_fetch_missing scripts), the InLens conversion
// as jobs, and the import into Render (06_dat_to_render.sh). The actions are in fibsem-run.ts,
// loaded when a command runs.
import type { Command } from 'commander';
import type { ConvertOptions, RenderImportOptions, RepairOptions, ScopeOptions } from './fibsem-run.ts';
import { FerryError } from '../../errors.ts';
import { LEDGER_HELP, parseCount } from '../store-options.ts';

/**
 * The Render import's defaults, written out here (startup.test.ts holds them equal to the ones in
 * src/render and the recipe) because importing them would load the planner for every command.
 */
export const RENDER_DEFAULTS = { stack: 'v1_acquire', verifyLayers: 100, maxBatch: 5000 };

function batchSize(v: string): number {
  const n = parseCount('--batch')(v);
  if (n > RENDER_DEFAULTS.maxBatch) throw new FerryError(`--batch ${n}: render-ws is sent at most ${RENDER_DEFAULTS.maxBatch} tiles a request`, { kind: 'usage' });
  return n;
}

function verifyLayers(v: string): 'all' | number {
  if (v === 'all') return 'all';
  if (!/^\d+$/.test(v) || Number(v) < 1) throw new FerryError(`--verify takes all or a number of layers, not ${JSON.stringify(v)}`, { kind: 'usage' });
  return Number(v);
}

export function register(program: Command): void {
  const fibsem = program.command('fibsem').description('FIB-SEM acquisitions: check every transfer stage of a tab, fetch what is missing, convert to InLens PNG, import into Render');
  const scopeOptions = (c: Command) =>
    c
      .option('--scope-listing <file>', 'a saved listing of the .dat files on the scope, one path a line (default: scope.listing, else `find` over ssh)')
      .option('--ssh-config <file>', 'ssh config file to use instead of ~/.ssh/config (default: scope.sshConfig)')
      .option('--ledger <url>', LEDGER_HELP);

  scopeOptions(
    fibsem
      .command('check')
      .description('count every stage of a tab (InLens png, transferred dat, archived dat, scope dat, logs) and list what is missing; exit 0 only when nothing is')
      .argument('<tab>', 'tab description (YAML)'),
  ).action(async (tabFile: string, opts: ScopeOptions, cmd: Command) => {
    // The check's folders are listed while the ledger and the recipe load (check.ts says why).
    await (await import('../../recipes/fibsem/check.ts')).startReading(tabFile, { listing: opts.scopeListing });
    return (await import('./fibsem-run.ts')).checkTab(tabFile, opts, cmd);
  });

  scopeOptions(
    fibsem
      .command('repair')
      .description('fetch every missing .dat from the scope over ssh into the archive, archive unarchived ones, convert missing InLens PNGs; bad files go to quarantine')
      .argument('<tab>', 'tab description (YAML)')
      .option('--parallel <n>', 'files fetched and converted at once', parseCount('--parallel'), 8)
      .option('--dry-run', 'print what would be fetched, archived and converted, and change nothing'),
  ).action(async (tabFile: string, opts: RepairOptions, cmd: Command) => (await import('./fibsem-run.ts')).repairTab(tabFile, opts, cmd));

  fibsem
    .command('convert')
    .description('plan the InLens PNG conversion of every .dat whose PNG is missing as fibsem.convert jobs (run them with `ferry work` or `ferry submit`)')
    .argument('<tab>', 'tab description (YAML)')
    .option('--batch <n>', 'tiles per job', parseCount('--batch'), 50)
    .option('--run <name>', 'run to plan the jobs in (default: fibsem-<tab>-inlens)')
    .option('--ledger <url>', LEDGER_HELP)
    .action(async (tabFile: string, opts: ConvertOptions, cmd: Command) => (await import('./fibsem-run.ts')).planConvert(tabFile, opts, cmd));

  fibsem
    .command('render-import')
    .description(
      'import the Render tile specs of every transferred .dat into render-ws (<stack>_restart, then <stack>) as resumable batch jobs run here, then read both stacks back; exit 0 only when both are COMPLETE and verified',
    )
    .argument('<tab>', 'tab description (YAML)')
    .option('--render-url <url>', 'render-ws base URL, e.g. http://renderer:8080/render-ws/v1 (default: render.url of the tab)')
    .option('--owner <name>', 'Render owner (default: render.owner)')
    .option('--project <name>', 'Render project (default: render.project)')
    .option('--stack <name>', `stack (default: render.stack, else ${RENDER_DEFAULTS.stack}); restarts also go to <stack>_restart`)
    .option('--replace', 'remove tiles of an earlier import that this one does not plan (without it, such tiles stop the import)')
    .option('--allow-missing', 'import without the .dat files that cannot be read, so their layers have holes')
    .option('--verify <all|n>', `compare the tile specs of every layer, or of n layers (default: ${RENDER_DEFAULTS.verifyLayers})`, verifyLayers)
    .option('--batch <n>', `tiles per request (default and most: ${RENDER_DEFAULTS.maxBatch})`, batchSize)
    .option('--parallel <n>', 'requests in flight at once', parseCount('--parallel'), 3)
    .option('--run <name>', 'run in the ledger (default: fibsem-<tab>-render-<stack>)')
    .option('--dry-run', 'read the headers and show the stacks and the tile specs as they would be sent (every spec with --json); send nothing')
    .option('--ledger <url>', LEDGER_HELP)
    .action(async (tabFile: string, opts: RenderImportOptions, cmd: Command) => (await import('./fibsem-run.ts')).renderImport(tabFile, opts, cmd));
}
