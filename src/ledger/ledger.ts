// The one source of truth for runs, jobs and their events. Recipes plan through createRun/addJobs,
// workers go through cycle/renewLeases/release, the CLI reads. Engine differences live in Engine.
import { sql } from 'kysely';
import type { Kysely, Selectable } from 'kysely';
import { FerryError } from '../errors.ts';
import type { ClaimedJob, CycleRequest, Engine, JobSpec, ProgressUpdate } from './engine.ts';
import { Records } from './records.ts';
import { JOB_STATES } from './schema.ts';
import type { JobState, JobsTable, LedgerSchema } from './schema.ts';
import type { TransferState } from './transfer-state/state.ts';

export const DEFAULT_MAX_ATTEMPTS = 3;
const INSERT_BATCH = 20_000;

export interface Run {
  id: number;
  name: string;
  labels: Record<string, string>;
  createdAt: number;
}

export interface JobRecord {
  id: number;
  runId: number;
  kind: string;
  key: string;
  params: unknown;
  state: JobState;
  attempts: number;
  maxAttempts: number;
  leaseOwner: string | null;
  leaseExpiresAt: number | null;
  heartbeatAt: number | null;
  progress: ProgressUpdate | null;
  result: unknown;
  lastError: string | null;
  createdAt: number;
  startedAt: number | null;
  finishedAt: number | null;
  updatedAt: number;
}

export interface JobEvent {
  id: number;
  jobId: number;
  at: number;
  type: string;
  message: string;
}

export type StateCounts = Record<JobState | 'total', number>;

export interface RunStatus {
  run: Run;
  counts: StateCounts;
  /** Successes per second over the recent window. */
  rate: number;
  etaSeconds: number | null;
  progress: { unit: string; done: number; total: number }[];
  bytes: { done: number; total: number };
}

export interface JobFilter {
  runId?: number;
  states?: JobState[];
  kind?: string;
  ids?: number[];
  limit?: number;
}

/** A job as a list shows it: everything but its parameters and result, which may be large. */
export type JobSummary = Omit<JobRecord, 'params' | 'result'>;

export interface JobPageQuery {
  runId: number;
  /** Only jobs in these states (default: all). */
  states?: JobState[];
  /** Only jobs whose key holds this text, ignoring case (ASCII). */
  keyContains?: string;
  /** Only jobs after this id: the `next` of the page before. */
  after?: number;
  limit: number;
}

export interface JobPage {
  /** In id order. */
  jobs: JobSummary[];
  /** The `after` of the next page; null on the last page. */
  next: number | null;
}

/** What changes whenever a run or job does: compared between two reads, it says whether to read more. */
export interface ChangeMark {
  runs: number;
  events: number;
  records: number;
}

export class Ledger {
  readonly engine: Engine;
  /** What workflows keep besides jobs. */
  readonly records: Records;
  private transfers: Promise<TransferState> | undefined;

  constructor(engine: Engine) {
    this.engine = engine;
    this.records = new Records(engine);
  }

  /** The manifests and upload journals kept with this ledger, opened on first use. */
  transferState(): Promise<TransferState> {
    this.transfers ??= import('./transfer-state/of-ledger.ts').then((m) => m.transferStateOf(this.engine));
    this.transfers.catch(() => (this.transfers = undefined));
    return this.transfers;
  }

  get db(): Kysely<LedgerSchema> {
    return this.engine.db;
  }

  get where(): string {
    return this.engine.where;
  }

  /** Idempotent by name: planning again returns the run that exists. */
  async createRun(opts: { name: string; labels?: Record<string, string> }): Promise<Run> {
    const now = Date.now();
    await this.engine.transaction(async (trx) => {
      await trx
        .insertInto('runs')
        .values({ name: opts.name, labels: JSON.stringify(opts.labels ?? {}), created_at: now })
        .onConflict((oc) => oc.column('name').doNothing())
        .execute();
    });
    const run = await this.findRun(opts.name);
    if (!run) throw new Error(`run ${opts.name} vanished right after it was created`);
    return run;
  }

  async findRun(name: string): Promise<Run | undefined> {
    const r = await this.db.selectFrom('runs').selectAll().where('name', '=', name).executeTakeFirst();
    return r && toRun(r);
  }

  async getRun(name: string): Promise<Run> {
    const run = await this.findRun(name);
    if (!run) throw new FerryError(`no run named ${name} in the ledger at ${this.where}`, { hint: 'list runs with `ferry status`' });
    return run;
  }

