// What Ferry records about a processing launch, in ISPyB's terms, whatever keeps the records (an
// ISPyB database, or Ferry's own ledger): visits (BLSession), data collections, processing jobs with
// their key/value parameters, and the program runs (AutoProcProgram) the processing side reports.
// The web side (SynchWeb's role) starts jobs; the processing side (Zocalo's role) registers, starts
// and finishes program runs. Records are only ever added to: an old job or a finished run is never
// changed.
import { FerryError } from '../errors.ts';
import type { ProcessingStatus } from './status.ts';

export type { ProcessingStatus } from './status.ts';

/** A visit (an ISPyB BLSession), named `<proposal code><proposal number>-<visit number>`. */
export interface Visit {
  sessionId: number;
  /** e.g. `cm28212-1`, spelled as the records spell it. */
  name: string;
  beamLineName: string | null;
  startDate: Date | null;
  endDate: Date | null;
  /** False once the visit ended more than 24 hours ago (SynchWeb's rule); a visit without an end date is open. */
  processingAllowed: boolean;
}

/** One ProcessingJobParameter row: both sides are strings, as ISPyB stores them. */
export interface ParameterRow {
  key: string;
  value: string;
}

/** One program run (an ISPyB AutoProcProgram) of a processing job. */
export interface ProgramRun {
  autoProcProgramId: number;
  /** e.g. `relion`. */
  programs: string | null;
  commandLine: string | null;
  environment: string | null;
  /** 1 success, 0 failure, null while queued or running. Never changed once set. */
  status: 0 | 1 | null;
  message: string | null;
  recordTime: Date | null;
  startTime: Date | null;
  endTime: Date | null;
}

export interface ProcessingJob {
  processingJobId: number;
  dataCollectionId: number;
  visit: string;
  imageDirectory: string | null;
  fileTemplate: string | null;
  displayName: string | null;
  recipe: string | null;
  comments: string | null;
  automatic: boolean | null;
  recordTime: Date;
  /** The job's latest program run, once the processing side has registered one. */
  program: ProgramRun | null;
  status: ProcessingStatus;
}

export interface StartRequest {
  visit: string;
  /** Absolute; recorded with exactly one trailing slash, as ISPyB expects. */
  imageDirectory: string;
  /** Relative to the image directory, e.g. `GridSquare_*\/Data/*.mrc`. */
  fileTemplate: string;
  parameters: ParameterRow[];
  /** e.g. `RELION` (ProcessingJob.displayName). */
  displayName: string;
  /** Zocalo runs recipe `ispyb-<recipe>` for the job, e.g. `relion`. */
  recipe: string;
  comments?: string;
  /** Start even though the visit ended more than 24 hours ago. */
  force?: boolean;
  /**
   * Jobs of this data collection the caller has just stopped (stop-and-restart): they may still
   * look active while their processing side winds down. Any other active job refuses the start.
   */
  replacing?: number[];
}

export interface StartResult {
  visit: Visit;
  dataCollectionId: number;
  /** True when this start created the data collection (and its group). */
  dataCollectionCreated: boolean;
  processingJobId: number;
}

export interface JobFilter {
  visit?: string;
  dataCollectionId?: number;
  /** Only jobs of this recipe, e.g. `relion`. */
  recipe?: string;
}

export interface ProgramRegistration {
  /** e.g. `relion` (AutoProcProgram.processingPrograms). */
  programs: string;
  commandLine?: string;
  environment?: string;
}

export interface ProgramOutcome {
  success: boolean;
  /** Cut to 80 characters, the limit ISPyB's own procedures keep to. */
  message: string;
}

