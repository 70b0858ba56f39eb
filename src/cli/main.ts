// Entry point: builds the command tree and turns every failure into a message and an exit code.
import { Command, CommanderError } from 'commander';
import { EXIT_BUG, EXIT_USAGE, isFerryError } from '../errors.ts';
import { registerCommands } from './commands/index.ts';

export function buildProgram(): Command {
  const program = new Command('ferry')
    .description('Move imaging data from instrument to archive, cloud and viewer; prove nothing was lost; track every job.')
    .version('0.1.0')
    .option('--json', 'print one JSON object per line on stdout, for scripts')
    .showHelpAfterError('(run with --help for usage)')
    // Every command's --help shows --json too: it is given before or after the command alike.
    .configureHelp({ showGlobalOptions: true })
    .exitOverride()
    .configureOutput({ outputError: (s, write) => write(s.startsWith('error:') ? `ferry: ${s.slice(7)}` : s) });
  registerCommands(program);
  // Every sub-command reports usage mistakes with exit code 2, as the root does.
  for (const c of allCommands(program)) c.exitOverride().showHelpAfterError('(run with --help for usage)');
  return program;
}

function allCommands(c: Command): Command[] {
  return c.commands.flatMap((s) => [s, ...allCommands(s)]);
}

export async function main(argv: string[]): Promise<number> {
  // `ferry ... | head` closes the pipe early: that is the reader's choice, not an error.
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
      throw e;
    });
  }
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (e) {
    return reportFailure(e);
  }
}

function reportFailure(e: unknown): number {
  if (e instanceof CommanderError) {
    if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help') return 0;
    return EXIT_USAGE;
  }
  if (isFerryError(e)) {
    process.stderr.write(`ferry: ${e.message}\n`);
    if (e.hint) process.stderr.write(`  ${e.hint}\n`);
    return e.exitCode;
  }
  // Not a user mistake: a bug or an environment failure nobody anticipated. Show everything.
  process.stderr.write(`ferry: internal error, please report it with the lines below\n`);
  process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  return EXIT_BUG;
}
