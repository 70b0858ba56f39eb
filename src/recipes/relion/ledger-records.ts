// ProcessingRecords kept in Ferry's own ledger (the records table, recipe `relion`), so that a RELION
// launch works on a laptop without an ISPyB database. Each ISPyB row Ferry would write is one record
// of the same name with ISPyB's column names in its body: BLSession, DataCollectionGroup,
// DataCollection, ProcessingJob, ProcessingJobParameter, AutoProcProgram; each id (sessionId,
// dataCollectionId, processingJobId, autoProcProgramId...) is its record's own id. Times are ISO
// instants. Keys put a visit's jobs and program runs in one key range, so a visit's status is two
// range reads however many visits the ledger holds (and a data collection's, two shorter ones):
//   BLSession               <visit>                                   (lower case)
//   DataCollection          <visit>/["<imageDirectory>","<fileTemplate>"]
//   ProcessingJob           <visit>/<dataCollectionId>/<n>            (n: the data collection's nth job)
//   ProcessingJobParameter  <processingJobId>/<row number>
//   AutoProcProgram         <visit>/<dataCollectionId>/<processingJobId>/<n>
//
// Visits: with `visits: 'recorded'` only recorded visits exist (addVisit), as in ISPyB; with
// `visits: 'any'` (what `ferry relion` uses without --ispyb) a well-formed visit name that is not
// recorded yet is recorded by its first Start, without dates: there is no facility schedule to
// know it from, so processing is always allowed for it.
import { FerryError } from '../../errors.ts';
import type { LedgerRecord, RecordsAccess, RecordsReader } from '../../ledger/records.ts';
import {
  ActiveProcessingError,
  parseVisitName,
  processingAllowed,
  programMessage,
  recordedImageDirectory,
  visitEnded,
} from '../../processing/records.ts';
import type {
  JobFilter,
  ParameterRow,
  ProcessingJob,
  ProcessingRecords,
  ProgramOutcome,
  ProgramRegistration,
  ProgramRun,
  StartRequest,
  StartResult,
  Visit,
} from '../../processing/records.ts';
import { isActive, processingStatus } from '../../processing/status.ts';

const RECIPE = 'relion';
const CREATED_BY = 'Created by Ferry';
const SUBMITTED_VIA = 'Submitted via Ferry';

interface SessionBody {
  proposalCode: string;
  proposalNumber: string;
  visit_number: number;
  beamLineName: string | null;
  startDate: string | null;
  endDate: string | null;
}

interface DataCollectionBody {
  SESSIONID: number;
  dataCollectionGroupId: number;
  imageDirectory: string;
  fileTemplate: string;
  imageSuffix: string | null;
  runStatus: string;
  startTime: string;
  endTime: string | null;
}

interface JobBody {
  dataCollectionId: number;
  displayName: string;
  comments: string;
  recipe: string;
  automatic: 0 | 1;
  recordTimestamp: string;
}

interface ParameterBody {
  processingJobId: number;
  parameterKey: string;
  parameterValue: string;
}

interface ProgramBody {
  processingJobId: number;
  processingPrograms: string;
  processingCommandLine: string | null;
  processingEnvironment: string | null;
  processingStatus: 0 | 1 | null;
  processingMessage: string | null;
  recordTimeStamp: string;
  processingStartTime: string | null;
  processingEndTime: string | null;
}

export interface VisitInput {
  name: string;
  beamLineName?: string | null;
  startDate?: Date | null;
  endDate?: Date | null;
}

export interface LedgerRecordsOptions {
  /** 'recorded': only visits added before exist (as in ISPyB); 'any': a new visit name is recorded by its first Start. */
  visits: 'recorded' | 'any';
  /** The ledger as messages name it, e.g. `the ledger at /srv/ferry/ledger.sqlite`. */
  where: string;
}

const visitKey = (name: string) => name.trim().toLowerCase();

/** A visit as the ledger records it: proposal codes in lower case, as facilities write them. */
function sessionBody(name: string, v: Omit<VisitInput, 'name'> = {}): SessionBody {
  const p = parseVisitName(name);
  return {
    proposalCode: p.proposalCode.toLowerCase(),
    proposalNumber: p.proposalNumber,
    visit_number: p.visitNumber,
    beamLineName: v.beamLineName ?? null,
    startDate: v.startDate ? iso(v.startDate) : null,
    endDate: v.endDate ? iso(v.endDate) : null,
  };
}
const dataCollectionKey = (visit: string, imageDirectory: string, fileTemplate: string) => `${visit}/${JSON.stringify([imageDirectory, fileTemplate])}`;
const iso = (d: Date) => d.toISOString();
const date = (s: string | null) => (s === null ? null : new Date(s));

