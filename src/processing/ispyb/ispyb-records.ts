// ProcessingRecords over an ISPyB database (MariaDB / MySQL), written with ISPyB's own tables and
// columns so that SynchWeb and other ISPyB tools see Ferry's runs. The web side writes what
// SynchWeb wrote at commit e80730cf (api/src/Page/EM/DataCollection.php, Relion.php); the program
// runs follow ISPyB's upsert_processing_program_v2 rules (status set once, message <= 80
// characters). Every time written is the database's NOW(): ISPyB keeps local times without a zone.
import { sql } from 'kysely';
import type { Kysely, SelectQueryBuilder, Transaction, UpdateObject } from 'kysely';
import { FerryError } from '../../errors.ts';
import { ActiveProcessingError, parseVisitName, programMessage, recordedImageDirectory, visitEnded } from '../records.ts';
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
} from '../records.ts';
import { isActive, processingStatus } from '../status.ts';
import { connectIspyb, ispybError } from './connect.ts';
import type { IspybConnectOptions } from './connect.ts';
import { WIDTH } from './tables.ts';
import type { IspybSchema } from './tables.ts';

/** What Ferry writes where SynchWeb wrote "Created by SynchWeb" / "Submitted via SynchWeb". */
const CREATED_BY = 'Created by Ferry';
const SUBMITTED_VIA = 'Submitted via Ferry';

/** Opens the records of the ISPyB database at a mysql:// URL; fails at once if it is unreachable or not ISPyB. */
export async function openIspybRecords(url: string, opts: IspybConnectOptions = {}): Promise<ProcessingRecords> {
  const { db, where } = connectIspyb(url, opts);
  const records = new IspybRecords(db, where);
  try {
    await records.guard(() => db.selectFrom('ProcessingJob').select('processingJobId').limit(0).execute());
  } catch (e) {
    await db.destroy();
    throw e;
  }
  return records;
}

type Db = Kysely<IspybSchema> | Transaction<IspybSchema>;

class IspybRecords implements ProcessingRecords {
  readonly db: Kysely<IspybSchema>;
  readonly where: string;

  constructor(db: Kysely<IspybSchema>, where: string) {
    this.db = db;
    this.where = where;
  }

