// Ferry's RELION launch against running the same RELION jobs by hand with relion_pipeliner, on 8
// synthetic movies of 16 x 1024 x 1024 (float32, 64 MiB each): Import and MotionCorr (RELION's own
// motion correction), in turns, in the same run. The hand run is what relion_it.py does: write
// default_pipeline.star, `relion_pipeliner --addJob` twice, then `--schedule ... --RunJobs`. Ferry's
// run is the real command, `ferry relion start` (ledger records, a detached local worker), timed
// from its start to the moment its records say the processing ended with status 1. Targets: Ferry's
// wall time within 5% of the hand run's; from `ferry relion start` to RELION's first job running
// (Import/job001/run.out written) under 1 s. Then `ferry relion status` for a visit of 10,000
// processing jobs on ISPyB and on SQLite (bench/relion-status.ts), target under 200 ms.
// On a shared machine the RELION jobs' own time swings by more than 5% from run to run, so each run
// also splits its wall time into relion_pipeliner's run and the rest (by hand: the set-up commands;
// Ferry: the command, the project's preparation, the supervisor, recording the end): that rest is
// the overhead. A first round of each warms the caches and is not counted.
//
//   node bench/relion.ts [--rounds 3] [--movies 8] [--threads 2] [--status-jobs 10000]
import { execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, rm, writeFile } from 'node:fs/promises';
import module from 'node:module';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { openLedger } from '../src/ledger/open.ts';
import { relionOptions, relionOptionsFor } from '../src/processing/relion-options.ts';
import { findRelion, relionEnv } from '../src/processing/relion/binaries.ts';
import { LOG_FILE } from '../src/processing/relion/files.ts';
import { planPipeline } from '../src/processing/relion/options.ts';
import type { RelionParams } from '../src/processing/relion/options.ts';
import { makeVisit, TEMPLATE } from '../src/testing/relion-runner.ts';
import { DEFAULTS_ENV } from '../src/recipes/relion/launch.ts';
import { ledgerRecords } from '../src/recipes/relion/records.ts';
import { FERRY_BIN } from '../src/testing/cli.ts';
import { tempDir } from '../src/testing/tree.ts';
import { ispybStatusBench, ledgerStatusBench } from './relion-status.ts';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '3' },
    movies: { type: 'string', default: '8' },
    threads: { type: 'string', default: '2' },
    'status-jobs': { type: 'string', default: '10000' },
  },
});
const ROUNDS = Number(values.rounds);
const MOVIES = Number(values.movies);
// The site's options (relion_it.py's motion correction, 4 x 4 patches, on the threads this machine
// has) and SynchWeb's parameters file: the same RELION job options for both runs.
const SITE: RelionParams = { motioncor_patches_x: 4, motioncor_patches_y: 4, motioncor_threads: Number(values.threads) };
const SYNCHWEB = { voltage: 300, Cs: 2.7, angpix: 1, motioncor_doseperframe: 1, stop_after_ctf_estimation: true };

// As the ferry command does (bin/ferry.js), so that the supervisor starts from the compile cache too.
module.enableCompileCache(fileURLToPath(new URL('../node_modules/.cache/ferry-compile', import.meta.url)));
const root = await tempDir('ferry-bench-relion-');
const relion = await findRelion();
const env = relionEnv(relion.bin);

