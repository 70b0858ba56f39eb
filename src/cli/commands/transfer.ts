// ferry cp | sync | check | cleanup. Only the options live here: the actions, and the transfer
// engine with its manifests, load from transfer-run.ts once a command runs, so `ferry --help` or
// any other command never pays for them.
import { InvalidArgumentError, Option } from 'commander';
import type { Command } from 'commander';
import { addStoreOptions, LEDGER_HELP, parseBytes, parseCount } from '../store-options.ts';

/** Where cp, sync and check keep and find manifests and upload journals: those of a ledger. */
const STATE_HELP = `${LEDGER_HELP}; manifests and upload journals are kept with it`;

const collect = (v: string, prev: string[] = []) => [...prev, v];

function addTransferOptions(cmd: Command): Command {
  return addStoreOptions(
    cmd
      .option('--include <glob>', 'copy only matching files (repeatable; "*.tif" matches names at any depth)', collect)
      .option('--exclude <glob>', 'skip matching files (repeatable; wins over --include)', collect)
      .option('--checksum', "decide by content: compare the CRC32C of both ends (read, or the server's own) and copy what differs, not trusting sizes and times")
      .option('--dry-run', 'print what would be copied and deleted, write nothing')
      .option('--ledger <url>', STATE_HELP)
      .addOption(new Option('--transfers <n>', 'files in flight at once').default(32).argParser(parseCount('--transfers')))
      .addOption(new Option('--bwlimit <rate>', 'bandwidth cap for the whole run in bytes per second, e.g. 50M').argParser(parseBytes)),
  );
}

export function register(program: Command): void {
  addTransferOptions(
    program
      .command('cp')
      .description('copy a file or a tree; files the destination already holds unchanged are not sent again')
      .argument('<src>', 'local path, file://, s3://BUCKET/PREFIX or gs://BUCKET/PREFIX')
      .argument('<dst>', 'destination folder or prefix (or a file name, for one file)'),
  ).action(async (src: string, dst: string, _o, cmd: Command) => (await import('./transfer-run.ts')).runTransfer(src, dst, cmd, false));

  addTransferOptions(
    program
      .command('sync')
      .description('make DST hold what SRC holds: copy what is new or changed, and with --delete remove extras')
      .argument('<src>')
      .argument('<dst>')
      .option('--delete', 'after every copy succeeded, delete destination files the source does not have'),
  ).action(async (src: string, dst: string, _o, cmd: Command) => (await import('./transfer-run.ts')).runTransfer(src, dst, cmd, true));

  addStoreOptions(
    program
      .command('check')
      .description('prove SRC and DST hold the same files: lists missing on either side and differing; exit 1 on any difference')
      .argument('<src>')
      .argument('<dst>')
      .option('--checksum', 'compare content (CRC32C) as well as size; without it only sizes are compared')
      .option('--include <glob>', 'check only matching files (repeatable)', collect)
      .option('--exclude <glob>', 'skip matching files (repeatable)', collect)
      .option('--ledger <url>', STATE_HELP),
    { writes: false },
  ).action(async (src: string, dst: string, _o, cmd: Command) => (await import('./transfer-run.ts')).runCheck(src, dst, cmd));

  addStoreOptions(
    program
      .command('cleanup')
      .description('list the multipart uploads left unfinished under DST (Ferry\'s, journaled or not, and other tools\'), and abort them with --abort')
      .argument('<dst>', 's3://BUCKET/PREFIX')
      .option('--abort', 'abort the uploads Ferry left and forget their journal rows')
      .addOption(new Option('--older-than <age>', 'with --abort, only uploads idle this long (e.g. 90s, 30m, 2h, 1d): younger ones may belong to a copy running now').default(3600, '1h').argParser(parseAge))
      .option('--all', "with --abort, also abort other tools' uploads")
      .option('--ledger <url>', STATE_HELP),
  ).action(async (dst: string, _o, cmd: Command) => (await import('./transfer-run.ts')).runCleanup(dst, cmd));
}

/** Seconds, from a number of seconds or a number with s, m, h or d. */
function parseAge(text: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([smhd]?)$/i.exec(text.trim());
  if (!m) throw new InvalidArgumentError(`"${text}" is not an age: write e.g. 0, 90s, 30m, 2h or 1d`);
  return Number(m[1]) * { '': 1, s: 1, m: 60, h: 3600, d: 86400 }[m[2].toLowerCase() as '' | 's' | 'm' | 'h' | 'd'];
}