  async guard<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (e) {
      throw ispybError(e, this.where);
    }
  }

  findVisit(name: string): Promise<Visit> {
    return this.guard(() => this.visit(this.db, name));
  }

  findDataCollection(visit: string, imageDirectory: string, fileTemplate: string): Promise<number | undefined> {
    return this.guard(async () => {
      const v = await this.visit(this.db, visit);
      return findDataCollection(this.db, v.sessionId, recordedImageDirectory(imageDirectory), fileTemplate);
    });
  }

  async start(req: StartRequest): Promise<StartResult> {
    const imageDirectory = recordedImageDirectory(req.imageDirectory);
    const imageSuffix = /\.(\w+)$/.exec(req.fileTemplate)?.[1] ?? null;
    const comments = req.comments ?? SUBMITTED_VIA;
    checkText('image directory', imageDirectory, WIDTH.imageDirectory);
    checkText('file template', req.fileTemplate, WIDTH.fileTemplate);
    if (imageSuffix) checkText('file extension', imageSuffix, WIDTH.imageSuffix);
    checkText('display name', req.displayName, WIDTH.displayName);
    checkText('recipe', req.recipe, WIDTH.recipe);
    checkText('comments', comments, WIDTH.comments);
    for (const p of req.parameters) {
      checkText('parameter name', p.key, WIDTH.parameterKey);
      checkText(`parameter ${p.key}`, p.value, WIDTH.parameterValue);
    }
    // Read committed: once the session lock below is held, every read sees the other starts' commits.
    return this.guard(() =>
      this.db
        .transaction()
        .setIsolationLevel('read committed')
        .execute(async (trx) => {
          const visit = await this.visit(trx, req.visit);
          if (!visit.processingAllowed && !req.force) throw visitEnded(visit);
          // Starts in one visit take turns, so that two of them never both create the data
          // collection, nor both find it idle.
          await trx.selectFrom('BLSession').select('sessionId').where('sessionId', '=', visit.sessionId).forUpdate().execute();
          let dataCollectionId = await findDataCollection(trx, visit.sessionId, imageDirectory, req.fileTemplate);
          const dataCollectionCreated = dataCollectionId === undefined;
          if (dataCollectionId === undefined) {
            const group = await trx
              .insertInto('DataCollectionGroup')
              .values({ sessionId: visit.sessionId, comments: CREATED_BY, experimentType: 'EM' })
              .executeTakeFirstOrThrow();
            const dc = await trx
              .insertInto('DataCollection')
              .values({
                SESSIONID: visit.sessionId,
                dataCollectionGroupId: Number(group.insertId),
                endTime: visit.endDate,
                runStatus: CREATED_BY,
                imageDirectory,
                fileTemplate: req.fileTemplate,
                imageSuffix,
                startTime: sql<Date>`NOW()`,
              })
              .executeTakeFirstOrThrow();
            dataCollectionId = Number(dc.insertId);
          }
          const replacing = new Set(req.replacing ?? []);
          const active = (await jobs(jobsQuery(trx).where('pj.dataCollectionId', '=', dataCollectionId))).filter(
            (j) => isActive(j.status) && !replacing.has(j.processingJobId),
          );
          if (active.length > 0) throw new ActiveProcessingError(dataCollectionId, active);
          const job = await trx
            .insertInto('ProcessingJob')
            .values({ dataCollectionId, displayName: req.displayName, comments, recipe: req.recipe, automatic: 0 })
            .executeTakeFirstOrThrow();
          const processingJobId = Number(job.insertId);
          if (req.parameters.length > 0) {
            await trx
              .insertInto('ProcessingJobParameter')
              .values(req.parameters.map((p) => ({ processingJobId, parameterKey: p.key, parameterValue: p.value })))
              .execute();
          }
          return { visit, dataCollectionId, dataCollectionCreated, processingJobId };
        }),
    );
  }

  async listJobs(filter: JobFilter): Promise<ProcessingJob[]> {
    if (filter.visit === undefined && filter.dataCollectionId === undefined) {
      throw new FerryError('listing processing jobs needs a visit or a data collection', { hint: 'give --visit or --data-collection' });
    }
    return this.guard(async () => {
      let q = jobsQuery(this.db);
      if (filter.visit !== undefined) q = q.where('s.sessionId', '=', (await this.visit(this.db, filter.visit)).sessionId);
      if (filter.dataCollectionId !== undefined) q = q.where('pj.dataCollectionId', '=', filter.dataCollectionId);
      if (filter.recipe !== undefined) q = q.where('pj.recipe', '=', filter.recipe);
      return jobs(q);
    });
  }

  getJob(processingJobId: number): Promise<ProcessingJob | undefined> {
    return this.guard(async () => (await jobs(jobsQuery(this.db).where('pj.processingJobId', '=', processingJobId)))[0]);
  }

  async activeJobs(dataCollectionId: number): Promise<ProcessingJob[]> {
    return (await this.listJobs({ dataCollectionId })).filter((j) => isActive(j.status));
  }

  parameters(processingJobId: number): Promise<ParameterRow[]> {
    return this.guard(async () => {
      await this.requireJob(processingJobId);
      const rows = await this.db
        .selectFrom('ProcessingJobParameter')
        .select(['parameterKey', 'parameterValue'])
        .where('processingJobId', '=', processingJobId)
        .orderBy('processingJobParameterId')
        .execute();
      return rows.filter((r) => r.parameterKey !== null).map((r) => ({ key: r.parameterKey!, value: r.parameterValue ?? '' }));
    });
  }

  async registerProgram(processingJobId: number, program: ProgramRegistration): Promise<number> {
    checkText('program name', program.programs, WIDTH.processingPrograms);
    if (program.commandLine !== undefined) checkText('command line', program.commandLine, WIDTH.processingCommandLine);
    if (program.environment !== undefined) checkText('environment', program.environment, WIDTH.processingEnvironment);
    return this.guard(async () => {
      await this.requireJob(processingJobId);
      const r = await this.db
        .insertInto('AutoProcProgram')
        .values({
          processingJobId,
          processingPrograms: program.programs,
          processingCommandLine: program.commandLine ?? null,
          processingEnvironment: program.environment ?? null,
          recordTimeStamp: sql<Date>`NOW()`,
        })
        .executeTakeFirstOrThrow();
      return Number(r.insertId);
    });
  }

  async startProgram(autoProcProgramId: number, message = 'running'): Promise<boolean> {
    const msg = programMessage(message);
    checkText('message', msg, WIDTH.processingMessage);
    return this.updateOpenProgram(autoProcProgramId, { processingStartTime: sql<Date>`NOW()`, processingMessage: msg }, { notStarted: true });
  }

  async finishProgram(autoProcProgramId: number, outcome: ProgramOutcome): Promise<boolean> {
    const msg = programMessage(outcome.message);
    checkText('message', msg, WIDTH.processingMessage);
    return this.updateOpenProgram(
      autoProcProgramId,
      {
        processingStatus: outcome.success ? 1 : 0,
        processingStartTime: sql<Date>`COALESCE(processingStartTime, NOW())`,
        processingEndTime: sql<Date>`NOW()`,
        processingMessage: msg,
      },
      { notStarted: false },
    );
  }

  /** Updates a run whose status is not set yet (and, with notStarted, that has not started); false if it was past that. */
  private updateOpenProgram(autoProcProgramId: number, set: UpdateObject<IspybSchema, 'AutoProcProgram'>, opts: { notStarted: boolean }): Promise<boolean> {
    return this.guard(async () => {
      let q = this.db.updateTable('AutoProcProgram').set(set).where('autoProcProgramId', '=', autoProcProgramId).where('processingStatus', 'is', null);
      if (opts.notStarted) q = q.where('processingStartTime', 'is', null);
      if (Number((await q.executeTakeFirst()).numUpdatedRows) === 1) return true;
      await this.requireProgram(autoProcProgramId);
      return false;
    });
  }

  close(): Promise<void> {
    return this.db.destroy();
  }

  private async visit(db: Db, name: string): Promise<Visit> {
    const { proposalCode, proposalNumber, visitNumber } = parseVisitName(name);
    const row = await db
      .selectFrom('BLSession as s')
      .innerJoin('Proposal as p', 'p.proposalId', 's.proposalId')
      .select([
        's.sessionId',
        's.beamLineName',
        's.startDate',
        's.endDate',
        's.visit_number',
        'p.proposalCode',
        'p.proposalNumber',
        // SynchWeb's rule, on the database's clock (the one ISPyB's times are written by).
        sql<number>`s.endDate IS NULL OR s.endDate >= NOW() - INTERVAL 24 HOUR`.as('open'),
      ])
      .where('p.proposalCode', '=', proposalCode)
      .where('p.proposalNumber', '=', proposalNumber)
      .where('s.visit_number', '=', visitNumber)
      .executeTakeFirst();
    if (!row) {
      throw new FerryError(`there is no visit ${name} in the ISPyB database at ${this.where}`, {
        hint: 'check the visit name (proposal code and number, a dash, the visit number, e.g. cm28212-1)',
        code: 'UnknownVisit',
      });
    }
    return {
      sessionId: row.sessionId,
      name: `${row.proposalCode}${row.proposalNumber}-${row.visit_number}`,
      beamLineName: row.beamLineName,
      startDate: row.startDate,
      endDate: row.endDate,
      processingAllowed: Number(row.open) === 1,
    };
  }

  private async requireJob(processingJobId: number): Promise<void> {
    const row = await this.db.selectFrom('ProcessingJob').select('processingJobId').where('processingJobId', '=', processingJobId).executeTakeFirst();
    if (!row) throw new FerryError(`there is no processing job ${processingJobId} in ${this.where}`, { code: 'UnknownProcessingJob' });
  }

  private async requireProgram(autoProcProgramId: number): Promise<void> {
    const row = await this.db.selectFrom('AutoProcProgram').select('autoProcProgramId').where('autoProcProgramId', '=', autoProcProgramId).executeTakeFirst();
    if (!row) throw new FerryError(`there is no program run (AutoProcProgram) ${autoProcProgramId} in ${this.where}`, { code: 'UnknownProgram' });
  }
}

