// The one orchestration service. For every recipe, and for the CLI and the web page alike: plan
// idempotently (runs, jobs, records; a re-plan with other settings is refused), run the jobs here
// with local workers (stage after stage for a run whose steps depend on each other) or submit
// workers to Slurm / LSF, follow them, sum the runs up and decide the exit code. Callers only
// parse their input and render the events this emits.
import path from 'node:path';
import { FerryError, errorMessage, exitCodeOfOutcome, stopsEverything } from '../errors.ts';
import type { ClaimedJob, Outcome } from '../ledger/engine.ts';
import type { JobState } from '../ledger/schema.ts';
import type { Ledger, Run, RunStatus } from '../ledger/ledger.ts';
import type { Plan, PlannedRun, Recipe, RunReport, RunView } from './recipe.ts';
import { registerKind } from './registry.ts';
import { buildSubmission, describe, sharedLedgerWarning, submit } from './submit.ts';
import type { SchedulerName, SubmitOptions } from './submit.ts';
import { Worker } from './worker.ts';
import type { WorkerSummary } from './worker.ts';

/** Where recipes come from (src/recipes/index.ts): the runtime never names one itself. */
export interface RecipeCatalog {
  names(): string[];
  load(name: string): Promise<Recipe<any> | undefined>;
}

export interface PlannedRunOutcome {
  run: Run;
  /** Jobs in this plan for the run. */
  jobs: number;
  /** Of those, new in the ledger. */
  added: number;
  /** Jobs the run already had that this plan queued again. */
  requeued: number;
  placement: 'here' | 'cluster';
}

export interface PlanOutcome {
  recipe: string;
  plan: Plan;
  /** Empty for a dry run: nothing was written. */
  runs: PlannedRunOutcome[];
  dryRun: boolean;
}

export interface ClusterOptions {
  scheduler: SchedulerName;
  /** Default: one worker per job left to do. */
  workers?: number;
  queue?: string;
  time?: string;
  mem?: string;
  project?: string;
  /** Job name on the scheduler (default: ferry-<run>). */
  name?: string;
  logDir: string;
  /** Resolved ledger location the workers open (absolute path or postgres URL). */
  ledger: string;
  concurrency?: number;
  lease?: number;
  grace?: number;
}

export interface ExecuteOptions {
  dryRun?: boolean;
  /** What happens after planning: nothing, run the jobs in this process, or submit cluster runs. */
  run: 'none' | 'here';
  /** With run 'here': runs placed on the cluster go to these workers instead of this process. */
  cluster?: ClusterOptions;
  concurrency?: number;
  /**
   * Leases of the jobs run here (default: the worker's). A command killed with jobs in hand gets
   * them back this long after, when it is run again.
   */
  leaseMs?: number;
  /** Aborting stops the local workers (running jobs get `graceMs`, then are released). */
  signal?: AbortSignal;
  graceMs?: number;
  onEvent?: (e: OrchestratorEvent) => void;
  warn?: (message: string) => void;
}

export type OrchestratorEvent =
  | { type: 'planned'; outcome: PlanOutcome }
  | { type: 'submitted'; run: string; scheduler: SchedulerName; id: string; workers: number; command: string }
  | { type: 'running'; worker: Worker; runs: string[] }
  | { type: 'job-finished'; job: ClaimedJob; outcome: Outcome }
  | { type: 'ran'; summary: WorkerSummary };

export interface Execution {
  outcome: PlanOutcome;
  /** One per run of the plan (none for a dry run). */
  reports: RunReport[];
  /** Runs whose jobs are left to cluster workers, with what they still have to do. */
  waiting: { run: string; left: number }[];
  exitCode: number;
}

export class Orchestrator {
  private readonly openLedger: () => Promise<Ledger>;
  private opened: Promise<Ledger> | undefined;
  private readonly catalog: RecipeCatalog;
  private kindsLoaded: Promise<void> | undefined;

  /**
   * `ledger` is the ledger, or how to open it: then it is opened only once something needs it, so
   * a plan refused for its input leaves no ledger file behind.
   */
  constructor(ledger: Ledger | (() => Promise<Ledger>), catalog: RecipeCatalog) {
    this.openLedger = typeof ledger === 'function' ? ledger : () => Promise.resolve(ledger);
    this.catalog = catalog;
  }

  ledger(): Promise<Ledger> {
    this.opened ??= this.openLedger();
    return this.opened;
  }

  /** Closes the ledger if it was opened. */
  async close(): Promise<void> {
    if (this.opened) await (await this.opened).close();
  }

  async recipe(name: string): Promise<Recipe<any>> {
    const r = await this.catalog.load(name);
    if (!r) throw new FerryError(`no workflow named ${name}`, { hint: `the workflows are: ${this.catalog.names().join(', ')}` });
    return r;
  }

