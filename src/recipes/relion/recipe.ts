// RELION processing launch (seed 004), SynchWeb's Start and Stop and Zocalo's processing side:
// - start: checks everything (options, movies, RELION, the visit's 24-hour rule, a running job of the
//   same data collection) before it records anything; with stopAndRestart stops the active jobs
//   first; then records the data collection (found or created), the processing job and one
//   parameter row per option, and launches it: a project folder, a queued program run, and one run
//   `relion-<processingJobId>` whose relion.process job runs the pipeline on a worker. With zocalo,
//   Ferry plays SynchWeb only: it publishes SynchWeb's start message and leaves processing to the
//   consumer (Zocalo, or `ferry relion listen`), so that a job never has two runners.
// - stop: performed by the plan itself (a stop adds no work to the ledger; its plan has no runs):
//   the pipeline stopped, the ledger job cancelled, the program run ended 0 "stopped"; with zocalo,
//   SynchWeb's stop message instead.
// - process: the processing side for a job already recorded (what a Zocalo start message asks for):
//   its parameters read back from the records, checked, and launched as a Start launches.
// Records live in ISPyB (`ispyb`, a mysql:// URL) or in the ledger (recipe `relion`).
import { join } from 'node:path';
import { z } from 'zod';
import { FerryError, errorMessage } from '../../errors.ts';
import { ispybWhere } from '../../processing/ispyb/url.ts';
import { ActiveProcessingError, recordedImageDirectory, visitEnded } from '../../processing/records.ts';
import type { ProcessingJob, ProcessingRecords } from '../../processing/records.ts';
import {
  parseParamOverrides,
  readRelionParamsFile,
  relionOptions,
  relionOptionsFor,
  relionOptionsFromRows,
  relionParameterRows,
} from '../../processing/relion-options.ts';
import type { OptionSource, RelionOptions } from '../../processing/relion-options.ts';
import type { ZocaloRequest } from '../../processing/zocalo/messages.ts';
import { findRelion } from '../../processing/relion/binaries.ts';
import { isActive } from '../../processing/status.ts';
import { zocaloWhere } from '../../processing/zocalo/url.ts';
import type { Plan, PlanContext, RunReport } from '../../runtime/recipe.ts';
import { defineRecipe } from '../../runtime/recipe.ts';
import { zodInput } from '../input.ts';
import { checkLaunch, launch, PROCESS_JOB, projectOf, recordFailure } from './launch.ts';
import { openProcessingRecords } from './records.ts';
import { alreadyEnded, stopProcessing } from './stop.ts';
import type { Stopped } from './stop.ts';

const id = z.number().int().positive();
const where = { ispyb: z.string().min(1).optional() };
/** SynchWeb's role: its messages go to this RabbitMQ (amqp://...), routed to zocaloQueue (default processing_recipe). */
const zocalo = { zocalo: z.string().min(1).optional(), zocaloQueue: z.string().min(1).optional() };
/**
 * Start the pipeline during the plan, for a job whose worker runs on this machine (it attaches to
 * the pipeline and records its end): RELION then starts without waiting for the worker to start.
 */
const startHere = { startHere: z.boolean().default(false) };
const Input = z.discriminatedUnion('action', [
  z.strictObject({
    action: z.literal('start'),
    visit: z.string().min(1),
    /** Absolute. */
    imageDirectory: z.string().min(1),
    fileTemplate: z.string().min(1),
    /** relion_it options as SynchWeb sends them (a web form's). */
    params: z.record(z.string(), z.unknown()).optional(),
    /** A JSON file of them as SynchWeb writes it (relion_msg_*.json); `params` win over it. */
    paramsFile: z.string().min(1).optional(),
    /** KEY=VALUE, over everything else. */
    paramOverrides: z.array(z.string()).optional(),
    stopAndRestart: z.boolean().default(false),
    /** Start although the visit ended more than 24 hours ago. */
    force: z.boolean().default(false),
    ...zocalo,
    ...where,
    ...startHere,
  }),
  z.strictObject({ action: z.literal('stop'), processingJobId: id, ...zocalo, ...where }),
  z.strictObject({ action: z.literal('process'), processingJobId: id, ...where, ...startHere }),
]);
export type RelionInput = z.infer<typeof Input>;
type StartInput = Extract<RelionInput, { action: 'start' }>;