export class LedgerProcessingRecords implements ProcessingRecords {
  readonly where: string;
  private readonly records: RecordsAccess;
  private readonly visits: LedgerRecordsOptions['visits'];

  constructor(records: RecordsAccess, opts: LedgerRecordsOptions) {
    this.records = records;
    this.visits = opts.visits;
    this.where = opts.where;
  }

  /** Records a visit (a BLSession), or returns the one recorded under that name. */
  async addVisit(v: VisitInput): Promise<Visit> {
    const body = sessionBody(v.name, v);
    return this.records.transaction(async (tx) => {
      const made = await tx.create({ recipe: RECIPE, type: 'BLSession', key: visitKey(v.name), body });
      return toVisit(made ?? (await tx.get<SessionBody>(RECIPE, 'BLSession', visitKey(v.name)))!);
    });
  }

  async findVisit(name: string): Promise<Visit> {
    parseVisitName(name);
    const r = await this.records.get<SessionBody>(RECIPE, 'BLSession', visitKey(name));
    if (r) return toVisit(r);
    if (this.visits === 'any') return unrecordedVisit(name);
    throw this.unknownVisit(name);
  }

  async findDataCollection(visit: string, imageDirectory: string, fileTemplate: string): Promise<number | undefined> {
    parseVisitName(visit);
    const r = await this.records.get(RECIPE, 'DataCollection', dataCollectionKey(visitKey(visit), recordedImageDirectory(imageDirectory), fileTemplate));
    return r?.id;
  }

  async start(req: StartRequest): Promise<StartResult> {
    parseVisitName(req.visit);
    const imageDirectory = recordedImageDirectory(req.imageDirectory);
    const vkey = visitKey(req.visit);
    return this.records.transaction(async (tx) => {
      let session = await tx.get<SessionBody>(RECIPE, 'BLSession', vkey);
      if (!session) {
        if (this.visits !== 'any') throw this.unknownVisit(req.visit);
        session = (await tx.create({ recipe: RECIPE, type: 'BLSession', key: vkey, body: sessionBody(req.visit) })) ?? (await tx.get<SessionBody>(RECIPE, 'BLSession', vkey))!;
      }
      const visit = toVisit(session);
      if (!visit.processingAllowed && !req.force) throw visitEnded(visit);
      const now = iso(new Date());
      const dcKey = dataCollectionKey(vkey, imageDirectory, req.fileTemplate);
      let dc = await tx.get<DataCollectionBody>(RECIPE, 'DataCollection', dcKey);
      let dataCollectionCreated = false;
      if (!dc) {
        const group = await tx.create({
          recipe: RECIPE,
          type: 'DataCollectionGroup',
          key: dcKey,
          body: { sessionId: visit.sessionId, comments: CREATED_BY, experimentType: 'EM' },
        });
        if (group) {
          const body: DataCollectionBody = {
            SESSIONID: visit.sessionId,
            dataCollectionGroupId: group.id,
            imageDirectory,
            fileTemplate: req.fileTemplate,
            imageSuffix: /\.(\w+)$/.exec(req.fileTemplate)?.[1] ?? null,
            runStatus: CREATED_BY,
            startTime: now,
            endTime: visit.endDate ? iso(visit.endDate) : null,
          };
          dc = (await tx.create({ recipe: RECIPE, type: 'DataCollection', key: dcKey, body }))!;
          dataCollectionCreated = true;
        } else {
          // Another start recorded the group and its data collection since this transaction began (PostgreSQL).
          dc = (await tx.get<DataCollectionBody>(RECIPE, 'DataCollection', dcKey))!;
        }
      }
      // Starts on one data collection take turns from here to the commit: two never both find it idle.
      await tx.lock(RECIPE, 'DataCollection', dcKey);
      const jobs = await this.jobsIn(tx, vkey, visit.name, { dataCollectionId: dc.id });
      const replacing = new Set(req.replacing ?? []);
      const active = jobs.filter((j) => isActive(j.status) && !replacing.has(j.processingJobId));
      if (active.length > 0) throw new ActiveProcessingError(dc.id, active);
      const job = await tx.create<JobBody>({
        recipe: RECIPE,
        type: 'ProcessingJob',
        key: `${vkey}/${dc.id}/${jobs.length + 1}`,
        body: { dataCollectionId: dc.id, displayName: req.displayName, comments: req.comments ?? SUBMITTED_VIA, recipe: req.recipe, automatic: 0, recordTimestamp: now },
      });
      if (!job) throw new Error(`processing job ${jobs.length + 1} of data collection ${dc.id} was recorded by another start while this one held the lock`);
      for (const [i, p] of req.parameters.entries()) {
        await tx.create<ParameterBody>({
          recipe: RECIPE,
          type: 'ProcessingJobParameter',
          key: `${job.id}/${String(i + 1).padStart(4, '0')}`,
          body: { processingJobId: job.id, parameterKey: p.key, parameterValue: p.value },
        });
      }
      return { visit, dataCollectionId: dc.id, dataCollectionCreated, processingJobId: job.id };
    });
  }