  /** The whole sequence: plan, enqueue, run here or submit, wait, sum up, choose the exit code. */
  async execute(recipe: Recipe<any>, rawInput: unknown, o: ExecuteOptions): Promise<Execution> {
    const emit = o.onEvent ?? (() => {});
    const outcome = await this.plan(recipe, rawInput, { dryRun: o.dryRun });
    emit({ type: 'planned', outcome });
    const rejected = outcome.plan.rejected?.length ?? 0;
    if (outcome.dryRun) return { outcome, reports: [], waiting: [], exitCode: exitCodeOfOutcome({ failed: rejected }) };
    const waiting: Execution['waiting'] = [];
    // Runs whose jobs this command runs itself; the others are left for (or submitted to) workers.
    let here = o.run === 'here' ? outcome.runs : [];
    if (o.run === 'here' && o.cluster) {
      here = outcome.runs.filter((r) => r.placement === 'here');
      for (const [i, r] of outcome.runs.entries()) {
        if (r.placement !== 'cluster') continue;
        const hints = outcome.plan.runs[i].cluster ?? {};
        const sub = await this.submitRun(r.run, { ...o.cluster, name: o.cluster.name ?? hints.name, queue: o.cluster.queue ?? hints.queue, project: o.cluster.project ?? hints.project });
        if (!sub) continue;
        const shared = sharedLedgerWarning({ scheduler: sub.scheduler, workers: sub.workers, ledger: o.cluster.ledger });
        if (shared) o.warn?.(shared);
        emit({ type: 'submitted', run: r.run.name, ...sub });
      }
    }
    const runJobs = async (runs: Run[], kinds?: string[]) => {
      const summary = await this.runHere(runs, {
        concurrency: o.concurrency ?? 1,
        kinds,
        leaseMs: o.leaseMs,
        signal: o.signal,
        graceMs: o.graceMs,
        warn: o.warn,
        onWorker: (worker) => emit({ type: 'running', worker, runs: runs.map((r) => r.name) }),
        onFinished: (job, outcome) => emit({ type: 'job-finished', job, outcome }),
      });
      emit({ type: 'ran', summary });
    };
    const plannedOf = (r: PlannedRunOutcome) => outcome.plan.runs[outcome.runs.indexOf(r)];
    // A run of no jobs (a check kept as a record) has nothing to run.
    here = here.filter((r) => plannedOf(r).jobs.length > 0);
    const unstaged = here.filter((r) => !plannedOf(r).stages);
    if (unstaged.length) await runJobs(unstaged.map((r) => r.run));
    for (const r of here) {
      const planned = plannedOf(r);
      for (const kinds of planned.stages ?? []) {
        if (o.signal?.aborted) break;
        await runJobs([r.run], kinds);
        if (await this.stageLeftUndone(r.run, kinds, new Set(planned.jobs.map((j) => j.key)))) break;
      }
    }
    const reports: RunReport[] = [];
    const ledger = await this.ledger();
    for (const [i, r] of outcome.runs.entries()) {
      const left = await ledger.remaining({ runIds: [r.run.id] });
      if (left.todo + left.ongoing > 0 && !here.includes(r)) waiting.push({ run: r.run.name, left: left.todo + left.ongoing });
      else reports.push(await this.report(recipe, r.run, outcome.plan.runs[i].jobs.map((j) => j.key)));
    }
    const interrupted = o.signal?.aborted ?? false;
    const failed = rejected + reports.filter((r) => !r.ok).length;
    return { outcome, reports, waiting, exitCode: exitCodeOfOutcome({ failed, incomplete: interrupted }) };
  }

  /**
   * Parses the input and plans it. Runs are created (or found) by name, jobs added by key, so the
   * same plan twice adds nothing; a run planned before from something else is refused.
   */
  async plan(recipe: Recipe<any>, rawInput: unknown, o: { dryRun?: boolean } = {}): Promise<PlanOutcome> {
    const input = recipe.input.parse(rawInput);
    const dryRun = Boolean(o.dryRun);
    const plan = await recipe.plan(input, { ledger: () => this.ledger(), dryRun });
    const outcome: PlanOutcome = { recipe: recipe.name, plan, runs: [], dryRun };
    if (dryRun) return outcome;
    for (const pr of plan.runs) outcome.runs.push(await this.enqueue(recipe.name, pr));
    return outcome;
  }

