// ferry serve: the web page over the ledger (runs, jobs, retry / cancel, workflow views, RELION).
// The action, with the web framework and the ledger's drivers, loads from serve-run.ts when it runs.
import { InvalidArgumentError } from 'commander';
import type { Command } from 'commander';
import type { ServeOptions } from './serve-run.ts';
import { LEDGER_HELP } from '../store-options.ts';

export function register(program: Command): void {
  program
    .command('serve')
    .description('a web page of every run and job in the ledger, live; retry and cancel; workflow views; RELION start / stop')
    .option('--ledger <url>', LEDGER_HELP)
    .option('--ispyb <url>', 'ISPyB database of RELION processing records: mysql://USER:PASSWORD@HOST:PORT/DATABASE (shows the RELION view)')
    .option('--host <address>', 'address to listen on; anything but the loopback interface shows the page to the network', '127.0.0.1')
    .option('--port <n>', 'port (0: any free one)', port, 8080)
    .option('--read-only', 'no buttons and no route that changes anything')
    .option('--token-file <file>', 'read the token that actions need from this file (default: a new one, printed)')
    .option('--neuroglancer <dir>', 'a local Neuroglancer build (the folder of its index.html) to open volumes in, without the internet (default: $FERRY_NEUROGLANCER_DIR)')
    .action(async (opts: ServeOptions, cmd: Command) => (await import('./serve-run.ts')).runServe(opts, cmd));
}

function port(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError('expected a port number from 0 to 65535');
  return n;
}
