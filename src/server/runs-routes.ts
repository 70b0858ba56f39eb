// The runs and jobs of the ledger as JSON: every run with its counts (as last read by the live
// watch), one run with its recipe's report, its jobs a page at a time, one job with its event log,
// and the job actions (retry, cancel) for one job, a selection, or every failed job of a run.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { FerryError } from '../errors.ts';
import type { JobState } from '../ledger/schema.ts';
import { JOB_STATES } from '../ledger/schema.ts';
import type { Ledger, Run } from '../ledger/ledger.ts';
import type { Orchestrator } from '../runtime/orchestrator.ts';
import type { RunReport } from '../runtime/recipe.ts';
import { parseInfoBytes } from '../formats/precomputed/info.ts';
import { localPathOf } from '../storage/spec.ts';
import type { LedgerWatch } from './live.ts';

export const PAGE_SIZE = 50;
const MAX_PAGE = 500;
const MAX_EVENTS = 1000;

export interface RunsContext {
  orchestrator: Orchestrator;
  ledger: Ledger;
  watch: LedgerWatch;
  readOnly: boolean;
  /** Runs on mutations only: refuses a request from another site or without the token. */
  mutation: (req: import('fastify').FastifyRequest, reply: import('fastify').FastifyReply) => Promise<void> | void;
}

const idParam = { type: 'object', properties: { id: { type: 'integer', minimum: 1 } }, required: ['id'] } as const;

/** The folder of a volume run's destination, when it is one on this machine (the page serves it). */
export function volumeFolder(run: Run): string | undefined {
  if (run.labels.recipe !== 'volume' || !run.labels.dst) return undefined;
  let dir: string | undefined;
  try {
    dir = localPathOf(run.labels.dst);
  } catch {
    return undefined;
  }
  return dir && existsSync(dir) ? dir : undefined;
}

/** The layer type of a volume; `ready` once its info file is written (by the last task). */
async function volumeInfo(folder: string): Promise<{ ready: boolean; type?: 'image' | 'segmentation' }> {
  const bytes = await readFile(join(folder, 'info')).catch(() => undefined);
  if (!bytes) return { ready: false };
  try {
    return { ready: true, type: parseInfoBytes(bytes).type };
  } catch {
    return { ready: false };
  }
}

export function runsRoutes(app: FastifyInstance, c: RunsContext): void {
  const runById = async (id: number): Promise<Run> => {
    const s = await c.watch.run(id);
    if (!s) throw new FerryError(`no run ${id} in the ledger at ${c.ledger.where}`, { hint: 'the runs are listed on the first page', code: 'NotFound' });
    return s.run;
  };

  app.get('/api/runs', async () => c.watch.snapshot());

  app.get('/api/runs/:id', { schema: { params: idParam } }, async (req) => {
    const { id } = req.params as { id: number };
    const run = await runById(id);
    const recipe = run.labels.recipe ? await c.orchestrator.recipe(run.labels.recipe).catch(() => undefined) : undefined;
    const folder = volumeFolder(run);
    return {
      status: await c.watch.run(id),
      title: recipe?.title ?? null,
      volume: folder ? { data: `/volumes/${run.id}/`, ...(await volumeInfo(folder)) } : null,
    };
  });

  // Reports may read every job of a run or a whole destination: one at a time per run, shared.
  const reports = new Map<number, Promise<RunReport>>();
  app.get('/api/runs/:id/report', { schema: { params: idParam } }, async (req) => {
    const { id } = req.params as { id: number };
    const run = await runById(id);
    let pending = reports.get(id);
    if (!pending) {
      pending = c.orchestrator.reportRuns([run]).then(([r]) => r).finally(() => reports.delete(id));
      reports.set(id, pending);
    }
    return pending;
  });

  app.get(
    '/api/runs/:id/jobs',
    {
      schema: {
        params: idParam,
        querystring: {
          type: 'object',
          properties: {
            state: { type: 'string', pattern: `^(${JOB_STATES.join('|')})(,(${JOB_STATES.join('|')}))*$` },
            q: { type: 'string', maxLength: 500 },
            after: { type: 'integer', minimum: 0 },
            limit: { type: 'integer', minimum: 1, maximum: MAX_PAGE },
          },
        },
      },
    },
    async (req) => {
      const { id } = req.params as { id: number };
      const q = req.query as { state?: string; q?: string; after?: number; limit?: number };
      await runById(id);
      return c.ledger.pageJobs({
        runId: id,
        states: q.state ? (q.state.split(',') as JobState[]) : undefined,
        keyContains: q.q || undefined,
        after: q.after,
        limit: q.limit ?? PAGE_SIZE,
      });
    },
  );

  app.get('/api/jobs/:id', { schema: { params: idParam } }, async (req) => {
    const { id } = req.params as { id: number };
    const job = await c.ledger.getJob(id).catch((e: unknown) => {
      throw e instanceof FerryError ? new FerryError(e.message, { code: 'NotFound' }) : e;
    });
    const events = await c.ledger.events(id);
    const run = await runById(job.runId);
    return { job, run: { id: run.id, name: run.name }, events: events.slice(-MAX_EVENTS), eventsLeftOut: Math.max(0, events.length - MAX_EVENTS) };
  });

  if (c.readOnly) return;

  const selection = {
    type: 'object',
    additionalProperties: false,
    properties: { ids: { type: 'array', items: { type: 'integer', minimum: 1 }, minItems: 1, maxItems: 10_000 }, all: { const: true } },
    oneOf: [{ required: ['ids'] }, { required: ['all'] }],
  } as const;
  for (const verb of ['retry', 'cancel'] as const) {
    app.post(`/api/runs/:id/${verb}`, { schema: { params: idParam, body: selection }, preHandler: c.mutation }, async (req) => {
      const { id } = req.params as { id: number };
      const body = req.body as { ids?: number[]; all?: true };
      await runById(id);
      // Jobs are chosen within the run: an id from another run changes nothing. Without ids, retry
      // takes every failed job (error, cancelled) and cancel every unfinished one.
      const sel = { runId: id, ids: body.ids };
      const changed = verb === 'retry' ? await c.ledger.retry(sel) : await c.ledger.cancel(sel);
      await c.watch.refresh();
      return { changed };
    });
  }
}