  private async enqueue(recipe: string, pr: PlannedRun): Promise<PlannedRunOutcome> {
    const identity = pr.identity ? JSON.stringify(sortKeys(pr.identity)) : undefined;
    const labels = { recipe, ...pr.labels, ...(identity ? { identity } : {}) };
    const run = await (await this.ledger()).createRun({ name: pr.name, labels });
    if (run.labels.recipe && run.labels.recipe !== recipe) {
      throw new FerryError(`run ${pr.name} belongs to the ${run.labels.recipe} workflow, not ${recipe}`, {
        hint: 'choose another run name (--run)',
        kind: 'usage',
      });
    }
    const changed = identity && run.labels.identity ? differences(JSON.parse(run.labels.identity), pr.identity!) : '';
    if (changed) {
      throw new FerryError(`run ${pr.name} was planned before with other settings: ${changed}`, {
        hint: `plan with the same settings to continue that run, or give this plan another run name (--run); \`ferry jobs list --run ${pr.name}\` shows its jobs`,
        kind: 'usage',
      });
    }
    const added = await (await this.ledger()).addJobs(run.id, pr.jobs);
    if (pr.carryOver?.length) {
      const ids = new Map((await (await this.ledger()).listJobs({ runId: run.id })).map((j) => [j.key, j.id]));
      for (const c of pr.carryOver) {
        const id = ids.get(c.key);
        if (id !== undefined) await (await this.ledger()).importJobState(id, { state: c.state, lastError: c.lastError, events: c.events });
      }
    }
    let requeued = 0;
    if (pr.requeue && added < pr.jobs.length) {
      const planned = new Map(pr.jobs.map((j) => [j.key, j]));
      const from: JobState[] = pr.requeue === 'all' ? ['error', 'cancelled', 'success'] : ['error', 'cancelled'];
      const again = (await (await this.ledger()).listJobs({ runId: run.id, states: from })).filter((j) => planned.has(j.key));
      // A job queued again does what the plan says now (paths from an edited tab, new options).
      await (await this.ledger()).setParams(again.map((j) => ({ id: j.id, params: planned.get(j.key)!.params })));
      requeued += (await (await this.ledger()).retry({ ids: again.filter((j) => j.state !== 'success').map((j) => j.id) })).length;
      requeued += (await (await this.ledger()).rerun({ ids: again.filter((j) => j.state === 'success').map((j) => j.id) })).length;
    }
    if (pr.records?.length) await (await this.ledger()).records.putMany(pr.records.map((r) => ({ ...r, recipe, runId: run.id })));
    return { run, jobs: pr.jobs.length, added, requeued, placement: pr.placement ?? 'here' };
  }

  /** Registers the job kinds of every recipe, so a worker here can run any job it claims. */
  loadKinds(): Promise<void> {
    this.kindsLoaded ??= registerCatalogKinds(this.catalog);
    return this.kindsLoaded;
  }

  /** Runs the jobs of these runs with local workers in this process until none is left. */
  async runHere(
    runs: Run[],
    o: {
      concurrency: number;
      /** Only jobs of these kinds (one stage of a staged run). */
      kinds?: string[];
      leaseMs?: number;
      signal?: AbortSignal;
      graceMs?: number;
      warn?: (m: string) => void;
      onWorker?: (w: Worker) => void;
      onFinished?: (job: ClaimedJob, outcome: Outcome) => void;
    },
  ): Promise<WorkerSummary> {
    await this.loadKinds();
    // A command running its own jobs stops at the first error that would fail every job alike.
    const worker = new Worker(await this.ledger(), {
      runIds: runs.map((r) => r.id),
      kinds: o.kinds,
      concurrency: o.concurrency,
      leaseMs: o.leaseMs,
      untilEmpty: true,
      warn: o.warn,
      haltOn: stopsEverything,
      onFinished: o.onFinished,
    });
    const stop = () => worker.stop(o.graceMs ?? 0);
    if (o.signal?.aborted) stop();
    o.signal?.addEventListener('abort', stop, { once: true });
    o.onWorker?.(worker);
    let summary: WorkerSummary;
    try {
      summary = await worker.run();
    } finally {
      o.signal?.removeEventListener('abort', stop);
    }
    if (summary.halted !== undefined) throw summary.halted;
    return summary;
  }

  /**
   * True when a stage did not end with every job done that this plan has of its kinds (failures of
   * jobs an earlier plan had and this one does not are not this plan's): the stages after it wait.
   */
  private async stageLeftUndone(run: Run, kinds: string[], planned: Set<string>): Promise<boolean> {
    const ledger = await this.ledger();
    const left = await ledger.remaining({ runIds: [run.id], kinds });
    if (left.todo + left.ongoing > 0) return true;
    const failed = await ledger.listJobs({ runId: run.id, states: ['error', 'cancelled'] });
    return failed.some((j) => kinds.includes(j.kind) && planned.has(j.key));
  }

