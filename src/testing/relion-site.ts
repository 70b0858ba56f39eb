// A place to run `ferry relion` as a user would, for the relion recipe's tests and benchmark: a
// working folder (the ledger and worker logs in its .ferry/), visits of synthetic movies with a
// planted drift, a parameters file as SynchWeb writes it, the site's RELION options (one patch, two
// threads: small movies in seconds), and the records to look at while the detached workers run.
import assert from 'node:assert/strict';
import { glob, mkdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after } from 'node:test';
import { parseMrc } from '../formats/mrc.ts';
import { openLedger } from '../ledger/open.ts';
import { openIspybRecords } from '../processing/ispyb/ispyb-records.ts';
import type { ProcessingJob, ProcessingRecords } from '../processing/records.ts';
import { correctedMicrographs, globalShifts, stopPipeline } from '../processing/relion/runner.ts';
import { movieNames, TEMPLATE, until } from './relion-runner.ts';
import { jsonLines, runFerry, startFerry } from './cli.ts';
import type { RunResult } from './cli.ts';
import { writeSyntheticMovies } from './synthetic-movies.ts';
import type { MovieSpec } from './synthetic-movies.ts';
import { tempDir } from './tree.ts';
import { DEFAULTS_ENV } from '../recipes/relion/launch.ts';
import { ledgerRecords } from '../recipes/relion/records.ts';

export { TEMPLATE, until };

export const DRIFT = { x: 0.7, y: -0.4 };
/** Three of these run through Import and MotionCorr in a few seconds. */
export const SMALL: MovieSpec = { frames: 8, width: 256, height: 256, drift: DRIFT };
/** About 0.1 s of MotionCorr each: a run of many is caught half-way. */
export const LONG: MovieSpec = { frames: 8, width: 512, height: 512, drift: DRIFT };

/** The seed's parameters file (relion_msg_*.json), for 1 Å synthetic movies with no gain reference. */
export const SEED_PARAMS = {
  acquisition_software: 'EPU',
  voltage: 300,
  Cs: 2.7,
  ctffind_do_phaseshift: false,
  angpix: 1,
  motioncor_binning: 1,
  motioncor_doseperframe: 1,
  stop_after_ctf_estimation: true,
};

/** The rows SynchWeb writes for SEED_PARAMS and these movies: its order, booleans as 1/0. */
export function seedRows(imageDirectory: string): { key: string; value: string }[] {
  return [
    { key: 'voltage', value: '300' },
    { key: 'Cs', value: '2.7' },
    { key: 'ctffind_do_phaseshift', value: '0' },
    { key: 'angpix', value: '1' },
    { key: 'motioncor_binning', value: '1' },
    { key: 'motioncor_doseperframe', value: '1' },
    { key: 'stop_after_ctf_estimation', value: '1' },
    { key: 'import_images', value: `${imageDirectory.replace(/\/+$/, '')}/${TEMPLATE}` },
    { key: 'acquisition_software', value: 'EPU' },
  ];
}

export interface Visit {
  visitDir: string;
  /** With its trailing slash, as the records keep it. */
  imageDirectory: string;
}

export interface Site {
  dir: string;
  env: NodeJS.ProcessEnv;
  /** The ledger of `ferry relion` run in this folder. */
  ledger: string;
  /** `ferry ARGS` in this folder; `json` holds the lines of a --json run. */
  ferry(args: string[], env?: NodeJS.ProcessEnv): Promise<RunResult & { json: Record<string, any>[] }>;
  startFerry(args: string[]): ReturnType<typeof startFerry>;
  /** A visit folder with `count` movies in <folder>/raw (`linked`: links to one movie, for long runs on little disk). */
  visit(name: string, count: number, spec: MovieSpec, o?: { folder?: string; linked?: boolean }): Promise<Visit>;
  params(values?: Record<string, unknown>): Promise<string>;
  dispose(): Promise<void>;
}