  async listRuns(): Promise<Run[]> {
    return (await this.db.selectFrom('runs').selectAll().orderBy('id').execute()).map(toRun);
  }

  /** Inserts in large batches, skipping keys the run already has; returns how many were new. */
  async addJobs(runId: number, jobs: Iterable<JobSpec>, defaultMaxAttempts = DEFAULT_MAX_ATTEMPTS): Promise<number> {
    let added = 0;
    let batch: JobSpec[] = [];
    // Two batches in flight: a server engine inserts one while the next is being prepared.
    let inFlight: Promise<number> | undefined;
    const send = async (b: JobSpec[]) => {
      const prev = inFlight;
      inFlight = this.engine.insertJobs(runId, b, defaultMaxAttempts, Date.now());
      // Handled when awaited below; until then a failure must not count as an unhandled rejection.
      inFlight.catch(() => {});
      if (prev) added += await prev;
    };
    try {
      for (const j of jobs) {
        batch.push(j);
        if (batch.length === INSERT_BATCH) {
          await send(batch);
          batch = [];
        }
      }
      if (batch.length) await send(batch);
    } finally {
      if (inFlight) added += await inFlight;
    }
    return added;
  }

  /** Records finished jobs and claims the next ones, in one transaction. */
  cycle(req: CycleRequest): Promise<ClaimedJob[]> {
    return this.engine.cycle(req, Date.now());
  }

  /** Extends the leases `owner` still holds among `ids`; returns those ids. */
  async renewLeases(owner: string, ids: number[], leaseMs: number): Promise<number[]> {
    if (ids.length === 0) return [];
    const now = Date.now();
    const rows = await this.engine.transaction((trx) =>
      trx
        .updateTable('jobs')
        .set({ lease_expires_at: now + leaseMs, heartbeat_at: now })
        .where('id', 'in', ids)
        .where('state', '=', 'ongoing')
        .where('lease_owner', '=', owner)
        .returning('id')
        .execute(),
    );
    return rows.map((r) => Number(r.id));
  }

  /**
   * Gives jobs back to `todo` (a worker stopping). Jobs that never started get their attempt back;
   * interrupted ones keep it, so a job that always outlives the time limit still ends in `error`.
   */
  async release(owner: string, ids: { id: number; started: boolean }[], reason: string): Promise<void> {
    if (ids.length === 0) return;
    const now = Date.now();
    await this.engine.transaction(async (trx) => {
      for (const { id, started } of ids) {
        const r = await trx
          .updateTable('jobs')
          .set((eb) => ({
            state: 'todo',
            lease_owner: null,
            lease_expires_at: null,
            updated_at: now,
            attempts: started ? eb.ref('attempts') : eb('attempts', '-', 1),
          }))
          .where('id', '=', id)
          .where('state', '=', 'ongoing')
          .where('lease_owner', '=', owner)
          .executeTakeFirst();
        if (Number(r.numUpdatedRows) > 0) {
          await trx.insertInto('job_events').values({ job_id: id, at: now, type: 'released', message: reason }).execute();
        }
      }
    });
  }

  async reportProgress(owner: string, id: number, p: ProgressUpdate): Promise<void> {
    await this.engine.transaction((trx) =>
      trx
        .updateTable('jobs')
        .set({
          progress_done: p.done,
          progress_total: p.total ?? null,
          progress_unit: p.unit,
          bytes_done: p.bytesDone ?? null,
          bytes_total: p.bytesTotal ?? null,
          updated_at: Date.now(),
        })
        .where('id', '=', id)
        .where('state', '=', 'ongoing')
        .where('lease_owner', '=', owner)
        .execute(),
    );
  }

  async appendEvent(jobId: number, type: string, message: string): Promise<void> {
    await this.engine.transaction((trx) =>
      trx.insertInto('job_events').values({ job_id: jobId, at: Date.now(), type, message }).execute(),
    );
  }

