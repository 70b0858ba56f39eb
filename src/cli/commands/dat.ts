// `ferry dat info` and `ferry dat to-png`: the FIB-SEM `.dat` format from the command line. The
// readers and the converter load from dat-run.ts when one of them runs.
import { availableParallelism } from 'node:os';
import type { Command } from 'commander';

export function register(program: Command): void {
  const dat = program.command('dat').description('FIB-SEM .dat files: read headers, convert to InLens PNG');

  dat
    .command('info')
    .description('print the header of each .dat file')
    .argument('<files...>', '.dat files')
    .action(async (files: string[], _opts: unknown, cmd: Command) => (await import('./dat-run.ts')).datInfo(files, cmd));

  dat
    .command('to-png')
    .description('convert channel 0 of each .dat file to an 8-bit InLens PNG (FlyEM Compress rule) and write its log')
    .argument('<files...>', '.dat files')
    .requiredOption('--out <dir>', 'folder for <datBase>-InLens.png')
    .option('--logs <dir>', 'folder for <datBase>.log (default: "logs" beside --out, the FlyEM InLens/ + logs/ layout)')
    .option('--jobs <n>', 'files converted at once', String(Math.min(availableParallelism(), 8)))
    .action(async (files: string[], opts: { out: string; logs?: string; jobs: string }, cmd: Command) => (await import('./dat-run.ts')).datToPng(files, opts, cmd));
}