/**
 * SynchWeb's lookup (DataCollection.php, dataCollectionFindExisting), made exact, and open to
 * collections other tools recorded without the trailing slash. Exact: ISPyB's latin1 collation
 * would also match a directory that differs in letter case or trailing spaces, which on a Linux
 * file system is another directory.
 */
async function findDataCollection(db: Db, sessionId: number, imageDirectory: string, fileTemplate: string): Promise<number | undefined> {
  const spellings = [imageDirectory, imageDirectory.slice(0, -1)];
  const rows = await db
    .selectFrom('DataCollection')
    .select(['dataCollectionId', 'imageDirectory', 'fileTemplate'])
    .where('SESSIONID', '=', sessionId)
    .where('imageDirectory', 'in', spellings)
    .where('fileTemplate', '=', fileTemplate)
    .orderBy('dataCollectionId')
    .execute();
  return rows.find((r) => spellings.includes(r.imageDirectory!) && r.fileTemplate === fileTemplate)?.dataCollectionId;
}

function jobsQuery(db: Db) {
  return db
    .selectFrom('ProcessingJob as pj')
    .innerJoin('DataCollection as dc', 'dc.dataCollectionId', 'pj.dataCollectionId')
    .innerJoin('DataCollectionGroup as dcg', 'dcg.dataCollectionGroupId', 'dc.dataCollectionGroupId')
    .innerJoin('BLSession as s', 's.sessionId', 'dcg.sessionId')
    .innerJoin('Proposal as p', 'p.proposalId', 's.proposalId')
    .leftJoin('AutoProcProgram as app', 'app.processingJobId', 'pj.processingJobId')
    .select([
      'pj.processingJobId',
      'pj.dataCollectionId',
      'pj.displayName',
      'pj.recipe',
      'pj.comments',
      'pj.automatic',
      'pj.recordTimestamp',
      'dc.imageDirectory',
      'dc.fileTemplate',
      'p.proposalCode',
      'p.proposalNumber',
      's.visit_number',
      'app.autoProcProgramId',
      'app.processingPrograms',
      'app.processingCommandLine',
      'app.processingEnvironment',
      'app.processingStatus',
      'app.processingMessage',
      'app.recordTimeStamp as programRecordTime',
      'app.processingStartTime',
      'app.processingEndTime',
    ])
    .orderBy('pj.processingJobId')
    .orderBy('app.autoProcProgramId');
}