export async function relionSite(): Promise<Site> {
  if (!process.env.FERRY_RELION_BIN) throw new Error('FERRY_RELION_BIN is not set: run `eval "$(bash scripts/services/relion.sh env)"` (RELION 3.1 from Debian)');
  const dir = await tempDir('ferry-relion-site-');
  const site = join(dir, 'site-relion-options.json');
  await writeFile(site, JSON.stringify({ motioncor_patches_x: 1, motioncor_patches_y: 1, motioncor_threads: 2 }));
  const env: NodeJS.ProcessEnv = { FERRY_WORKDIR: join(dir, '.ferry'), [DEFAULTS_ENV]: site, FERRY_LEDGER: '', FERRY_ISPYB_URL: '' };
  let n = 0;
  return {
    dir,
    env,
    ledger: join(dir, '.ferry', 'ledger.sqlite'),
    async ferry(args, more = {}) {
      const r = await runFerry(args, { cwd: dir, env: { ...env, ...more } });
      return { ...r, json: args.includes('--json') ? jsonLines(r.stdout) : [] };
    },
    startFerry: (args) => startFerry(args, { cwd: dir, env }),
    async visit(name, count, spec, o = {}) {
      const visitDir = join(dir, name);
      const imageDirectory = join(visitDir, o.folder ?? 'raw');
      const names = movieNames(count);
      if (!o.linked) {
        await writeSyntheticMovies(imageDirectory, names, spec);
      } else {
        const [first] = await writeSyntheticMovies(imageDirectory, names.slice(0, 1), spec);
        for (const m of names.slice(1)) {
          await mkdir(join(imageDirectory, m, '..'), { recursive: true });
          await symlink(first, join(imageDirectory, m));
        }
      }
      return { visitDir, imageDirectory: `${imageDirectory}/` };
    },
    async params(values = SEED_PARAMS) {
      const file = join(dir, `relion_msg_${++n}.json`);
      await writeFile(file, JSON.stringify(values, null, 1));
      return file;
    },
    async dispose() {
      // A test that failed half-way may leave a pipeline running: it is stopped before its folder goes.
      for await (const marker of glob('*/processed/relion_*/RUNNING_FERRY', { cwd: dir })) {
        await stopPipeline(join(dir, marker, '..'), { timeoutMs: 10_000 }).catch(() => {});
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** A fresh site per call, each removed when the test file ends. */
export function sitesOfThisFile(): () => Promise<Site> {
  const sites: Site[] = [];
  after(async () => {
    for (const s of sites) await s.dispose();
  });
  return async () => {
    const s = await relionSite();
    sites.push(s);
    return s;
  };
}

/** The records a test looks at: the site's ledger, or an ISPyB database. */
export async function recordsOf(where: { ledger: string } | { ispyb: string }): Promise<ProcessingRecords> {
  if ('ispyb' in where) return openIspybRecords(where.ispyb);
  const ledger = await openLedger(where.ledger, { mustExist: true });
  const records = ledgerRecords(ledger.records, `the ledger at ${ledger.where}`);
  return Object.assign(records, { close: () => ledger.close() });
}

/** Waits until the job's records satisfy `cond` (the detached worker writes them). */
export async function waitForJob(records: ProcessingRecords, processingJobId: number, what: string, cond: (j: ProcessingJob) => boolean, timeoutMs = 180_000): Promise<ProcessingJob> {
  return until(`processing job ${processingJobId} to be ${what}`, async () => {
    const j = await records.getJob(processingJobId);
    return j && cond(j) ? j : undefined;
  }, timeoutMs, 100);
}

/** MotionCorr's micrographs exist, and the drift RELION measured in each is the drift planted. */
export async function assertDriftRecovered(projectDir: string, movies: number, spec: MovieSpec = SMALL): Promise<void> {
  const mics = await correctedMicrographs(projectDir, 'MotionCorr/job002/');
  assert.equal(mics.length, movies);
  for (const mic of mics) {
    const image = parseMrc(await readFile(join(projectDir, mic.micrograph)), mic.micrograph);
    assert.deepEqual([image.header.nx, image.header.ny, image.header.nz], [spec.width, spec.height, 1]);
    // RELION reports shifts that undo the drift, relative to the first frame: -drift * (frame - 1).
    const shifts = await globalShifts(projectDir, mic.metadata);
    assert.equal(shifts.length, spec.frames);
    for (const s of shifts) {
      assert.ok(Math.abs(s.x + spec.drift.x * (s.frame - 1)) < 0.2, `${mic.micrograph} frame ${s.frame}: x ${s.x}`);
      assert.ok(Math.abs(s.y + spec.drift.y * (s.frame - 1)) < 0.2, `${mic.micrograph} frame ${s.frame}: y ${s.y}`);
    }
  }
}
