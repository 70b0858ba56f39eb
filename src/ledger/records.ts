// Workflow records: what a recipe keeps besides jobs, in the same ledger and transaction rules as
// the jobs, so a web page or `ferry status` on another machine sees them too. A record is unique
// by (recipe, type, key); putting it again replaces its body and keeps its id and creation time.
// Several records that must change together (a check, then inserts that depend on it) go through
// one `transaction`.
import type { Kysely, Selectable } from 'kysely';
import type { Engine } from './engine.ts';
import type { LedgerSchema, RecordsTable } from './schema.ts';

export interface LedgerRecord<B = unknown> {
  id: number;
  recipe: string;
  type: string;
  key: string;
  runId: number | null;
  jobId: number | null;
  body: B;
  createdAt: number;
  updatedAt: number;
}

export interface RecordInput<B = unknown> {
  recipe: string;
  type: string;
  key: string;
  runId?: number | null;
  jobId?: number | null;
  body: B;
}

export interface RecordFilter {
  recipe: string;
  type?: string;
  runId?: number;
  /** Only keys starting with this. */
  keyPrefix?: string;
  /** Newest first instead of oldest first (by id). */
  newestFirst?: boolean;
  limit?: number;
}

/** Reads, in or out of a transaction. */
export interface RecordsReader {
  get<B = unknown>(recipe: string, type: string, key: string): Promise<LedgerRecord<B> | undefined>;
  /** The record with this id, if it is of this recipe and type. */
  getById<B = unknown>(recipe: string, type: string, id: number): Promise<LedgerRecord<B> | undefined>;
  list<B = unknown>(f: RecordFilter): Promise<LedgerRecord<B>[]>;
}

/** What a transaction can do: everything in it is committed together, or nothing is. */
export interface RecordsTransaction extends RecordsReader {
  /** Inserts the record unless (recipe, type, key) is taken; returns it as stored, or undefined. */
  create<B>(r: RecordInput<B>): Promise<LedgerRecord<B> | undefined>;
  /** Inserts or replaces the record; returns it as stored. */
  put<B>(r: RecordInput<B>): Promise<LedgerRecord<B>>;
  /**
   * Holds the record against other writers until this transaction ends, so that what is read next
   * stays true until the commit (check-then-insert); false if there is no such record. PostgreSQL
   * takes the row lock (a write that changes nothing); SQLite's write transactions are exclusive already.
   */
  lock(recipe: string, type: string, key: string): Promise<boolean>;
}

/** Records as a caller that only needs reads and transactions sees them (the ledger's, a job's). */
export interface RecordsAccess extends RecordsReader {
  transaction<T>(fn: (tx: RecordsTransaction) => Promise<T>): Promise<T>;
}

export class Records implements RecordsAccess {
  private readonly engine: Engine;

  constructor(engine: Engine) {
    this.engine = engine;
  }

  private get db(): Kysely<LedgerSchema> {
    return this.engine.db;
  }

  /** Inserts or replaces the record; returns it as stored. */
  put<B>(r: RecordInput<B>): Promise<LedgerRecord<B>> {
    return this.transaction((tx) => tx.put(r));
  }

  /** Several records in one transaction (a plan's records). */
  async putMany(rs: RecordInput[]): Promise<void> {
    if (rs.length === 0) return;
    await this.transaction(async (tx) => {
      for (const r of rs) await tx.put(r);
    });
  }

  /**
   * Inserts a record only if (recipe, type, key) is not taken; returns whether it was. Two planners
   * racing for one key get exactly one winner.
   */
  async create<B>(r: RecordInput<B>): Promise<boolean> {
    return (await this.transaction((tx) => tx.create(r))) !== undefined;
  }

  get<B = unknown>(recipe: string, type: string, key: string): Promise<LedgerRecord<B> | undefined> {
    return reader(this.db).get<B>(recipe, type, key);
  }

