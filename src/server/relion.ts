// The RELION view's server side, behind one interface: a visit's data collections with their
// processing jobs and each job's status by SynchWeb's rule (read from the processing records), the
// Start form's fields, and Start / Stop, which go through the `relion` recipe and the orchestration
// service exactly as the CLI's `ferry relion` does. Whether a collection offers Start or "Stop and
// restart", and which jobs offer Stop, is decided here by the rule of the RELION issue (a job that is
// submitted, queued or running is active), so the page only draws it.
import { FerryError } from '../errors.ts';
import type { ProcessingJob, ProcessingRecords, Visit } from '../processing/records.ts';
import { relionFormFields } from '../processing/relion-options.ts';
import type { RelionFormField } from '../processing/relion-options.ts';
import { isActive } from '../processing/status.ts';
import type { ClusterOptions, Orchestrator } from '../runtime/orchestrator.ts';

export interface RelionJobView {
  processingJobId: number;
  displayName: string | null;
  recordTime: string;
  status: ProcessingJob['status'];
  active: boolean;
  message: string | null;
  startTime: string | null;
  endTime: string | null;
}

export interface DataCollectionView {
  dataCollectionId: number;
  imageDirectory: string | null;
  fileTemplate: string | null;
  /** Newest first. */
  jobs: RelionJobView[];
  /** A job is active: the page offers "Stop and restart" in place of Start. */
  active: boolean;
}

export interface VisitView {
  visit: { name: string; beamLineName: string | null; startDate: string | null; endDate: string | null; processingAllowed: boolean };
  collections: DataCollectionView[];
}

export interface StartForm {
  visit: string;
  imageDirectory: string;
  fileTemplate: string;
  /** Option name -> value, as the form typed them; checked by the recipe (relion-options). */
  params: Record<string, string | number | boolean>;
  /** Stop the collection's active jobs first (the "Stop and restart" button). */
  stopAndRestart: boolean;
}

export interface ActionOutcome {
  ok: boolean;
  lines: string[];
}

/** What the RELION routes call. */
export interface RelionService {
  visit(name: string): Promise<VisitView>;
  form(): RelionFormField[];
  start(form: StartForm): Promise<ActionOutcome>;
  stop(processingJobId: number): Promise<ActionOutcome>;
  close(): Promise<void>;
}

/**
 * The view over processing records (an ISPyB database, or the ledger's), acting through the `relion`
 * recipe as `ferry relion` does: a Start records the job and hands it to a worker started on
 * `cluster` (a local worker by default, so the page answers at once). `records` is closed with the
 * service.
 */
export function relionService(orchestrator: Orchestrator, records: ProcessingRecords, o: { ispyb?: string; cluster: ClusterOptions }): RelionService {
  const act = async (input: Record<string, unknown>): Promise<ActionOutcome> => {
    const recipe = await orchestrator.recipe('relion');
    const where = o.ispyb ? { ispyb: o.ispyb } : {};
    const startHere = o.cluster.scheduler === 'local' && input.action === 'start' ? { startHere: true } : {};
    const e = await orchestrator.execute(recipe, { ...input, ...where, ...startHere }, { run: 'here', cluster: o.cluster });
    const lines = e.reports.flatMap((r) => r.lines);
    return { ok: e.exitCode === 0, lines };
  };
  return {
    async visit(name) {
      const visit = await records.findVisit(name);
      const jobs = await records.listJobs({ visit: visit.name, recipe: 'relion' });
      return { visit: visitView(visit), collections: collections(jobs) };
    },
    form: relionFormFields,
    start: (form) =>
      act({
        action: 'start',
        visit: form.visit,
        imageDirectory: form.imageDirectory,
        fileTemplate: form.fileTemplate,
        params: form.params,
        ...(form.stopAndRestart ? { stopAndRestart: true } : {}),
      }),
    async stop(processingJobId) {
      const job = await records.getJob(processingJobId);
      if (!job) throw new FerryError(`there is no processing job ${processingJobId} in ${records.where}`, { hint: 'reload the page: the list may be old' });
      return act({ action: 'stop', processingJobId });
    },
    close: () => records.close(),
  };
}

function visitView(v: Visit): VisitView['visit'] {
  return { name: v.name, beamLineName: v.beamLineName, startDate: iso(v.startDate), endDate: iso(v.endDate), processingAllowed: v.processingAllowed };
}

/** Jobs grouped by data collection, newest collection and job first. */
export function collections(jobs: ProcessingJob[]): DataCollectionView[] {
  const byDc = new Map<number, ProcessingJob[]>();
  for (const j of jobs) byDc.set(j.dataCollectionId, [...(byDc.get(j.dataCollectionId) ?? []), j]);
  return [...byDc.entries()]
    .sort(([a], [b]) => b - a)
    .map(([dataCollectionId, js]) => {
      const newest = [...js].sort((a, b) => b.processingJobId - a.processingJobId);
      return {
        dataCollectionId,
        imageDirectory: newest[0].imageDirectory,
        fileTemplate: newest[0].fileTemplate,
        jobs: newest.map(jobView),
        active: newest.some((j) => isActive(j.status)),
      };
    });
}

function jobView(j: ProcessingJob): RelionJobView {
  return {
    processingJobId: j.processingJobId,
    displayName: j.displayName,
    recordTime: j.recordTime.toISOString(),
    status: j.status,
    active: isActive(j.status),
    message: j.program?.message ?? null,
    startTime: iso(j.program?.startTime ?? null),
    endTime: iso(j.program?.endTime ?? null),
  };
}

function iso(d: Date | null): string | null {
  return d ? d.toISOString() : null;
}
