// The relion.process job: runs one processing job's RELION pipeline and keeps its program run up to
// date (running when the pipeline starts, then 1 or 0 with the runner's message). Idempotent: the
// project is prepared once, and an attempt after a worker died attaches to the pipeline the first
// attempt started, or finds how it ended; its pipeline outlives the worker in either case.
import { FerryError, errorMessage } from '../../errors.ts';
import type { Handler, JobContext } from '../../runtime/registry.ts';
import type { ProcessingRecords } from '../../processing/records.ts';
import { relionOptionsFromRows } from '../../processing/relion-options.ts';
import { prepareProject, readStatus, startPipeline, stopPipeline, waitForEnd } from '../../processing/relion/runner.ts';
import { isEnded } from '../../processing/relion/status.ts';
import { projectOf, runnerParams } from './launch.ts';
import type { ProcessParams } from './launch.ts';
import { ispybUrlFor, ledgerRecords } from './records.ts';

async function recordsOf(ctx: JobContext, p: ProcessParams): Promise<ProcessingRecords> {
  if (!p.ispyb) return ledgerRecords(ctx.records, "this job's ledger");
  const { openIspybRecords } = await import('../../processing/ispyb/ispyb-records.ts');
  return openIspybRecords(ispybUrlFor(p.ispyb));
}

/** Whether this job's program run has ended already (a stop came before the pipeline started). */
async function programEnded(records: ProcessingRecords, p: ProcessParams): Promise<boolean> {
  const program = (await records.getJob(p.processingJobId))?.program;
  return program?.autoProcProgramId === p.autoProcProgramId && program.status !== null;
}

export const processHandler: Handler<ProcessParams> = {
  validate(raw) {
    const p = raw as Partial<ProcessParams>;
    const id = (v: unknown) => typeof v === 'number' && Number.isSafeInteger(v) && v > 0;
    if (!id(p?.processingJobId) || !id(p?.autoProcProgramId) || (p.ispyb !== undefined && typeof p.ispyb !== 'string')) {
      throw new FerryError('relion.process needs {"processingJobId": N, "autoProcProgramId": N, "ispyb"?: URL}');
    }
    return p as ProcessParams;
  },

  async run(ctx, p) {
    const records = await recordsOf(ctx, p);
    try {
      const job = await records.getJob(p.processingJobId);
      if (!job) throw new FerryError(`there is no processing job ${p.processingJobId} in ${records.where}`, { kind: 'item' });
      const { projectDir, ...where } = projectOf(job);
      try {
        const options = relionOptionsFromRows(await records.parameters(p.processingJobId), `processing job ${p.processingJobId}`);
        await prepareProject({ ...where, ids: { processingJobId: job.processingJobId, dataCollectionId: job.dataCollectionId }, params: await runnerParams(options) });
      } catch (e) {
        await records.finishProgram(p.autoProcProgramId, { success: false, message: `not started: ${errorMessage(e)}` });
        throw new FerryError(`processing job ${p.processingJobId} could not start: ${errorMessage(e)}`, { kind: 'item', cause: e });
      }
      // Stopped before its pipeline started: it never starts.
      if (await programEnded(records, p)) return stoppedHere(projectDir);
      const handle = await startPipeline(projectDir);
      if (!(await records.startProgram(p.autoProcProgramId)) && (await programEnded(records, p))) {
        // The stop came while the pipeline was starting, and did not see it: stop it now.
        return stoppedHere(projectDir);
      }
      await ctx.log(`RELION pipeline ${handle.how} in ${projectDir}`);
      const end = await waitForEnd(handle, {
        signal: ctx.signal,
        onProgress: (s) => ctx.progress({ done: s.progress.done, total: s.progress.total, unit: s.progress.unit }),
      });
      await records.finishProgram(p.autoProcProgramId, { success: end.state === 'success', message: end.message });
      if (end.state !== 'success') {
        throw new FerryError(`processing job ${p.processingJobId} ended: ${end.state}: ${end.message}`, { kind: 'item', hint: `see ${projectDir}/ferry_pipeline.log` });
      }
      return { projectDir, state: end.state, message: end.message, progress: end.progress };
    } finally {
      await records.close();
    }
  },
};

async function stoppedHere(projectDir: string): Promise<never> {
  const s = await readStatus(projectDir);
  const end = isEnded(s) ? s : await stopPipeline(projectDir);
  throw new FerryError(`the processing in ${projectDir} was stopped: ${end.message}`, { kind: 'item' });
}