export interface ProcessingRecords {
  /** Where the records live, without secrets, for messages. */
  readonly where: string;
  /** The visit of that name; a FerryError (code `UnknownVisit`) if there is none. */
  findVisit(name: string): Promise<Visit>;
  /** The data collection of a visit for these movies, as SynchWeb looks it up (the directory with or without its trailing slash). */
  findDataCollection(visit: string, imageDirectory: string, fileTemplate: string): Promise<number | undefined>;
  /**
   * One transaction: checks the visit (unknown, or ended more than 24 h ago unless forced), finds
   * or creates the data collection, refuses if one of its jobs is active (ActiveProcessingError),
   * and creates the processing job with its parameter rows. Of two starts at once on one data
   * collection exactly one succeeds.
   */
  start(req: StartRequest): Promise<StartResult>;
  /** Jobs of a visit and/or data collection, oldest first, each with its latest program run and status. */
  listJobs(filter: JobFilter): Promise<ProcessingJob[]>;
  getJob(processingJobId: number): Promise<ProcessingJob | undefined>;
  /** Jobs of the data collection that are submitted, queued or running. */
  activeJobs(dataCollectionId: number): Promise<ProcessingJob[]>;
  /** The job's parameter rows in the order they were written; a FerryError if there is no such job. */
  parameters(processingJobId: number): Promise<ParameterRow[]>;
  /** Registers a queued program run for the job; returns its id. */
  registerProgram(processingJobId: number, program: ProgramRegistration): Promise<number>;
  /** Marks a queued run as running (start time now). False if it had started or ended already. */
  startProgram(autoProcProgramId: number, message?: string): Promise<boolean>;
  /**
   * Ends a run with status 1 or 0, an end time and the message. A run that never started gets its
   * start time too (as ISPyB's upsert_processing_program_v2 does), so SynchWeb shows it as ended.
   * False, and nothing changed, if the run had ended already.
   */
  finishProgram(autoProcProgramId: number, outcome: ProgramOutcome): Promise<boolean>;
  close(): Promise<void>;
}

/** ISPyB's AutoProcProgram message limit (upsert_processing_program_v2 takes varchar(80)). */
export const PROGRAM_MESSAGE_MAX = 80;

export function programMessage(message: string): string {
  const oneLine = message.replace(/\s+/g, ' ').trim();
  return oneLine.length <= PROGRAM_MESSAGE_MAX ? oneLine : `${oneLine.slice(0, PROGRAM_MESSAGE_MAX - 3)}...`;
}

/** A start refused because the data collection already has an active job. */
export class ActiveProcessingError extends FerryError {
  readonly active: ProcessingJob[];

  constructor(dataCollectionId: number, active: ProcessingJob[]) {
    const which = active.map((j) => `processing job ${j.processingJobId} is ${j.status}`).join(', ');
    super(`data collection ${dataCollectionId} is already being processed: ${which}`, {
      hint: 'stop and restart it (ferry relion start ... --stop-and-restart), or wait until it ends',
      code: 'ProcessingActive',
    });
    this.name = 'ActiveProcessingError';
    this.active = active;
  }
}

/** The image directory as ISPyB keeps it: absolute, exactly one trailing slash. */
export function recordedImageDirectory(dir: string): string {
  if (!dir.startsWith('/')) {
    throw new FerryError(`the image directory ${dir} is not an absolute path`, { hint: 'give the full path, e.g. /dls/m12/data/2021/cm28212-1/raw/' });
  }
  return `${dir.replace(/\/+$/, '')}/`;
}

/** Visit names: proposal code (letters), proposal number, `-`, visit number, e.g. `cm28212-1`. */
export function parseVisitName(name: string): { proposalCode: string; proposalNumber: string; visitNumber: number } {
  const m = /^([A-Za-z]+)(\d+)-(\d+)$/.exec(name.trim());
  if (!m) {
    throw new FerryError(`${JSON.stringify(name)} is not a visit name`, {
      hint: 'a visit is named <proposal code><proposal number>-<visit number>, e.g. cm28212-1',
      code: 'UnknownVisit',
    });
  }
  return { proposalCode: m[1], proposalNumber: m[2], visitNumber: Number(m[3]) };
}

/** SynchWeb's refusal to process for a visit that ended more than 24 hours ago. */
export function visitEnded(visit: Visit): FerryError {
  return new FerryError(`visit ${visit.name} ended over 24 hours ago, at ${localTime(visit.endDate!)}`, {
    hint: 'processing is not started for a visit more than a day after it ended (SynchWeb\'s rule); pass --force to start anyway',
    code: 'VisitEnded',
  });
}

/** Whether processing may start for a visit ending then (SynchWeb's rule): open, or ended at most 24 hours ago. */
export function processingAllowed(endDate: Date | null, now = Date.now()): boolean {
  return endDate === null || endDate.getTime() >= now - 24 * 3600_000;
}

function localTime(d: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}`;
}