  /**
   * Carries a job's state over from a tool Ferry replaces (e.g. the old per-plate job files), with
   * its old log as events. Applies only to a job Ferry has not touched yet (todo, never attempted),
   * so importing again cannot undo Ferry's own work; returns whether it applied.
   */
  async importJobState(
    id: number,
    imp: { state: JobState; lastError?: string; events: { at?: number; type: string; message: string }[] },
  ): Promise<boolean> {
    // Ongoing needs a live worker holding a lease; an imported job has none.
    if (imp.state === 'ongoing') throw new Error(`job ${id}: an imported job cannot be ongoing; import it as todo`);
    const now = Date.now();
    return this.engine.transaction(async (trx) => {
      const r = await trx
        .updateTable('jobs')
        .set({
          state: imp.state,
          last_error: imp.lastError ?? null,
          finished_at: imp.state === 'todo' ? null : now,
          updated_at: now,
        })
        .where('id', '=', id)
        .where('state', '=', 'todo')
        .where('attempts', '=', 0)
        .executeTakeFirst();
      if (Number(r.numUpdatedRows) === 0) return false;
      if (imp.events.length) {
        await trx
          .insertInto('job_events')
          .values(imp.events.map((e) => ({ job_id: id, at: e.at ?? now, type: e.type, message: e.message })))
          .execute();
      }
      return true;
    });
  }

  async getJob(id: number): Promise<JobRecord> {
    const r = await this.db.selectFrom('jobs').selectAll().where('id', '=', id).executeTakeFirst();
    if (!r) throw new FerryError(`no job ${id} in the ledger at ${this.where}`, { hint: 'list jobs with `ferry jobs list`' });
    return toJob(r);
  }

  async listJobs(f: JobFilter = {}): Promise<JobRecord[]> {
    let q = this.db.selectFrom('jobs').selectAll();
    if (f.runId !== undefined) q = q.where('run_id', '=', f.runId);
    if (f.states?.length) q = q.where('state', 'in', f.states);
    if (f.kind) q = q.where('kind', '=', f.kind);
    if (f.ids?.length) q = q.where('id', 'in', f.ids);
    if (f.limit) q = q.limit(f.limit);
    return (await q.orderBy('id').execute()).map(toJob);
  }

  /**
   * One page of a run's jobs, in id order. Keyset paging: each state is one range read of the
   * (run_id, state, id) index from `after`, merged here, so a page deep in a run of a million jobs
   * costs what the first does. A key filter reads on through the run until the page is full.
   */
  async pageJobs(q: JobPageQuery): Promise<JobPage> {
    const states = q.states?.length ? [...new Set(q.states)] : JOB_STATES;
    const needle = q.keyContains?.trim().toLowerCase();
    const perState = await Promise.all(
      states.map((state) => {
        let s = this.db
          .selectFrom('jobs')
          .select(SUMMARY_COLUMNS)
          .where('run_id', '=', q.runId)
          .where('state', '=', state)
          .where('id', '>', q.after ?? 0);
        // LIKE with an escape character is the one substring match both engines spell alike.
        if (needle) s = s.where(sql<boolean>`lower(key) like ${`%${needle.replace(/[\\%_]/g, (c) => `\\${c}`)}%`} escape '\\'`);
        return s.orderBy('id').limit(q.limit + 1).execute();
      }),
    );
    const rows = perState.flat().sort((a, b) => Number(a.id) - Number(b.id));
    const more = rows.length > q.limit;
    const jobs = rows.slice(0, q.limit).map(toJobSummary);
    return { jobs, next: more ? jobs[jobs.length - 1].id : null };
  }

  /** Three primary-key reads; every claim, outcome, retry or cancel adds an event, so this moves. */
  async changeMark(): Promise<ChangeMark> {
    const max = async (table: 'runs' | 'job_events' | 'records') => {
      const r = await this.db.selectFrom(table).select((eb) => eb.fn.max('id').as('m')).executeTakeFirst();
      return Number(r?.m ?? 0);
    };
    const [runs, events, records] = await Promise.all([max('runs'), max('job_events'), max('records')]);
    return { runs, events, records };
  }

  /** The runs whose jobs have events after `eventId`: what changed since a change mark. */
  async runsWithEventsAfter(eventId: number): Promise<number[]> {
    const rows = await this.db
      .selectFrom('job_events as e')
      .innerJoin('jobs as j', 'j.id', 'e.job_id')
      .select('j.run_id')
      .distinct()
      .where('e.id', '>', eventId)
      .execute();
    return rows.map((r) => Number(r.run_id));
  }