/** What a Start recorded and launched, for the CLI and the web page (the plan's facts). */
export interface StartFacts {
  records: string;
  visit: string;
  imageDirectory: string;
  fileTemplate: string;
  dataCollectionId: number | null;
  dataCollectionCreated?: boolean;
  processingJobId?: number;
  autoProcProgramId?: number;
  parameters: { key: string; value: string }[];
  movies: number;
  /** RELION jobs the pipeline runs, e.g. Import, MotionCorr. */
  relionJobs: string[];
  /** Options recorded but not used by Ferry's pipeline (it stops after CTF estimation). */
  ignored: string[];
  projectDir: string;
  /** Jobs of the data collection that a stop-and-restart stops (dry run) or stopped. */
  stopping: number[];
  stopped: Stopped[];
  /** With zocalo: the broker the start message went to; the consumer runs the job. */
  zocalo: string | null;
  run: string | null;
}

export const recipe = defineRecipe<RelionInput>({
  name: 'relion',
  title: 'RELION pre-processing launch with ISPyB records: start, stop and restart processing jobs of a data collection',
  input: zodInput(Input, 'RELION input'),
  kinds: {
    [PROCESS_JOB]: async () => (await import('./process-job.ts')).processHandler,
  },

  async plan(input, ctx) {
    if ('zocalo' in input && input.zocalo && !input.ispyb) {
      throw new FerryError('--zocalo needs --ispyb: the processing side reads the job and its parameters from ISPyB', {
        hint: 'give the ISPyB database the consumer reads (--ispyb mysql://...), or leave --zocalo out to run the job with Ferry',
        kind: 'usage',
      });
    }
    // RELION's programs are checked (relion_pipeliner --version) while the records are read.
    if (input.action !== 'stop') void findRelion().catch(() => {});
    const records = await openProcessingRecords(input.ispyb, ctx.ledger);
    try {
      if (input.action === 'start') return await planStart(input, records, ctx);
      if (input.action === 'stop') return await planStop(input, records, ctx);
      return await planProcess(input, records, ctx);
    } finally {
      await records.close();
    }
  },

  async report(view): Promise<RunReport> {
    const [job] = await view.jobs();
    const { processingJobId, projectDir } = view.run.labels;
    const result = job?.result as { message?: string } | null;
    const state =
      !job ? 'not planned'
      : job.state === 'success' ? `success: ${result?.message ?? ''}`
      : job.state === 'error' ? `failed: ${errorMessage(job.lastError ?? '')}`
      : job.state === 'cancelled' ? 'stopped'
      : `${job.state === 'ongoing' ? 'running' : 'waiting for a worker'}${job.progress ? `: ${job.progress.done}/${job.progress.total ?? '?'} ${job.progress.unit}` : ''}`;
    return {
      run: view.run.name,
      ok: job?.state === 'success',
      lines: [`processing job ${processingJobId}: ${state}`, `project: ${projectDir}`],
      data: { processingJobId: Number(processingJobId), projectDir, state: job?.state ?? null, result: job?.result ?? null },
    };
  },
});

/** SynchWeb's message to Zocalo (the AMQP client loads only when one is sent). */
async function publish(input: { zocalo?: string; zocaloQueue?: string }, req: ZocaloRequest): Promise<void> {
  await (await import('../../processing/zocalo/publish.ts')).publishZocalo(input.zocalo!, req, { routingKey: input.zocaloQueue });
}

const ispybOf = (input: { ispyb?: string }) => (input.ispyb ? ispybWhere(input.ispyb) : undefined);

