// ferry demo: the main job on embedded defaults, with no server and no cloud account. The action
// (ledger, workers, transfer engine) is in demo-run.ts and loads only when the demo runs.
import { Option } from 'commander';
import type { Command } from 'commander';
import { parseCount } from '../store-options.ts';

export function register(program: Command): void {
  program
    .command('demo')
    .description('generate a sample acquisition, copy it into a local "bucket" folder as ledger jobs run by local workers, verify it and print the proof')
    .option('--dir <path>', 'folder for the demo (instrument/, bucket/, the ledger and Ferry\'s working files)', 'ferry-demo')
    .addOption(new Option('--tiles <n>', 'number of tile files to generate').default(300).argParser(parseCount('--tiles')))
    .addOption(new Option('--workers <n>', 'jobs run at once').default(2).argParser(parseCount('--workers')))
    .action(async (o, cmd: Command) => (await import('./demo-run.ts')).runDemo(o, cmd));
}
