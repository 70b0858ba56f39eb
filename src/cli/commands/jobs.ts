// Commands over the job ledger: run workers (work, submit), watch progress (status), inspect and
// steer jobs (jobs list|show|log|retry|cancel), and upgrade the ledger (ledger migrate). The
// actions, and with them the ledger's database drivers, load from jobs-run.ts when one runs.
import { InvalidArgumentError, Option } from 'commander';
import type { Command } from 'commander';
import { JOB_STATES } from '../../ledger/schema.ts';
import type { JobState } from '../../ledger/schema.ts';
import { LEDGER_HELP } from '../store-options.ts';

const actions = () => import('./jobs-run.ts');

export function register(program: Command): void {
  program
    .command('work')
    .description('run a worker: claim jobs from the ledger and run them')
    .option('--ledger <url>', LEDGER_HELP)
    .option('--run <name...>', 'only jobs of these runs')
    .option('--kinds <kinds>', 'only these job kinds (comma-separated)', commaList)
    .option('--concurrency <n>', 'jobs run at once', positiveInt, 1)
    .option('--until-empty', 'exit once nothing is left that this worker could run')
    .option('--lease <seconds>', 'lease length; renewed every third of it while a job runs', positiveNumber, 60)
    .option('--grace <seconds>', 'on SIGTERM, time the running jobs get to finish before they are released', nonNegativeNumber, 30)
    .option('--batch <n>', 'most jobs claimed per transaction (default: grows when jobs are short)', positiveInt)
    .option('--retry-backoff <seconds>', 'wait before the first retry of a failed job, doubling per attempt', nonNegativeNumber, 5)
    .action(async (opts, cmd: Command) => (await actions()).runWork(opts, cmd));

  program
    .command('status')
    .description('per run: jobs by state, rate, ETA and progress')
    .option('--ledger <url>', LEDGER_HELP)
    .option('--run <name...>', 'only these runs')
    .option('--watch [seconds]', 'redraw every few seconds until interrupted', positiveNumber)
    .action(async (opts, cmd: Command) => (await actions()).runStatus(opts, cmd));

  const jobs = program.command('jobs').description('inspect and steer individual jobs');
  jobs
    .command('list')
    .description('jobs with their state')
    .option('--ledger <url>', LEDGER_HELP)
    .option('--run <name>', 'only this run')
    .option('--state <states>', `only these states (${JOB_STATES.join(', ')})`, stateList)
    .option('--kind <kind>', 'only this kind')
    .option('--limit <n>', 'at most this many', positiveInt, 1000)
    .action(async (opts, cmd: Command) => (await actions()).listJobs(opts, cmd));

  jobs
    .command('show')
    .description('everything the ledger knows about one job')
    .argument('<id>', 'job id', positiveInt)
    .option('--ledger <url>', LEDGER_HELP)
    .action(async (id: number, opts, cmd: Command) => (await actions()).showJob(id, opts, cmd));

  jobs
    .command('log')
    .description("a job's event log")
    .argument('<id>', 'job id', positiveInt)
    .option('--ledger <url>', LEDGER_HELP)
    .action(async (id: number, opts, cmd: Command) => (await actions()).jobLog(id, opts, cmd));

  for (const [verb, what] of [
    ['retry', 'jobs in error (or cancelled) back to todo with a fresh attempt budget'],
    ['cancel', 'jobs that are todo, ongoing or in error to cancelled'],
  ] as const) {
    jobs
      .command(verb)
      .description(what)
      .argument('[ids...]', 'job ids')
      .option('--run <name>', 'every such job of this run')
      .option('--ledger <url>', LEDGER_HELP)
      .action(async (idArgs: string[], opts, cmd: Command) => (await actions()).retryOrCancel(verb, idArgs, opts, cmd));
  }

  program
    .command('submit')
    .description('start N workers as one Slurm or LSF job array, or as local processes')
    .addOption(new Option('--scheduler <name>', 'where the workers run').choices(['local', 'slurm', 'lsf']).makeOptionMandatory())
    .requiredOption('--workers <n>', 'how many workers', positiveInt)
    .option('--ledger <url>', LEDGER_HELP)
    .option('--partition <name>', 'Slurm partition / LSF queue')
    .option('--queue <name>', 'LSF queue / Slurm partition')
    .option('--time <limit>', 'time limit per worker: minutes, H:MM, H:MM:SS, 2h...')
    .option('--mem <size>', 'memory per worker: 4G, 512M...')
    .option('--project <name>', 'account (Slurm) / project (LSF) to charge')
    .option('--name <name>', 'job name', 'ferry-work')
    .option('--log-dir <dir>', 'where the workers write their logs', '.ferry/logs')
    .option('--run <name...>', 'workers run only jobs of these runs')
    .option('--kinds <kinds>', 'workers run only these job kinds (comma-separated)', commaList)
    .option('--concurrency <n>', 'jobs each worker runs at once', positiveInt)
    .option('--lease <seconds>', 'lease length for the workers', positiveNumber)
    .option('--grace <seconds>', "workers' grace on SIGTERM, below the scheduler's kill delay (default: slurm 20, lsf 5)", nonNegativeNumber)
    .option('--dry-run', 'print the exact command and submit nothing')
    .action(async (opts, cmd: Command) => (await actions()).runSubmit(opts, cmd));

  program
    .command('ledger')
    .description('the job ledger itself')
    .command('migrate')
    .description('bring the ledger to the schema this Ferry uses (stop the workers first)')
    .option('--ledger <url>', LEDGER_HELP)
    .action(async (opts, cmd: Command) => (await actions()).runMigrate(opts, cmd));
}

function positiveInt(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('expected a whole number of at least 1');
  return n;
}

function positiveNumber(v: string): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('expected a number above 0');
  return n;
}

function nonNegativeNumber(v: string): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new InvalidArgumentError('expected a number of 0 or more');
  return n;
}

function commaList(v: string): string[] {
  return v.split(',').map((s) => s.trim()).filter(Boolean);
}

function stateList(v: string): JobState[] {
  const states = commaList(v);
  const bad = states.filter((s) => !(JOB_STATES as readonly string[]).includes(s));
  if (bad.length) throw new InvalidArgumentError(`unknown state ${bad.join(', ')} (states: ${JOB_STATES.join(', ')})`);
  return states as JobState[];
}
