// Prepares a fresh RELION project for one processing job: <visit>/processed/relion_<processingJobId>/
// with a `Movies` link to the raw images, RELION's own default_pipeline.star and job folders made by
// `relion_pipeliner --addJob` (so the folder opens in the RELION GUI like any project), and
// ferry_run.json. It is built in a hidden sibling folder and renamed into place, so a project folder
// either is complete or does not exist.
import { execFile } from 'node:child_process';
import { access, constants, glob, mkdir, open, readFile, rename, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { promisify } from 'node:util';
import { randomBytes } from 'node:crypto';
import { FerryError } from '../../errors.ts';
import { MRC_HEADER_BYTES, parseMrcHeader } from '../../formats/mrc.ts';
import { findBlock, parseStar, tableRecords } from '../../formats/star.ts';
import { checkCsh, findRelion, relionEnv } from './binaries.ts';
import type { Relion } from './binaries.ts';
import { PIPELINE_STAR, readRunRecord, RUN_FILE, SCHEDULE } from './files.ts';
import type { RunRecord } from './files.ts';
import { ctffindFrom, planPipeline } from './options.ts';
import type { PipelinePlan, RelionParams } from './options.ts';

export interface PrepareOptions {
  /** The visit folder, e.g. /dls/m12/data/2021/cm28212-1; the project goes under its processed/. */
  visitDir: string;
  /** Folder of the raw movies (a data collection's imageDirectory). */
  imageDirectory: string;
  /** Wildcard of the movies relative to imageDirectory (fileTemplate), e.g. GridSquare_*\/Data/*.mrc. */
  fileTemplate: string;
  /** processingJobId names the folder; all ids are recorded in ferry_run.json. */
  ids: { processingJobId: string | number } & Record<string, string | number>;
  /** relion_it.py options (SynchWeb's message or the ProcessingJobParameters). */
  params: RelionParams;
  /** Folder of the RELION programs (default: FERRY_RELION_BIN, else PATH). */
  relionBin?: string;
  /**
   * Seconds relion_pipeliner sleeps between checks of a running job (--sec_wait_after; RELION's
   * default 10). 1 is the least that does not busy-wait: 0 spins a core and ends later.
   */
  secWaitAfter?: number;
  env?: NodeJS.ProcessEnv;
  /** What checkProject found for these same options, so that a launch checks once. */
  checked?: CheckedProject;
  /**
   * Called with the folder the project is made in (renamed to the project folder when complete),
   * before RELION's jobs are added to it: what should run beside the preparation starts here.
   */
  onFolder?(folder: string): void;
}

export interface PreparedProject {
  projectDir: string;
  run: RunRecord;
  /** False when the project was there already (prepared earlier, or by a prepare that raced this one). */
  here: boolean;
}

export function projectDirFor(visitDir: string, processingJobId: string | number): string {
  return join(resolve(visitDir), 'processed', `relion_${processingJobId}`);
}

/**
 * The visit folder an image directory lies in: its nearest ancestor named after the visit (e.g.
 * /dls/m12/data/2021/cm28212-1 for cm28212-1 and .../cm28212-1/raw/), as SynchWeb's paths are laid out.
 */
export function visitDirOf(imageDirectory: string, visit: string): string {
  for (let dir = resolve(imageDirectory); ; dir = dirname(dir)) {
    if (basename(dir).toLowerCase() === visit.toLowerCase()) return dir;
    if (dirname(dir) === dir) break;
  }
  throw new FerryError(`image directory ${imageDirectory} is not inside a folder named after visit ${visit}`, {
    hint: "the project goes under the visit's processed/ folder: give an image directory inside the visit",
  });
}

async function checkImages(o: CheckOptions): Promise<{ movies: string[] }> {
  const dir = o.imageDirectory;
  const s = await stat(dir).catch(() => undefined);
  if (!s?.isDirectory()) {
    throw new FerryError(`image directory ${dir} ${s ? 'is not a folder' : 'does not exist'}`, {
      hint: 'check --image-directory (the data collection folder holding the raw movies)',
    });
  }
  const t = o.fileTemplate;
  if (!t || isAbsolute(t) || t.split('/').includes('..') || /[;\n"]/.test(t)) {
    throw new FerryError(`file template "${t}" must be a wildcard relative to the image directory, without "..", ";" or quotes`, {
      hint: "e.g. --file-template 'GridSquare_*/Data/*.mrc'",
    });
  }
  const movies: string[] = [];
  for await (const m of glob(t, { cwd: dir })) {
    if ((await stat(join(dir, m)).catch(() => undefined))?.isFile()) movies.push(m);
  }
  if (movies.length === 0) {
    throw new FerryError(`no movies match ${t} in ${dir}`, { hint: 'check --file-template and --image-directory' });
  }
  return { movies: movies.sort() };
}

/** Width and height from the first movie's MRC header (other formats: unknown). */
async function movieSize(path: string): Promise<{ nx: number; ny: number } | undefined> {
  if (!/\.mrcs?$/i.test(path)) return undefined;
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.alloc(MRC_HEADER_BYTES);
    await fh.read(buf, 0, MRC_HEADER_BYTES, 0);
    const h = parseMrcHeader(buf, path);
    return { nx: h.nx, ny: h.ny };
  } finally {
    await fh.close();
  }
}

async function checkFileOption(processed: string, name: string, value: string | undefined, what: string): Promise<void> {
  if (!value) return;
  // Relative to the project folder: any project of the visit, as all are folders of `processed`.
  const path = resolve(processed, 'relion_', value);
  if (!(await stat(path).catch(() => undefined))?.isFile()) {
    throw new FerryError(`${what} ${path} (${name}) does not exist`, { hint: `fix ${name}, or leave it out` });
  }
}

/** Adds one job with relion_pipeliner --addJob and returns its folder name (e.g. MotionCorr/job002/). */
async function addJob(cwd: string, env: NodeJS.ProcessEnv, bin: string, type: string, options: Array<[string, string]>): Promise<string> {
  // RELION reads each option as "<label> == <value>", split at ';' (a trailing ';' is harmless).
  const text = options.map(([label, value]) => `${label} == ${value};`).join('');
  try {
    await promisify(execFile)(join(bin, 'relion_pipeliner'), ['--addJob', type, '--addJobOptions', text], { cwd, env, timeout: 60_000 });
  } catch (e) {
    const err = e as Error & { stderr?: string; stdout?: string };
    const why = `${err.stderr ?? ''}${err.stdout ?? ''}`.trim().split('\n').filter(Boolean).pop() ?? err.message;
    throw new FerryError(`relion_pipeliner could not add the ${type} job: ${why}`, { hint: `see the options in ${cwd}` });
  }
  const processes = tableRecords(findBlock(parseStar(await readFile(join(cwd, PIPELINE_STAR), 'utf8')), 'pipeline_processes'));
  return processes[processes.length - 1].rlnPipeLineProcessName;
}

export type CheckOptions = Omit<PrepareOptions, 'ids'>;

export interface CheckedProject {
  /** Movies matching the template, relative to the image directory. */
  movies: string[];
  relion: Relion;
  plan: PipelinePlan;
}

/**
 * Everything prepareProject checks before it writes anything: the image folder and its movies, the
 * RELION programs, CTFFIND when asked for, and the options; a FerryError says what is wrong.
 */
export async function checkProject(o: CheckOptions): Promise<CheckedProject> {
  const env = o.env ?? process.env;
  const { movies } = await checkImages(o);
  const relion = await findRelion(o.relionBin);
  const ctffind = ctffindFrom(o.params, env);
  if (ctffind) {
    if (!(await access(ctffind, constants.X_OK).then(() => true, () => false))) {
      throw new FerryError(`CTFFIND executable ${ctffind} does not exist or cannot be run`, {
        hint: 'fix ctffind4_exe or RELION_CTFFIND_EXECUTABLE, or leave both out to skip CTF estimation (CTFFIND is not in Debian)',
      });
    }
    await checkCsh(relionEnv(relion.bin, env));
  }
  const imageDirectory = resolve(o.imageDirectory);
  const template = o.fileTemplate;
  // relion_it's import_images is the image directory and template in one wildcard: they must agree.
  if (o.params.import_images !== undefined && resolve(String(o.params.import_images)) !== join(imageDirectory, template)) {
    throw new FerryError(`import_images ${o.params.import_images} is not ${join(imageDirectory, template)}`, {
      hint: 'give the image directory and file template once, or make them agree',
    });
  }
  const plan = planPipeline(o.params, {
    movieGlob: `Movies/${template}`,
    movieSize: ctffind ? await movieSize(join(imageDirectory, movies[0])) : undefined,
    ctffindExecutable: ctffind,
  });
  const processed = join(resolve(o.visitDir), 'processed');
  await checkFileOption(processed, 'motioncor_gainreference', String(o.params.motioncor_gainreference ?? ''), 'gain reference');
  await checkFileOption(processed, 'motioncor_defectfile', String(o.params.motioncor_defectfile ?? ''), 'defect file');
  return { movies, relion, plan };
}

export async function prepareProject(o: PrepareOptions): Promise<PreparedProject> {
  const env = o.env ?? process.env;
  const projectDir = projectDirFor(o.visitDir, o.ids.processingJobId);
  const existing = await readRunRecord(projectDir).catch(() => undefined);
  if (existing) {
    if (String(existing.ids.processingJobId) !== String(o.ids.processingJobId)) {
      throw new FerryError(`${projectDir} belongs to processing job ${existing.ids.processingJobId}`);
    }
    return { projectDir, run: existing, here: false };
  }
  if (await stat(projectDir).catch(() => undefined)) {
    throw new FerryError(`${projectDir} already exists and is not a project Ferry prepared`, {
      hint: 'Ferry never writes into a folder it did not make: move that folder away or use another processing job id',
    });
  }
  const { movies, relion, plan } = o.checked ?? (await checkProject(o));
  const imageDirectory = resolve(o.imageDirectory);
  const template = o.fileTemplate;

  const processed = dirname(projectDir);
  await mkdir(processed, { recursive: true });
  const work = join(processed, `.${basename(projectDir)}.${randomBytes(4).toString('hex')}.part`);
  await mkdir(work);
  try {
    o.onFolder?.(work);
    // RELION imports only paths inside the project; the link is relative when the raw data is in the
    // visit (the seed's `Movies -> ../../raw`), so the visit can move as a whole.
    const visit = resolve(o.visitDir);
    const inVisit = imageDirectory === visit || imageDirectory.startsWith(visit + sep);
    await symlink(inVisit ? relative(projectDir, imageDirectory) : imageDirectory, join(work, 'Movies'));
    // --addJob needs an existing pipeline: without one it fails and leaves .relion_lock/ behind.
    await writeFile(join(work, PIPELINE_STAR), 'data_pipeline_general\n_rlnPipeLineJobCounter 1\n');
    // The GUI asks to create a project in a folder without this file (relion_it.py writes it too).
    await writeFile(join(work, '.gui_projectdir'), '');
    const renv = relionEnv(relion.bin, env);
    const jobs: RunRecord['jobs'] = [];
    for (const spec of plan.jobs) {
      const prev = jobs[jobs.length - 1];
      const input: Array<[string, string]> =
        spec.type === 'MotionCorr' ? [['Input movies STAR file:', `${prev.name}movies.star`]]
        : spec.type === 'CtfFind' ? [['Input micrographs STAR file:', `${prev.name}corrected_micrographs.star`]]
        : [];
      jobs.push({ type: spec.type, name: await addJob(work, renv, relion.bin, spec.type, [...input, ...spec.options]) });
    }
    const run: RunRecord = {
      ids: o.ids,
      visitDir: visit,
      imageDirectory,
      fileTemplate: template,
      movies: movies.length,
      params: o.params,
      ignored: plan.ignored,
      jobs,
      relionBin: relion.bin,
      relionVersion: relion.version,
      command: [
        'relion_pipeliner',
        '--schedule', SCHEDULE,
        // The list must end with a space: relion_pipeliner drops the last job of one that does not.
        '--RunJobs', jobs.map((j) => `${j.name} `).join(''),
        '--repeat', '1',
        '--sec_wait_after', String(o.secWaitAfter ?? 1),
      ],
      preparedAt: new Date().toISOString(),
    };
    // Written plainly: nothing reads this folder before the one rename that makes it the project.
    await writeFile(join(work, RUN_FILE), `${JSON.stringify(run, null, 2)}\n`);
    try {
      await rename(work, projectDir);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== 'EEXIST' && code !== 'ENOTEMPTY') throw e;
      // Another prepare of the same processing job won the race: use its project.
      await rm(work, { recursive: true, force: true });
      return { projectDir, run: await readRunRecord(projectDir), here: false };
    }
    return { projectDir, run, here: true };
  } catch (e) {
    await rm(work, { recursive: true, force: true });
    throw e;
  }
}
