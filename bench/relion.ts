// Ferry's RELION runner against running the same RELION jobs by hand with relion_pipeliner, on 8
// synthetic movies of 16 x 1024 x 1024 (float32, 64 MiB each): Import and MotionCorr (RELION's own
// motion correction), in turns, in the same run. The hand run is what relion_it.py does: write
// default_pipeline.star, `relion_pipeliner --addJob` twice, then `--schedule ... --RunJobs`.
// Ferry: prepareProject + startPipeline + waitForEnd (the API the relion recipe calls; a CLI adds
// its own process start). Targets: Ferry's wall time within 5% of the hand run's; from the start
// call to RELION's first job running (Import/job001/run.out written) under 1 s.
// On a shared machine the RELION jobs' own time swings by more than 5% from run to run, so each run
// also splits its wall time into relion_pipeliner's run and the rest (by hand: the set-up commands;
// Ferry: prepare, supervisor start, end bookkeeping, noticing the end): that rest is the overhead.
//
//   node bench/relion.ts [--rounds 3] [--movies 8] [--threads 2]
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import module from 'node:module';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { errorMessage } from '../src/errors.ts';
import { findRelion, relionEnv } from '../src/processing/relion/binaries.ts';
import { LOG_FILE } from '../src/processing/relion/files.ts';
import { planPipeline } from '../src/processing/relion/options.ts';
import { prepareProject, startPipeline, waitForEnd } from '../src/processing/relion/runner.ts';
import { makeVisit, TEMPLATE, testParams } from '../src/processing/relion/test-support.ts';
import { tempDir } from '../src/testing/tree.ts';

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '3' }, movies: { type: 'string', default: '8' }, threads: { type: 'string', default: '2' } } });
const ROUNDS = Number(values.rounds);
const MOVIES = Number(values.movies);
// relion_it.py's motion correction (4 x 4 patches), on the threads this machine has.
const PARAMS = testParams({ motioncor_patches_x: 4, motioncor_patches_y: 4, motioncor_threads: Number(values.threads) });

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
  const [importJob, motionCorr] = planPipeline(PARAMS, { movieGlob: `Movies/${TEMPLATE}` }).jobs;
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

async function ferryRun(visitDir: string, imageDirectory: string, id: number): Promise<{ wall: number; pipeliner: number; firstJob: number; prepare: number; start: number }> {
  const t0 = performance.now();
  let firstJob = NaN;
  const projectDir = join(visitDir, 'processed', `relion_${id}`);
  const watch = setInterval(() => {
    if (Number.isNaN(firstJob) && existsSync(join(projectDir, 'Import/job001/run.out'))) firstJob = (performance.now() - t0) / 1000;
  }, 2);
  const prepared = await prepareProject({ visitDir, imageDirectory, fileTemplate: TEMPLATE, ids: { processingJobId: id }, params: PARAMS });
  const t1 = performance.now();
  const handle = await startPipeline(prepared.projectDir);
  const t2 = performance.now();
  const end = await waitForEnd(handle, { pollMs: 500 });
  const wall = (performance.now() - t0) / 1000;
  clearInterval(watch);
  if (end.state !== 'success' || end.progress.done !== MOVIES) throw new Error(`Ferry's run ended ${end.state}: ${end.message}`);
  return { wall, pipeliner: await pipelinerSeconds(projectDir), firstJob, prepare: (t1 - t0) / 1000, start: (t2 - t1) / 1000 };
}

try {
  const g0 = performance.now();
  const visit = await makeVisit(root, MOVIES, { frames: 16, width: 1024, height: 1024, drift: { x: 0.3, y: 0.55 } });
  console.log(`generated ${MOVIES} movies of 16 x 1024 x 1024 in ${((performance.now() - g0) / 1000).toFixed(1)} s; RELION ${relion.version}`);
  const hand: Awaited<ReturnType<typeof handRun>>[] = [];
  const ferry: Awaited<ReturnType<typeof ferryRun>>[] = [];
  // A run that fails is said and left out; the other runs still give their figures.
  const failures: string[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    // Alternate which goes first, so neither always runs on a warmer machine.
    const order = r % 2 === 0 ? ['hand', 'ferry'] : ['ferry', 'hand'];
    for (const who of order) {
      try {
        if (who === 'hand') hand.push(handRun(visit.visitDir, visit.imageDirectory, `hand_${r}`));
        else ferry.push(await ferryRun(visit.visitDir, visit.imageDirectory, 1000 + r));
      } catch (e) {
        failures.push(`${who === 'hand' ? 'by hand' : 'Ferry'}, round ${r + 1}: ${errorMessage(e)}`);
        console.error(`FAILED: ${failures.at(-1)}`);
      }
    }
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
  const fix = (x: number, digits = 2) => (Number.isNaN(x) ? 'n/a' : x.toFixed(digits));
  const row = (what: string, xs: number[]) =>
    console.log(xs.length ? `| ${what} | ${xs.map((x) => x.toFixed(2)).join(' / ')} | ${Math.min(...xs).toFixed(2)} | ${median(xs).toFixed(2)} |` : `| ${what} | FAILED (every round) | - | - |`);
  console.log(`\n### RELION runner: Import + MotionCorr on ${MOVIES} movies of 16 x 1024 x 1024\n`);
  console.log('| | each round (s) | best (s) | median (s) |');
  console.log('|---|---|---:|---:|');
  row('by hand: wall', hand.map((h) => h.wall));
  row('by hand: of which relion_pipeliner --RunJobs', hand.map((h) => h.pipeliner));
  row('Ferry (prepare + start + wait): wall', ferry.map((f) => f.wall));
  row('Ferry: of which relion_pipeliner --RunJobs', ferry.map((f) => f.pipeliner));
  row('Ferry: start call to Import running', ferry.map((f) => f.firstJob));
  row('Ferry: prepareProject', ferry.map((f) => f.prepare));
  row('Ferry: startPipeline', ferry.map((f) => f.start));
  const handRest = median(hand.map((h) => h.wall - h.pipeliner));
  const ferryRest = median(ferry.map((f) => f.wall - f.pipeliner));
  const handWall = median(hand.map((h) => h.wall));
  console.log(`\nwall, medians: Ferry / hand = ${fix(median(ferry.map((f) => f.wall)) / handWall, 3)} (target <= 1.05; swings with the machine's load)`);
  console.log(`outside relion_pipeliner's run, medians: hand ${fix(handRest)} s, Ferry ${fix(ferryRest)} s: Ferry adds ${fix(ferryRest - handRest)} s = ${fix((100 * (ferryRest - handRest)) / handWall, 1)}% of the hand run's wall`);
  console.log(`start call to first job running, median: ${fix(median(ferry.map((f) => f.firstJob)))} s (target < 1 s)`);
  for (const f of failures) console.log(`FAILED: ${f}`);
} finally {
  await rm(root, { recursive: true, force: true });
}