  getById<B = unknown>(recipe: string, type: string, id: number): Promise<LedgerRecord<B> | undefined> {
    return reader(this.db).getById<B>(recipe, type, id);
  }

  list<B = unknown>(f: RecordFilter): Promise<LedgerRecord<B>[]> {
    return reader(this.db).list<B>(f);
  }

  /** Runs `fn` in one write transaction: its reads see its own writes, and it commits as a whole. */
  transaction<T>(fn: (tx: RecordsTransaction) => Promise<T>): Promise<T> {
    return this.engine.transaction((trx) => {
      const now = Date.now();
      return fn({
        ...reader(trx),
        create: async <B>(r: RecordInput<B>) => {
          const row = await trx
            .insertInto('records')
            .values(recordRow(r, now))
            .onConflict((oc) => oc.columns(['recipe', 'type', 'key']).doNothing())
            .returningAll()
            .executeTakeFirst();
          return row && toRecord<B>(row);
        },
        put: async <B>(r: RecordInput<B>) => {
          const row = await trx
            .insertInto('records')
            .values(recordRow(r, now))
            .onConflict((oc) =>
              oc.columns(['recipe', 'type', 'key']).doUpdateSet({
                body: JSON.stringify(r.body),
                run_id: r.runId ?? null,
                job_id: r.jobId ?? null,
                updated_at: now,
              }),
            )
            .returningAll()
            .executeTakeFirstOrThrow();
          return toRecord<B>(row);
        },
        lock: async (recipe, type, key) => {
          const r = await trx
            .updateTable('records')
            .set((eb) => ({ updated_at: eb.ref('updated_at') }))
            .where('recipe', '=', recipe)
            .where('type', '=', type)
            .where('key', '=', key)
            .executeTakeFirst();
          return Number(r.numUpdatedRows) > 0;
        },
      });
    });
  }
}

function reader(db: Kysely<LedgerSchema>): RecordsReader {
  return {
    async get<B>(recipe: string, type: string, key: string) {
      const r = await db
        .selectFrom('records')
        .selectAll()
        .where('recipe', '=', recipe)
        .where('type', '=', type)
        .where('key', '=', key)
        .executeTakeFirst();
      return r && toRecord<B>(r);
    },
    async getById<B>(recipe: string, type: string, id: number) {
      const r = await db.selectFrom('records').selectAll().where('id', '=', id).where('recipe', '=', recipe).where('type', '=', type).executeTakeFirst();
      return r && toRecord<B>(r);
    },
    async list<B>(f: RecordFilter) {
      let q = db.selectFrom('records').selectAll().where('recipe', '=', f.recipe);
      if (f.type !== undefined) q = q.where('type', '=', f.type);
      if (f.runId !== undefined) q = q.where('run_id', '=', f.runId);
      // A range, not LIKE: keys may hold % and _, and a range uses the unique index.
      if (f.keyPrefix) q = q.where('key', '>=', f.keyPrefix).where('key', '<', f.keyPrefix + '\u{10FFFF}');
      q = q.orderBy('id', f.newestFirst ? 'desc' : 'asc');
      if (f.limit) q = q.limit(f.limit);
      return (await q.execute()).map((r) => toRecord<B>(r));
    },
  };
}

function recordRow(r: RecordInput, now: number) {
  return {
    recipe: r.recipe,
    type: r.type,
    key: r.key,
    run_id: r.runId ?? null,
    job_id: r.jobId ?? null,
    body: JSON.stringify(r.body),
    created_at: now,
    updated_at: now,
  };
}

function toRecord<B>(r: Selectable<RecordsTable>): LedgerRecord<B> {
  const num = (v: number | null) => (v === null ? null : Number(v));
  return {
    id: Number(r.id),
    recipe: r.recipe,
    type: r.type,
    key: r.key,
    runId: num(r.run_id),
    jobId: num(r.job_id),
    body: JSON.parse(r.body) as B,
    createdAt: Number(r.created_at),
    updatedAt: Number(r.updated_at),
  };
}