  async events(jobId: number): Promise<JobEvent[]> {
    await this.getJob(jobId);
    const rows = await this.db.selectFrom('job_events').selectAll().where('job_id', '=', jobId).orderBy('id').execute();
    return rows.map((r) => ({ id: Number(r.id), jobId: Number(r.job_id), at: Number(r.at), type: r.type, message: r.message }));
  }

  /** Replaces the parameters of jobs (a re-plan queues them again with what it planned now). */
  async setParams(updates: { id: number; params: unknown }[]): Promise<void> {
    if (updates.length === 0) return;
    const now = Date.now();
    await this.engine.transaction(async (trx) => {
      for (const u of updates) {
        await trx.updateTable('jobs').set({ params: JSON.stringify(u.params ?? {}), updated_at: now }).where('id', '=', u.id).where('state', '!=', 'ongoing').execute();
      }
    });
  }

  /** `error` (and `cancelled`) jobs back to `todo` with a fresh attempt budget; returns their ids. */
  retry(sel: { ids?: number[]; runId?: number }): Promise<number[]> {
    return this.transition(sel, ['error', 'cancelled'], 'retry-requested', (now) => ({
      state: 'todo',
      attempts: 0,
      not_before: 0,
      finished_at: null,
      updated_at: now,
    }));
  }

  /** Queues finished work again, e.g. a sync whose source has gained files since it succeeded. */
  rerun(sel: { ids?: number[]; runId?: number }): Promise<number[]> {
    return this.transition(sel, ['success'], 'rerun-requested', (now) => ({
      state: 'todo',
      attempts: 0,
      not_before: 0,
      finished_at: null,
      updated_at: now,
    }));
  }

  cancel(sel: { ids?: number[]; runId?: number }): Promise<number[]> {
    return this.transition(sel, ['todo', 'ongoing', 'error'], 'cancelled', (now) => ({
      state: 'cancelled',
      lease_owner: null,
      lease_expires_at: null,
      finished_at: now,
      updated_at: now,
    }));
  }

  private async transition(
    sel: { ids?: number[]; runId?: number },
    from: JobState[],
    event: string,
    set: (now: number) => Partial<Selectable<JobsTable>>,
  ): Promise<number[]> {
    if (!sel.ids?.length && sel.runId === undefined) return [];
    const now = Date.now();
    return this.engine.transaction(async (trx) => {
      let q = trx.updateTable('jobs').set(set(now)).where('state', 'in', from);
      if (sel.ids?.length) q = q.where('id', 'in', sel.ids);
      if (sel.runId !== undefined) q = q.where('run_id', '=', sel.runId);
      const ids = (await q.returning('id').execute()).map((r) => Number(r.id));
      for (let i = 0; i < ids.length; i += 5_000) {
        const chunk = ids.slice(i, i + 5_000);
        await trx.insertInto('job_events').values(chunk.map((id) => ({ job_id: id, at: now, type: event, message: 'by the user' }))).execute();
      }
      return ids;
    });
  }

  /** What is left that a worker with these filters could still run (ongoing jobs may come back). */
  async remaining(f: { runIds?: number[]; kinds?: string[] }): Promise<{ todo: number; ongoing: number }> {
    let q = this.db
      .selectFrom('jobs')
      .select((eb) => ['state', eb.fn.countAll<number>().as('n')])
      .where('state', 'in', ['todo', 'ongoing'])
      .groupBy('state');
    if (f.runIds?.length) q = q.where('run_id', 'in', f.runIds);
    if (f.kinds?.length) q = q.where('kind', 'in', f.kinds);
    const out = { todo: 0, ongoing: 0 };
    for (const r of await q.execute()) out[r.state as 'todo' | 'ongoing'] = Number(r.n);
    return out;
  }