  async listJobs(filter: JobFilter): Promise<ProcessingJob[]> {
    if (filter.visit === undefined && filter.dataCollectionId === undefined) {
      throw new FerryError('listing processing jobs needs a visit or a data collection', { hint: 'give --visit or --data-collection' });
    }
    let vkey: string;
    let name: string;
    if (filter.visit !== undefined) {
      const visit = await this.findVisit(filter.visit);
      vkey = visitKey(visit.name);
      name = visit.name;
    } else {
      const dc = await this.records.getById<DataCollectionBody>(RECIPE, 'DataCollection', filter.dataCollectionId!);
      if (!dc) return [];
      vkey = dc.key.slice(0, dc.key.indexOf('/'));
      name = visitName((await this.records.get<SessionBody>(RECIPE, 'BLSession', vkey))!);
    }
    const jobs = await this.jobsIn(this.records, vkey, name, filter);
    return filter.recipe === undefined ? jobs : jobs.filter((j) => j.recipe === filter.recipe);
  }

  async getJob(processingJobId: number): Promise<ProcessingJob | undefined> {
    const job = await this.records.getById<JobBody>(RECIPE, 'ProcessingJob', processingJobId);
    if (!job) return undefined;
    const vkey = job.key.slice(0, job.key.indexOf('/'));
    const session = (await this.records.get<SessionBody>(RECIPE, 'BLSession', vkey))!;
    const dc = (await this.records.getById<DataCollectionBody>(RECIPE, 'DataCollection', job.body.dataCollectionId))!;
    const programs = await this.records.list<ProgramBody>({ recipe: RECIPE, type: 'AutoProcProgram', keyPrefix: programPrefix(job), newestFirst: true, limit: 1 });
    return toJob(job, dc, visitName(session), programs[0]);
  }

  async activeJobs(dataCollectionId: number): Promise<ProcessingJob[]> {
    return (await this.listJobs({ dataCollectionId })).filter((j) => isActive(j.status));
  }

  async parameters(processingJobId: number): Promise<ParameterRow[]> {
    await this.requireJob(this.records, processingJobId);
    const rows = await this.records.list<ParameterBody>({ recipe: RECIPE, type: 'ProcessingJobParameter', keyPrefix: `${processingJobId}/` });
    return rows.map((r) => ({ key: r.body.parameterKey, value: r.body.parameterValue }));
  }

  async registerProgram(processingJobId: number, program: ProgramRegistration): Promise<number> {
    return this.records.transaction(async (tx) => {
      const job = await this.requireJob(tx, processingJobId);
      // Registrations of one job take turns, so each gets the next number.
      await tx.lock(RECIPE, 'ProcessingJob', job.key);
      const prefix = programPrefix(job);
      const [last] = await tx.list({ recipe: RECIPE, type: 'AutoProcProgram', keyPrefix: prefix, newestFirst: true, limit: 1 });
      const n = last ? Number(last.key.slice(prefix.length)) + 1 : 1;
      const body: ProgramBody = {
        processingJobId,
        processingPrograms: program.programs,
        processingCommandLine: program.commandLine ?? null,
        processingEnvironment: program.environment ?? null,
        processingStatus: null,
        processingMessage: null,
        recordTimeStamp: iso(new Date()),
        processingStartTime: null,
        processingEndTime: null,
      };
      return (await tx.create({ recipe: RECIPE, type: 'AutoProcProgram', key: `${prefix}${n}`, body }))!.id;
    });
  }

  startProgram(autoProcProgramId: number, message = 'running'): Promise<boolean> {
    return this.updateOpenProgram(autoProcProgramId, { notStarted: true }, (b, now) => ({ ...b, processingStartTime: now, processingMessage: programMessage(message) }));
  }

  finishProgram(autoProcProgramId: number, outcome: ProgramOutcome): Promise<boolean> {
    return this.updateOpenProgram(autoProcProgramId, { notStarted: false }, (b, now) => ({
      ...b,
      processingStatus: outcome.success ? 1 : 0,
      processingStartTime: b.processingStartTime ?? now,
      processingEndTime: now,
      processingMessage: programMessage(outcome.message),
    }));
  }

  async close(): Promise<void> {}

