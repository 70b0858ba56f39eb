// How every workflow command runs: open the ledger, hand the parsed input to the orchestration
// service, and render what it reports (plan, progress of the local workers, submissions, the
// runs' reports). The command module renders its workflow's own facts through `onPlanned`.
import type { ClaimedJob, Outcome } from '../ledger/engine.ts';
import type { Execution, ExecuteOptions, PlanOutcome } from '../runtime/orchestrator.ts';
import { Orchestrator } from '../runtime/orchestrator.ts';
import { openLedger, openLedgerForDryRun } from '../ledger/open.ts';
import { catalog } from '../recipes/index.ts';
import { runningDetail } from './output.ts';
import type { Output } from './output.ts';

export interface RecipeCommand {
  recipe: string;
  input: unknown;
  ledger?: string;
  out: Output;
  dryRun?: boolean;
  run: ExecuteOptions['run'];
  cluster?: ExecuteOptions['cluster'];
  concurrency?: number;
  leaseMs?: number;
  /** Prints what the plan found before anything runs, instead of the generic lines and event. */
  onPlanned?(outcome: PlanOutcome): void;
  /** Prints the end, instead of the runs' report lines. */
  onDone?(e: Execution, o: Orchestrator): Promise<void> | void;
  /** Prints each job as it ends in this process. */
  onJobFinished?(job: ClaimedJob, outcome: Outcome): void;
  /** Words for the progress line: "tiles", "jobs". */
  unit?: string;
}

/** The `planned` event of --json: the plan's facts, and the runs with their job counts. */
export function plannedEvent(o: PlanOutcome): Record<string, unknown> {
  return {
    ...o.plan.facts,
    recipe: o.recipe,
    dryRun: o.dryRun,
    jobs: o.runs.reduce((n, r) => n + r.jobs, 0),
    added: o.runs.reduce((n, r) => n + r.added, 0),
    requeued: o.runs.reduce((n, r) => n + r.requeued, 0),
    runs: o.runs.map((r) => ({ run: r.run.name, jobs: r.jobs, added: r.added, requeued: r.requeued, placement: r.placement })),
  };
}

export async function runRecipeCommand(c: RecipeCommand): Promise<Execution> {
  const { out } = c;
  const orchestrator = new Orchestrator(() => (c.dryRun ? openLedgerForDryRun(c.ledger) : openLedger(c.ledger)), catalog);
  const abort = new AbortController();
  let signals = 0;
  const onSignal = (sig: string) => {
    signals++;
    out.warn(`${sig}: stopping; running jobs are released and run again next time (run the same command to resume)`);
    abort.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  let stopProgress = () => {};
  try {
    const recipe = await orchestrator.recipe(c.recipe);
    const e = await orchestrator.execute(recipe, c.input, {
      dryRun: c.dryRun,
      run: c.run,
      cluster: c.cluster,
      concurrency: c.concurrency,
      leaseMs: c.leaseMs,
      signal: abort.signal,
      warn: (m) => out.warn(m),
      onEvent: (ev) => {
        if (ev.type === 'planned') {
          for (const w of ev.outcome.plan.warnings) out.warn(w);
          if (c.onPlanned) c.onPlanned(ev.outcome);
          else {
            out.event('planned', plannedEvent(ev.outcome));
            for (const r of ev.outcome.runs) {
              out.line(`Planned ${r.added} new job(s) in run '${r.run.name}' (${r.jobs - r.added} already there${r.requeued ? `, ${r.requeued} queued again` : ''}).`);
            }
          }
        } else if (ev.type === 'submitted') {
          out.event('submitted', { run: ev.run, scheduler: ev.scheduler, jobId: ev.id, workers: ev.workers, command: ev.command });
          out.line(`submitted ${ev.workers} worker(s) for ${ev.run} to ${ev.scheduler}: job ${ev.id}`);
        } else if (ev.type === 'running') {
          const w = ev.worker;
          stopProgress = out.startProgress(() => ({
            unit: c.unit ?? 'jobs',
            done: w.counts.succeeded,
            failed: w.counts.failed,
            detail: runningDetail(w.runningProgress),
          }));
        } else if (ev.type === 'job-finished') {
          if (c.onJobFinished) c.onJobFinished(ev.job, ev.outcome);
          else if (ev.outcome.state === 'error') out.warn(`${ev.job.key}: ${ev.outcome.error}`);
        } else if (ev.type === 'ran') {
          stopProgress();
        }
      },
    });
    if (c.onDone) await c.onDone(e, orchestrator);
    else {
      for (const r of e.reports) {
        out.event('report', { ...r });
        for (const l of r.lines) out.line(l);
      }
      for (const w of e.waiting) {
        out.event('waiting', w);
        out.line(`${w.left} job(s) of ${w.run} left to the workers; follow them with: ferry status --run ${w.run}`);
      }
    }
    if (signals > 0) setTimeout(() => process.exit(), 2_000).unref();
    process.exitCode = e.exitCode;
    return e;
  } finally {
    stopProgress();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await orchestrator.close();
  }
}
