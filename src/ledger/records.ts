// Workflow records: what a recipe keeps besides jobs, in the same ledger and transaction rules as
// the jobs, so a web page or `ferry status` on another machine sees them too. A record is unique
// by (recipe, type, key); putting it again replaces its body and keeps its id and creation time.
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

export class Records {
  private readonly engine: Engine;

  constructor(engine: Engine) {
    this.engine = engine;
  }

  private get db(): Kysely<LedgerSchema> {
    return this.engine.db;
  }

  /** Inserts or replaces the record; returns it as stored. */
  async put<B>(r: RecordInput<B>): Promise<LedgerRecord<B>> {
    await this.engine.transaction((trx) => upsert(trx, r, Date.now()));
    return (await this.get<B>(r.recipe, r.type, r.key))!;
  }

  /** Several records in one transaction (a plan's records). */
  async putMany(rs: RecordInput[]): Promise<void> {
    if (rs.length === 0) return;
    const now = Date.now();
    await this.engine.transaction(async (trx) => {
      for (const r of rs) await upsert(trx, r, now);
    });
  }

  /**
   * Inserts a record only if (recipe, type, key) is not taken; returns whether it was. Two planners
   * racing for one key get exactly one winner.
   */
  async create<B>(r: RecordInput<B>): Promise<boolean> {
    const now = Date.now();
    return this.engine.transaction(async (trx) => {
      const res = await trx
        .insertInto('records')
        .values(row(r, now))
        .onConflict((oc) => oc.columns(['recipe', 'type', 'key']).doNothing())
        .executeTakeFirst();
      return Number(res.numInsertedOrUpdatedRows ?? 0) > 0;
    });
  }

  async get<B = unknown>(recipe: string, type: string, key: string): Promise<LedgerRecord<B> | undefined> {
    const r = await this.db
      .selectFrom('records')
      .selectAll()
      .where('recipe', '=', recipe)
      .where('type', '=', type)
      .where('key', '=', key)
      .executeTakeFirst();
    return r && toRecord<B>(r);
  }

  async list<B = unknown>(f: RecordFilter): Promise<LedgerRecord<B>[]> {
    let q = this.db.selectFrom('records').selectAll().where('recipe', '=', f.recipe);
    if (f.type !== undefined) q = q.where('type', '=', f.type);
    if (f.runId !== undefined) q = q.where('run_id', '=', f.runId);
    // A range, not LIKE: keys may hold % and _, and a range uses the unique index.
    if (f.keyPrefix) q = q.where('key', '>=', f.keyPrefix).where('key', '<', f.keyPrefix + '\u{10FFFF}');
    q = q.orderBy('id', f.newestFirst ? 'desc' : 'asc');
    if (f.limit) q = q.limit(f.limit);
    return (await q.execute()).map((r) => toRecord<B>(r));
  }
}

async function upsert(trx: Kysely<LedgerSchema>, r: RecordInput, now: number): Promise<void> {
  await trx
    .insertInto('records')
    .values(row(r, now))
    .onConflict((oc) =>
      oc.columns(['recipe', 'type', 'key']).doUpdateSet({
        body: JSON.stringify(r.body),
        run_id: r.runId ?? null,
        job_id: r.jobId ?? null,
        updated_at: now,
      }),
    )
    .execute();
}

function row(r: RecordInput, now: number) {
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