  /** Starts scheduler workers for what a run has left; undefined when nothing is left. */
  async submitRun(run: Run, c: ClusterOptions): Promise<{ scheduler: SchedulerName; id: string; workers: number; command: string } | undefined> {
    const left = await (await this.ledger()).remaining({ runIds: [run.id] });
    if (left.todo === 0) return undefined;
    const sub: SubmitOptions = {
      scheduler: c.scheduler,
      workers: c.workers ?? left.todo,
      ledger: c.ledger,
      name: c.name ?? `ferry-${run.name}`,
      queue: c.queue,
      time: c.time,
      mem: c.mem,
      project: c.project,
      logDir: path.resolve(c.logDir),
      workArgs: [
        '--run', run.name,
        ...(c.concurrency ? ['--concurrency', String(c.concurrency)] : []),
        ...(c.lease ? ['--lease', String(c.lease)] : []),
        ...(c.grace !== undefined ? ['--grace', String(c.grace)] : []),
      ],
    };
    const submission = buildSubmission(sub);
    const id = submit(submission, sub);
    return { scheduler: sub.scheduler, id, workers: sub.workers, command: describe(submission, sub.workers) };
  }

  /**
   * A run summed up by its recipe (or by its job counts when the recipe says nothing more); with
   * `keys`, only those jobs count (the jobs of the plan a command just ran).
   */
  async report(recipe: Recipe<any> | undefined, run: Run, keys?: string[]): Promise<RunReport> {
    const view = await this.view(run, keys);
    if (recipe?.report) return recipe.report(view);
    return jobCountReport(view.status);
  }

  /** Reports for runs of any workflow (ferry status, the web page), by their recipe label. */
  async reportRuns(runs: Run[]): Promise<RunReport[]> {
    const out: RunReport[] = [];
    for (const run of runs) {
      const recipe = run.labels.recipe ? await this.catalog.load(run.labels.recipe).catch(() => undefined) : undefined;
      out.push(await this.report(recipe, run));
    }
    return out;
  }

  async view(run: Run, keys?: string[]): Promise<RunView> {
    const ledger = await this.ledger();
    const [status] = await ledger.status({ runIds: [run.id] });
    const only = keys && new Set(keys);
    return {
      run,
      status,
      jobs: async () => (await ledger.listJobs({ runId: run.id })).filter((j) => !only || only.has(j.key)),
      records: (type) => ledger.records.list({ recipe: run.labels.recipe ?? '', runId: run.id, type }),
    };
  }
}

/**
 * Registers the job kinds of every recipe of the catalog (a worker runs whatever it claims), or of
 * the named ones only (a worker for given runs: loading every recipe costs a fresh process most
 * of a second on a busy machine).
 */
export async function registerCatalogKinds(catalog: RecipeCatalog, only?: string[]): Promise<void> {
  for (const name of only ?? catalog.names()) {
    const r = await catalog.load(name);
    for (const [kind, load] of Object.entries(r?.kinds ?? {})) registerKind(kind, load);
  }
}

/** The report of a run whose recipe adds nothing: ok when every job succeeded. */
export function jobCountReport(s: RunStatus): RunReport {
  const c = s.counts;
  const ok = c.total > 0 && c.success === c.total;
  const lines = [`${c.success} of ${c.total} job(s) succeeded${c.error ? `, ${c.error} failed` : ''}${c.cancelled ? `, ${c.cancelled} cancelled` : ''}${c.todo + c.ongoing ? `, ${c.todo + c.ongoing} not finished` : ''}`];
  return { run: s.run.name, ok, lines, data: { counts: c } };
}

/** The first failures of a run, for reports: "key: error". */
export async function failureLines(view: RunView, most = 5): Promise<string[]> {
  const failed = (await view.jobs()).filter((j) => j.state === 'error' || j.state === 'cancelled');
  return failed.slice(0, most).map((j) => `${j.key}: ${j.state === 'cancelled' ? 'cancelled' : errorMessage(j.lastError ?? 'failed')}`);
}

function sortKeys(o: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.keys(o).sort().map((k) => [k, o[k]]));
}

/**
 * 'dst: "/a" then, "/b" now; ...': what differs between a run's identity and a new plan's, or ''.
 * Only what the run recorded counts: a run planned by an older Ferry, whose identity has fewer
 * fields, goes on under a newer one.
 */
function differences(before: Record<string, unknown>, now: Record<string, unknown>): string {
  const diff = Object.keys(before).sort().filter((k) => JSON.stringify(before[k]) !== JSON.stringify(now[k] ?? null));
  return diff.map((k) => `${k}: ${JSON.stringify(before[k])} then, ${JSON.stringify(now[k] ?? null)} now`).join('; ');
}