/** By hand, as relion_it.py does it, with the option lists Ferry gives the same jobs. */
function handRun(visitDir: string, imageDirectory: string, name: string): { wall: number; pipeliner: number } {
  const t0 = performance.now();
  const dir = join(visitDir, 'processed', name);
  const run = (args: string[]) => execFileSync(join(relion.bin, 'relion_pipeliner'), args, { cwd: dir, env, stdio: 'ignore' });
  execFileSync('mkdir', ['-p', dir]);
  execFileSync('ln', ['-s', relative(dir, imageDirectory), join(dir, 'Movies')]);
  execFileSync('sh', ['-c', "printf 'data_pipeline_general\\n_rlnPipeLineJobCounter 1\\n' > default_pipeline.star"], { cwd: dir });
  const options = relionOptionsFor(relionOptions([{ label: 'bench', values: SYNCHWEB }]), { imageDirectory, fileTemplate: TEMPLATE });
  const [importJob, motionCorr] = planPipeline({ ...SITE, ...(options as RelionParams) }, { movieGlob: `Movies/${TEMPLATE}` }).jobs;
  const text = (o: Array<[string, string]>) => o.map(([l, v]) => `${l} == ${v};`).join('');
  run(['--addJob', 'Import', '--addJobOptions', text(importJob.options)]);
  run(['--addJob', 'MotionCorr', '--addJobOptions', text([['Input movies STAR file:', 'Import/job001/movies.star'], ...motionCorr.options])]);
  const t1 = performance.now();
  // In a session of its own, as Ferry's supervisor runs it: with the kernel's autogroup scheduling a
  // new session gets its own share of the CPU, which on a loaded machine made Ferry's runs faster
  // than a pipeliner started from the benchmark's session.
  execFileSync('setsid', ['--wait', join(relion.bin, 'relion_pipeliner'), '--schedule', 'hand', '--RunJobs', 'Import/job001/ MotionCorr/job002/ ', '--repeat', '1', '--sec_wait_after', '1'], { cwd: dir, env, stdio: 'ignore' });
  const t2 = performance.now();
  if (!existsSync(join(dir, 'MotionCorr/job002/RELION_JOB_EXIT_SUCCESS'))) throw new Error(`the hand run in ${dir} did not succeed`);
  return { wall: (t2 - t0) / 1000, pipeliner: (t2 - t1) / 1000 };
}

/** relion_pipeliner's run in a Ferry project: from the supervisor's log lines around it. */
async function pipelinerSeconds(projectDir: string): Promise<number> {
  const log = await readFile(join(projectDir, LOG_FILE), 'utf8');
  const at = (re: RegExp) => Date.parse(new RegExp(`\\[ferry supervisor (\\S+)\\] ${re.source}`).exec(log)![1]);
  return (at(/relion_pipeliner ended/) - at(/started relion_pipeliner/)) / 1000;
}

const until = async <T>(probe: () => T | undefined | Promise<T | undefined>, everyMs: number): Promise<T> => {
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, everyMs));
  }
};

interface FerryRound {
  wall: number;
  pipeliner: number;
  firstJob: number;
  /** The start command's own run, to its exit. */
  command: number;
}