async function planStart(input: StartInput, records: ProcessingRecords, ctx: PlanContext): Promise<Plan> {
  const imageDirectory = recordedImageDirectory(input.imageDirectory);
  const visit = await records.findVisit(input.visit);
  if (!visit.processingAllowed && !input.force) throw visitEnded(visit);
  const dataCollectionId = await records.findDataCollection(visit.name, imageDirectory, input.fileTemplate);
  const earlier = dataCollectionId === undefined ? [] : await records.listJobs({ dataCollectionId });
  const active = earlier.filter((j) => isActive(j.status));
  if (active.length > 0 && !input.stopAndRestart) throw new ActiveProcessingError(dataCollectionId!, active);
  const options = await startOptions(input, records, imageDirectory, input.stopAndRestart ? earlier.at(-1) : undefined);
  const parameters = relionParameterRows(options);
  const checked = await checkLaunch({ visit: visit.name, imageDirectory, fileTemplate: input.fileTemplate }, options);
  if (input.zocalo) await (await import('../../processing/zocalo/publish.ts')).checkZocaloRoute(input.zocalo, { routingKey: input.zocaloQueue });
  const facts: StartFacts = {
    records: records.where,
    visit: visit.name,
    imageDirectory,
    fileTemplate: input.fileTemplate,
    dataCollectionId: dataCollectionId ?? null,
    parameters,
    movies: checked.movies.length,
    relionJobs: checked.plan.jobs.map((j) => j.type),
    ignored: checked.plan.ignored,
    projectDir: join(checked.visitDir, 'processed', 'relion_<processingJobId>'),
    stopping: active.map((j) => j.processingJobId),
    stopped: [],
    zocalo: input.zocalo ? zocaloWhere(input.zocalo).where : null,
    run: null,
  };
  const warnings = ctfWarning(options, checked.plan.jobs.map((j) => j.type));
  if (ctx.dryRun) return { runs: [], warnings, facts: { ...facts } };

  for (const job of active) {
    if (input.zocalo) await publish(input, { kind: 'stop', processingJobId: job.processingJobId });
    else facts.stopped.push(await stopProcessing(records, job, { ispyb: ispybOf(input), ledger: ctx.ledger }));
  }
  const started = await records.start({
    visit: visit.name,
    imageDirectory,
    fileTemplate: input.fileTemplate,
    parameters,
    displayName: 'RELION',
    recipe: 'relion',
    force: input.force,
    replacing: active.map((j) => j.processingJobId),
  });
  Object.assign(facts, {
    dataCollectionId: started.dataCollectionId,
    dataCollectionCreated: started.dataCollectionCreated,
    processingJobId: started.processingJobId,
  });
  const job = (await records.getJob(started.processingJobId))!;
  facts.projectDir = projectOf(job).projectDir;
  if (input.zocalo) {
    try {
      await publish(input, { kind: 'start', processingJobId: started.processingJobId });
    } catch (e) {
      // Recorded, not sent: the job ends as a failure saying why, rather than waiting forever.
      await recordFailure(records, started.processingJobId, `not started: the start request did not reach Zocalo: ${errorMessage(e)}`);
      throw e;
    }
    return { runs: [], warnings, facts: { ...facts } };
  }
  const l = await launch(records, job, options, { ispyb: ispybOf(input), startHere: input.startHere, checked });
  Object.assign(facts, { autoProcProgramId: l.autoProcProgramId, projectDir: l.projectDir, run: l.run.name });
  return { runs: [l.run], warnings, facts: { ...facts } };
}

/**
 * The job's options: the parameters file, then the given ones, then --param; a restart given none
 * takes the latest job's of the data collection.
 */
async function startOptions(input: StartInput, records: ProcessingRecords, imageDirectory: string, previous: ProcessingJob | undefined): Promise<RelionOptions> {
  const sources: OptionSource[] = [];
  if (input.paramsFile) sources.push(await readRelionParamsFile(input.paramsFile));
  if (input.params) sources.push({ label: 'the parameters given', values: input.params });
  if (sources.length === 0 && previous) {
    const rows = await records.parameters(previous.processingJobId);
    sources.push({ label: `processing job ${previous.processingJobId}`, values: Object.fromEntries(rows.map((r) => [r.key, r.value])) });
  }
  if (input.paramOverrides?.length) sources.push(parseParamOverrides(input.paramOverrides));
  return relionOptionsFor(relionOptions(sources), { imageDirectory, fileTemplate: input.fileTemplate });
}