type JobRow = Awaited<ReturnType<ReturnType<typeof jobsQuery>['execute']>>[number];

/** One ProcessingJob per job: rows come ordered by job then program, so a job's last row holds its latest run. */
async function jobs(q: SelectQueryBuilder<any, any, JobRow>): Promise<ProcessingJob[]> {
  const out: ProcessingJob[] = [];
  for (const r of await q.execute()) {
    const program = r.autoProcProgramId === null ? null : programRun(r);
    const last = out.at(-1);
    if (last?.processingJobId === r.processingJobId) {
      last.program = program;
      last.status = processingStatus(program);
      continue;
    }
    out.push({
      processingJobId: r.processingJobId,
      dataCollectionId: r.dataCollectionId!,
      visit: `${r.proposalCode}${r.proposalNumber}-${r.visit_number}`,
      imageDirectory: r.imageDirectory,
      fileTemplate: r.fileTemplate,
      displayName: r.displayName,
      recipe: r.recipe,
      comments: r.comments,
      automatic: r.automatic === null ? null : r.automatic !== 0,
      recordTime: r.recordTimestamp,
      program,
      status: processingStatus(program),
    });
  }
  return out;
}

function programRun(r: JobRow): ProgramRun {
  return {
    autoProcProgramId: r.autoProcProgramId!,
    programs: r.processingPrograms,
    commandLine: r.processingCommandLine,
    environment: r.processingEnvironment,
    status: r.processingStatus === null ? null : r.processingStatus === 1 ? 1 : 0,
    message: r.processingMessage,
    recordTime: r.programRecordTime,
    startTime: r.processingStartTime,
    endTime: r.processingEndTime,
  };
}

/**
 * ISPyB's text columns are latin1 and of fixed width; a server not in strict mode would silently
 * cut or mangle what does not fit, so it is refused here instead.
 */
function checkText(what: string, value: string, width: number): void {
  if (value.length > width) {
    throw new FerryError(`the ${what} is ${value.length} characters long; ISPyB keeps at most ${width}`, { hint: value.slice(0, 120) });
  }
  const bad = /[^\x00-\xff]/u.exec(value);
  if (bad) {
    throw new FerryError(`the ${what} contains ${JSON.stringify(bad[0])}, which ISPyB's latin1 columns cannot hold`, {
      hint: `rename it using Latin-1 characters only: ${value.slice(0, 120)}`,
    });
  }
}
