// Ferry's RELION runner against running the same RELION jobs by hand with relion_pipeliner, on 8
// synthetic movies of 16 x 1024 x 1024 (float32, 64 MiB each): Import and MotionCorr (RELION's own
// motion correction), in turns, in the same run. The hand run is what relion_it.py does: write
// default_pipeline.star, `relion_pipeliner --addJob` twice, then `--schedule ... --RunJobs`.
// Ferry: prepareProject + startPipeline + waitForEnd (the API the relion recipe calls; a CLI adds
// its own process start). Targets: Ferry's wall time within 5% of the hand run's; from the start
// call to RELION's first job running (Import/job001/run.out written) under 1 s.
//
//   node bench/relion.ts [--rounds 3] [--movies 8] [--threads 2]
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import module from 'node:module';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { findRelion, relionEnv } from '../src/processing/relion/binaries.ts';
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
function handRun(visitDir: string, imageDirectory: string, name: string): number {
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
  run(['--schedule', 'hand', '--RunJobs', 'Import/job001/ MotionCorr/job002/ ', '--repeat', '1', '--sec_wait_after', '1']);
  const wall = (performance.now() - t0) / 1000;
  if (!existsSync(join(dir, 'MotionCorr/job002/RELION_JOB_EXIT_SUCCESS'))) throw new Error(`the hand run in ${dir} did not succeed`);
  return wall;
}

async function ferryRun(visitDir: string, imageDirectory: string, id: number): Promise<{ wall: number; firstJob: number; prepare: number; start: number }> {
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
  return { wall, firstJob, prepare: (t1 - t0) / 1000, start: (t2 - t1) / 1000 };
}

try {
  const g0 = performance.now();
  const visit = await makeVisit(root, MOVIES, { frames: 16, width: 1024, height: 1024, drift: { x: 0.3, y: 0.55 } });
  console.log(`generated ${MOVIES} movies of 16 x 1024 x 1024 in ${((performance.now() - g0) / 1000).toFixed(1)} s; RELION ${relion.version}`);
  const hand: number[] = [];
  const ferry: Awaited<ReturnType<typeof ferryRun>>[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    // Alternate which goes first, so neither always runs on a warmer machine.
    const order = r % 2 === 0 ? ['hand', 'ferry'] : ['ferry', 'hand'];
    for (const who of order) {
      if (who === 'hand') hand.push(handRun(visit.visitDir, visit.imageDirectory, `hand_${r}`));
      else ferry.push(await ferryRun(visit.visitDir, visit.imageDirectory, 1000 + r));
    }
  }
  const fmt = (xs: number[]) => xs.map((x) => x.toFixed(2)).join(' / ');
  const best = (xs: number[]) => Math.min(...xs);
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  console.log('\n### RELION runner: Import + MotionCorr on 8 movies of 16 x 1024 x 1024\n');
  console.log('| | each round (s) | best (s) | median (s) |');
  console.log('|---|---|---:|---:|');
  console.log(`| by hand (relion_pipeliner) | ${fmt(hand)} | ${best(hand).toFixed(2)} | ${median(hand).toFixed(2)} |`);
  console.log(`| Ferry (prepare + start + wait) | ${fmt(ferry.map((f) => f.wall))} | ${best(ferry.map((f) => f.wall)).toFixed(2)} | ${median(ferry.map((f) => f.wall)).toFixed(2)} |`);
  console.log(`| Ferry: start call to Import running | ${fmt(ferry.map((f) => f.firstJob))} | ${best(ferry.map((f) => f.firstJob)).toFixed(2)} | ${median(ferry.map((f) => f.firstJob)).toFixed(2)} |`);
  console.log(`| of which prepareProject | ${fmt(ferry.map((f) => f.prepare))} | | |`);
  console.log(`| of which startPipeline | ${fmt(ferry.map((f) => f.start))} | | |`);
  const ratio = median(ferry.map((f) => f.wall)) / median(hand);
  console.log(`\nFerry / hand, medians: ${ratio.toFixed(3)} (target <= 1.05); start to first job, median: ${median(ferry.map((f) => f.firstJob)).toFixed(2)} s (target < 1 s)`);
} finally {
  await rm(root, { recursive: true, force: true });
}