  async status(opts: { runIds?: number[]; windowMs?: number } = {}): Promise<RunStatus[]> {
    const now = Date.now();
    const windowMs = opts.windowMs ?? 5 * 60_000;
    let runs = await this.listRuns();
    if (opts.runIds) runs = runs.filter((r) => opts.runIds!.includes(r.id));
    const ids = runs.map((r) => r.id);
    if (ids.length === 0) return [];
    const counts = await this.db
      .selectFrom('jobs')
      .select((eb) => ['run_id', 'state', eb.fn.countAll<number>().as('n')])
      .where('run_id', 'in', ids)
      .groupBy(['run_id', 'state'])
      .execute();
    const recent = await this.db
      .selectFrom('jobs')
      .select((eb) => ['run_id', eb.fn.countAll<number>().as('n'), eb.fn.min('started_at').as('since')])
      .where('run_id', 'in', ids)
      .where('state', '=', 'success')
      .where('finished_at', '>=', now - windowMs)
      .groupBy('run_id')
      .execute();
    const progress = await this.db
      .selectFrom('jobs')
      .select((eb) => [
        'run_id',
        'progress_unit',
        eb.fn.sum<number>('progress_done').as('done'),
        eb.fn.sum<number>('progress_total').as('total'),
        eb.fn.sum<number>('bytes_done').as('bdone'),
        eb.fn.sum<number>('bytes_total').as('btotal'),
      ])
      .where('run_id', 'in', ids)
      // Naming every state steers SQLite to jobs_run_state_id, which visits the rows in table
      // order, rather than to the (run_id, key) index, which visits them in key order: random
      // reads, four times slower on a run of a million jobs.
      .where('state', 'in', JOB_STATES)
      .where('progress_unit', 'is not', null)
      .groupBy(['run_id', 'progress_unit'])
      .execute();

    return runs.map((run) => {
      const c: StateCounts = { total: 0, todo: 0, ongoing: 0, success: 0, error: 0, cancelled: 0 };
      for (const r of counts.filter((x) => Number(x.run_id) === run.id)) {
        c[r.state as JobState] = Number(r.n);
        c.total += Number(r.n);
      }
      const rc = recent.find((x) => Number(x.run_id) === run.id);
      const span = rc?.since != null ? Math.min(windowMs, Math.max(1_000, now - Number(rc.since))) : windowMs;
      const rate = rc ? Number(rc.n) / (span / 1000) : 0;
      const left = c.todo + c.ongoing;
      const mine = progress.filter((x) => Number(x.run_id) === run.id);
      return {
        run,
        counts: c,
        rate,
        etaSeconds: left === 0 ? 0 : rate > 0 ? left / rate : null,
        progress: mine.map((p) => ({ unit: String(p.progress_unit), done: Number(p.done ?? 0), total: Number(p.total ?? 0) })),
        bytes: {
          done: mine.reduce((s, p) => s + Number(p.bdone ?? 0), 0),
          total: mine.reduce((s, p) => s + Number(p.btotal ?? 0), 0),
        },
      };
    });
  }

  async close(): Promise<void> {
    const transfers = this.transfers;
    this.transfers = undefined;
    try {
      if (transfers) await (await transfers).close();
    } finally {
      await this.engine.close();
    }
  }
}

function toRun(r: Selectable<LedgerSchema['runs']>): Run {
  return { id: Number(r.id), name: r.name, labels: JSON.parse(r.labels), createdAt: Number(r.created_at) };
}

const SUMMARY_COLUMNS = [
  'id', 'run_id', 'kind', 'key', 'state', 'attempts', 'max_attempts', 'lease_owner', 'lease_expires_at', 'heartbeat_at',
  'progress_done', 'progress_total', 'progress_unit', 'bytes_done', 'bytes_total', 'last_error',
  'created_at', 'started_at', 'finished_at', 'updated_at',
] as const;

function toJob(r: Selectable<JobsTable>): JobRecord {
  return { ...toJobSummary(r), params: JSON.parse(r.params), result: r.result === null ? null : JSON.parse(r.result) };
}

function toJobSummary(r: Omit<Selectable<JobsTable>, 'params' | 'result' | 'not_before'>): JobSummary {
  const num = (v: number | null) => (v === null ? null : Number(v));
  return {
    id: Number(r.id),
    runId: Number(r.run_id),
    kind: r.kind,
    key: r.key,
    state: r.state,
    attempts: r.attempts,
    maxAttempts: r.max_attempts,
    leaseOwner: r.lease_owner,
    leaseExpiresAt: num(r.lease_expires_at),
    heartbeatAt: num(r.heartbeat_at),
    progress:
      r.progress_unit === null
        ? null
        : {
            done: r.progress_done ?? 0,
            total: r.progress_total ?? undefined,
            unit: r.progress_unit,
            bytesDone: r.bytes_done ?? undefined,
            bytesTotal: r.bytes_total ?? undefined,
          },
    lastError: r.last_error,
    createdAt: Number(r.created_at),
    startedAt: num(r.started_at),
    finishedAt: num(r.finished_at),
    updatedAt: Number(r.updated_at),
  };
}