function ctfWarning(options: RelionOptions, jobs: string[]): string[] {
  if (jobs.includes('CtfFind')) return [];
  return [
    `CTF estimation is skipped: no CTFFIND is configured (CTFFIND is not in Debian; name it with ctffind4_exe in the file FERRY_RELION_DEFAULTS names, or RELION_CTFFIND_EXECUTABLE)${options.stop_after_ctf_estimation ? '' : '; Ferry stops after motion correction'}`,
  ];
}

async function planStop(input: Extract<RelionInput, { action: 'stop' }>, records: ProcessingRecords, ctx: PlanContext): Promise<Plan> {
  const job = await records.getJob(input.processingJobId);
  if (!job) throw unknownJob(input.processingJobId, records);
  if (!isActive(job.status)) throw alreadyEnded(job);
  const facts = { records: records.where, processingJobId: job.processingJobId, status: job.status, zocalo: input.zocalo ? zocaloWhere(input.zocalo).where : null };
  if (ctx.dryRun) return { runs: [], warnings: [], facts };
  if (input.zocalo) {
    // SynchWeb's Stop writes no rows: the processing side ends the program run when it has stopped.
    await publish(input, { kind: 'stop', processingJobId: job.processingJobId });
    return { runs: [], warnings: [], facts };
  }
  const stopped = await stopProcessing(records, job, { ispyb: ispybOf(input), ledger: ctx.ledger });
  return { runs: [], warnings: [], facts: { ...facts, stopped } };
}

async function planProcess(input: Extract<RelionInput, { action: 'process' }>, records: ProcessingRecords, ctx: PlanContext): Promise<Plan> {
  const job = await records.getJob(input.processingJobId);
  if (!job) throw unknownJob(input.processingJobId, records);
  const facts = { records: records.where, processingJobId: job.processingJobId, dataCollectionId: job.dataCollectionId, visit: job.visit };
  if (job.recipe !== 'relion') {
    throw new FerryError(`processing job ${job.processingJobId} is for recipe ${job.recipe ?? '(none)'}, not relion`, { code: 'NotRelion' });
  }
  if (job.program) {
    // A request delivered again (a consumer restarted before acknowledging it): nothing new to do.
    if (isActive(job.status)) return { runs: [], warnings: [`processing job ${job.processingJobId} is ${job.status} already`], facts };
    throw new FerryError(`processing job ${job.processingJobId} has already run (${job.status}: ${job.program.message ?? ''})`, {
      hint: 'a restart is a new processing job: ferry relion start ... --stop-and-restart',
      code: 'AlreadyEnded',
    });
  }
  let options: RelionOptions;
  let checked;
  try {
    options = relionOptionsFromRows(await records.parameters(job.processingJobId), `processing job ${job.processingJobId}`);
    checked = await checkLaunch(job, options);
  } catch (e) {
    // The job cannot run as recorded: it ends as a failure saying why (what Zocalo's wrapper does).
    if (!ctx.dryRun && e instanceof FerryError && e.kind !== 'environment') await recordFailure(records, job.processingJobId, `not started: ${errorMessage(e)}`);
    throw e;
  }
  if (ctx.dryRun) return { runs: [], warnings: [], facts: { ...facts, movies: checked.movies.length, projectDir: projectOf(job).projectDir } };
  const l = await launch(records, job, options, { ispyb: ispybOf(input), startHere: input.startHere, checked });
  return { runs: [l.run], warnings: [], facts: { ...facts, autoProcProgramId: l.autoProcProgramId, projectDir: l.projectDir, movies: l.movies, run: l.run.name } };
}

function unknownJob(processingJobId: number, records: ProcessingRecords): FerryError {
  return new FerryError(`there is no processing job ${processingJobId} in ${records.where}`, {
    hint: 'ferry relion status --visit VISIT lists the processing jobs',
    code: 'UnknownProcessingJob',
  });
}
