// ferry relion start | stop | status | listen: RELION pre-processing of a data collection with
// ISPyB-shaped records (seed 004). The actions load from relion-run.ts when one runs.
import { InvalidArgumentError, Option } from 'commander';
import type { Command } from 'commander';
import { LEDGER_HELP } from '../store-options.ts';

const actions = () => import('./relion-run.ts');

const ISPYB_HELP = 'keep the records in this ISPyB database, mysql://USER:PASSWORD@HOST:PORT/DATABASE (default: $FERRY_ISPYB_URL; without either, in the ledger)';

function positiveInt(v: string): number {
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < 1) throw new InvalidArgumentError('expected a whole number of at least 1');
  return n;
}

const collect = (v: string, prev: string[] = []) => [...prev, v];

function addWorkerOptions(cmd: Command): Command {
  return cmd
    .addOption(new Option('--scheduler <name>', 'where the pipeline runs: a detached local worker, or a Slurm job').choices(['local', 'slurm']).default('local'))
    .option('--partition <name>', 'Slurm partition')
    .option('--time <limit>', 'Slurm time limit: minutes, H:MM, H:MM:SS, 2h...');
}

export function register(program: Command): void {
  const relion = program.command('relion').description('RELION pre-processing of a data collection, tracked in ISPyB-shaped records: start, stop and restart, status, Zocalo');

  addWorkerOptions(
    relion
      .command('start')
      .description('record a processing job for the movies (and their data collection if new) and run RELION on it')
      .requiredOption('--visit <visit>', 'the visit, e.g. cm28212-1')
      .requiredOption('--image-directory <dir>', 'folder of the raw movies, inside the visit folder, e.g. /dls/m12/data/2021/cm28212-1/raw/')
      .requiredOption('--file-template <glob>', "the movies, relative to the image directory, e.g. 'GridSquare_*/Data/*.mrc'")
      .option('--params <file>', 'relion_it options as SynchWeb writes them (relion_msg_*.json)')
      .option('--param <key=value>', 'one relion_it option, over --params (repeatable)', collect)
      .option('--stop-and-restart', 'stop the data collection\'s running jobs first, and start anew (with their parameters unless new ones are given)')
      .option('--force', 'start although the visit ended more than 24 hours ago')
      .option('--ispyb <url>', ISPYB_HELP)
      .option('--zocalo <url>', "play SynchWeb only: send Zocalo's start message to RabbitMQ (amqp://USER:PASSWORD@HOST:PORT/VHOST) and leave the processing to its consumer")
      .option('--queue <name>', 'with --zocalo: the queue (routing key) of the message', 'processing_recipe')
      .option('--ledger <url>', LEDGER_HELP)
      .option('--dry-run', 'check everything and say what would be recorded; record and run nothing'),
  ).action(async (o, cmd: Command) => (await actions()).start(o, cmd));

  relion
    .command('stop')
    .description('stop a processing job: its pipeline stops and its program run ends 0 "stopped"')
    .argument('<processing-job-id>', 'the processing job', positiveInt)
    .option('--ispyb <url>', ISPYB_HELP)
    .option('--zocalo <url>', "play SynchWeb only: send Zocalo's stop message and leave the stop to its consumer")
    .option('--queue <name>', 'with --zocalo: the queue (routing key) of the message', 'processing_recipe')
    .option('--ledger <url>', LEDGER_HELP)
    .option('--dry-run', 'say what would be stopped; stop nothing')
    .action(async (id: number, o, cmd: Command) => (await actions()).stop(id, o, cmd));

  relion
    .command('status')
    .description("the processing jobs of a visit or data collection: SynchWeb's status, and RELION's progress while they run")
    .option('--visit <visit>', 'every job of this visit')
    .option('--data-collection <id>', 'the jobs of this data collection', positiveInt)
    .option('--ispyb <url>', ISPYB_HELP)
    .option('--ledger <url>', LEDGER_HELP)
    .addOption(new Option('--watch [seconds]', 'redraw every few seconds until interrupted').argParser(positiveInt))
    .action(async (o, cmd: Command) => (await actions()).status(o, cmd));

  addWorkerOptions(
    relion
      .command('listen')
      .description("Zocalo's processing side: run the processing jobs SynchWeb's start messages name, stop the ones its stop messages name")
      .requiredOption('--zocalo <url>', 'RabbitMQ, amqp://USER:PASSWORD@HOST:PORT/VHOST')
      .option('--ispyb <url>', 'the ISPyB database the jobs are recorded in (default: $FERRY_ISPYB_URL)')
      .option('--queue <name>', 'the queue to take requests from', 'processing_recipe')
      .option('--ledger <url>', LEDGER_HELP),
  ).action(async (o, cmd: Command) => (await actions()).listen(o, cmd));
}