  /** Changes a run whose status is not set yet (and, with notStarted, that has not started); false if it was past that. */
  private updateOpenProgram(id: number, o: { notStarted: boolean }, change: (b: ProgramBody, now: string) => ProgramBody): Promise<boolean> {
    return this.records.transaction(async (tx) => {
      const found = await tx.getById<ProgramBody>(RECIPE, 'AutoProcProgram', id);
      if (!found) throw new FerryError(`there is no program run (AutoProcProgram) ${id} in ${this.where}`, { code: 'UnknownProgram' });
      // Two updates of one run take turns: the second sees what the first wrote.
      await tx.lock(RECIPE, 'AutoProcProgram', found.key);
      const p = (await tx.get<ProgramBody>(RECIPE, 'AutoProcProgram', found.key))!;
      if (p.body.processingStatus !== null || (o.notStarted && p.body.processingStartTime !== null)) return false;
      await tx.put({ recipe: RECIPE, type: 'AutoProcProgram', key: p.key, body: change(p.body, iso(new Date())) });
      return true;
    });
  }

  private async requireJob(r: RecordsReader, processingJobId: number): Promise<LedgerRecord<JobBody>> {
    const job = await r.getById<JobBody>(RECIPE, 'ProcessingJob', processingJobId);
    if (!job) throw new FerryError(`there is no processing job ${processingJobId} in ${this.where}`, { code: 'UnknownProcessingJob' });
    return job;
  }

  /** The jobs of a visit (or of one of its data collections) with their latest program runs, oldest first. */
  private async jobsIn(r: RecordsReader, vkey: string, visit: string, filter: { dataCollectionId?: number }): Promise<ProcessingJob[]> {
    const prefix = filter.dataCollectionId === undefined ? `${vkey}/` : `${vkey}/${filter.dataCollectionId}/`;
    const [jobs, programs, collections] = await Promise.all([
      r.list<JobBody>({ recipe: RECIPE, type: 'ProcessingJob', keyPrefix: prefix }),
      r.list<ProgramBody>({ recipe: RECIPE, type: 'AutoProcProgram', keyPrefix: prefix }),
      r.list<DataCollectionBody>({ recipe: RECIPE, type: 'DataCollection', keyPrefix: `${vkey}/` }),
    ]);
    // Listed oldest first: the last run seen of a job is its latest.
    const latest = new Map<number, LedgerRecord<ProgramBody>>();
    for (const p of programs) latest.set(p.body.processingJobId, p);
    const dcs = new Map(collections.map((d) => [d.id, d]));
    return jobs.map((j) => toJob(j, dcs.get(j.body.dataCollectionId)!, visit, latest.get(j.id)));
  }

  private unknownVisit(name: string): FerryError {
    return new FerryError(`there is no visit ${name} in ${this.where}`, {
      hint: 'check the visit name (proposal code and number, a dash, the visit number, e.g. cm28212-1)',
      code: 'UnknownVisit',
    });
  }
}

/** Where a job's program runs are keyed: after its own key's visit and data collection. */
function programPrefix(job: LedgerRecord<JobBody>): string {
  return `${job.key.slice(0, job.key.lastIndexOf('/'))}/${job.id}/`;
}

function visitName(r: LedgerRecord<SessionBody>): string {
  return `${r.body.proposalCode}${r.body.proposalNumber}-${r.body.visit_number}`;
}

function toVisit(r: LedgerRecord<SessionBody>): Visit {
  const endDate = date(r.body.endDate);
  return {
    sessionId: r.id,
    name: visitName(r),
    beamLineName: r.body.beamLineName,
    startDate: date(r.body.startDate),
    endDate,
    processingAllowed: processingAllowed(endDate),
  };
}

/** A visit the ledger has not recorded yet, as its first Start will record it. */
function unrecordedVisit(name: string): Visit {
  const b = sessionBody(name);
  return { sessionId: 0, name: `${b.proposalCode}${b.proposalNumber}-${b.visit_number}`, beamLineName: null, startDate: null, endDate: null, processingAllowed: true };
}

function toJob(j: LedgerRecord<JobBody>, dc: LedgerRecord<DataCollectionBody>, visit: string, p: LedgerRecord<ProgramBody> | undefined): ProcessingJob {
  const program: ProgramRun | null = p
    ? {
        autoProcProgramId: p.id,
        programs: p.body.processingPrograms,
        commandLine: p.body.processingCommandLine,
        environment: p.body.processingEnvironment,
        status: p.body.processingStatus,
        message: p.body.processingMessage,
        recordTime: date(p.body.recordTimeStamp),
        startTime: date(p.body.processingStartTime),
        endTime: date(p.body.processingEndTime),
      }
    : null;
  return {
    processingJobId: j.id,
    dataCollectionId: j.body.dataCollectionId,
    visit,
    imageDirectory: dc.body.imageDirectory,
    fileTemplate: dc.body.fileTemplate,
    displayName: j.body.displayName,
    recipe: j.body.recipe,
    comments: j.body.comments,
    automatic: j.body.automatic === 1,
    recordTime: new Date(j.body.recordTimestamp),
    program,
    status: processingStatus(program),
  };
}