/** `ferry relion start`, to the moment its records say the processing ended. */
async function ferryRun(imageDirectory: string, paramsFile: string, ferryEnv: NodeJS.ProcessEnv): Promise<FerryRound> {
  const t0 = performance.now();
  const child = spawn(FERRY_BIN, ['--json', 'relion', 'start', '--visit', 'cm28212-1', '--image-directory', imageDirectory, '--file-template', TEMPLATE, '--params', paramsFile], {
    cwd: root,
    env: ferryEnv,
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  const exited = new Promise<number>((r) => child.once('exit', (code) => r(code === 0 ? (performance.now() - t0) / 1000 : NaN)));
  // The project is named from the processing job's id, which the command prints first.
  const started = await until(() => {
    const line = out.split('\n').find((l) => l.includes('"type":"started"'));
    return line ? (JSON.parse(line) as { processingJobId: number; projectDir: string }) : undefined;
  }, 2);
  const firstJob = await until(() => (existsSync(join(started.projectDir, 'Import/job001/run.out')) ? (performance.now() - t0) / 1000 : undefined), 2);
  const command = await exited;
  if (Number.isNaN(command)) throw new Error(`ferry relion start failed: ${out}`);
  const ledger = await openLedger(join(root, '.ferry', 'ledger.sqlite'), { mustExist: true });
  try {
    const records = ledgerRecords(ledger.records, 'the bench ledger');
    const job = await until(async () => {
      const j = await records.getJob(started.processingJobId);
      return j?.program?.status !== null && j?.program?.status !== undefined ? j : undefined;
    }, 20);
    const wall = (performance.now() - t0) / 1000;
    if (job.status !== 'success') throw new Error(`Ferry's run ended ${job.status}: ${job.program?.message}`);
    return { wall, pipeliner: await pipelinerSeconds(started.projectDir), firstJob, command };
  } finally {
    await ledger.close();
  }
}

try {
  const g0 = performance.now();
  const visit = await makeVisit(root, MOVIES, { frames: 16, width: 1024, height: 1024, drift: { x: 0.3, y: 0.55 } });
  console.log(`generated ${MOVIES} movies of 16 x 1024 x 1024 in ${((performance.now() - g0) / 1000).toFixed(1)} s; RELION ${relion.version}`);
  const siteFile = join(root, 'site.json');
  await writeFile(siteFile, JSON.stringify(SITE));
  const paramsFile = join(root, 'relion_msg.json');
  await writeFile(paramsFile, JSON.stringify(SYNCHWEB));
  const ferryEnv = { ...process.env, FERRY_WORKDIR: join(root, '.ferry'), [DEFAULTS_ENV]: siteFile, FERRY_LEDGER: '', FERRY_ISPYB_URL: '' };
  const hand: ReturnType<typeof handRun>[] = [];
  const ferry: FerryRound[] = [];
  // One round of each first, not counted: the first Ferry run after an install or a change compiles
  // its sources into Node's compile cache (the worker's and supervisor's too, while RELION runs), and
  // the first reads of the movies fill the page cache; every later use finds both warm.
  handRun(visit.visitDir, visit.imageDirectory, 'hand_warmup');
  await ferryRun(visit.imageDirectory, paramsFile, ferryEnv);
  for (let r = 0; r < ROUNDS; r++) {
    // Alternate which goes first, so neither always runs on a warmer machine.
    const order = r % 2 === 0 ? ['hand', 'ferry'] : ['ferry', 'hand'];
    for (const who of order) {
      if (who === 'hand') hand.push(handRun(visit.visitDir, visit.imageDirectory, `hand_${r}`));
      else ferry.push(await ferryRun(visit.imageDirectory, paramsFile, ferryEnv));
    }
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const row = (what: string, xs: number[]) => console.log(`| ${what} | ${xs.map((x) => x.toFixed(2)).join(' / ')} | ${Math.min(...xs).toFixed(2)} | ${median(xs).toFixed(2)} |`);
  console.log(`\n### RELION launch: Import + MotionCorr on ${MOVIES} movies of 16 x 1024 x 1024\n`);
  console.log('| | each round (s) | best (s) | median (s) |');
  console.log('|---|---|---:|---:|');
  row('by hand: wall', hand.map((h) => h.wall));
  row('by hand: of which relion_pipeliner --RunJobs', hand.map((h) => h.pipeliner));
  row('ferry relion start, to status 1 in its records: wall', ferry.map((f) => f.wall));
  row('Ferry: of which relion_pipeliner --RunJobs', ferry.map((f) => f.pipeliner));
  row('Ferry: start command to Import running', ferry.map((f) => f.firstJob));
  row('Ferry: the start command, to its exit', ferry.map((f) => f.command));
  const handRest = median(hand.map((h) => h.wall - h.pipeliner));
  const ferryRest = median(ferry.map((f) => f.wall - f.pipeliner));
  const handWall = median(hand.map((h) => h.wall));
  console.log(`\nwall, medians: Ferry / hand = ${(median(ferry.map((f) => f.wall)) / handWall).toFixed(3)} (target <= 1.05; swings with the machine's load)`);
  console.log(`outside relion_pipeliner's run, medians: hand ${handRest.toFixed(2)} s, Ferry ${ferryRest.toFixed(2)} s: Ferry adds ${(ferryRest - handRest).toFixed(2)} s = ${((100 * (ferryRest - handRest)) / handWall).toFixed(1)}% of the hand run's wall`);
  console.log(`start command to first job running, median: ${median(ferry.map((f) => f.firstJob)).toFixed(2)} s (target < 1 s)`);
} finally {
  await rm(root, { recursive: true, force: true });
}

const jobs = Number(values['status-jobs']);
console.log(`\n### ferry relion status, a visit of ${jobs} processing jobs\n`);
console.log(await ispybStatusBench(jobs, 5));
console.log(await ledgerStatusBench(jobs, 5));
