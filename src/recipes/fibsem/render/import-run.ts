// `ferry fibsem render-import`: the Render import of one tab (06_dat_to_render.sh) as one ledger run
// per tab and target. The plan reads every header, checks the names, keeps the plan in the ledger
// (stored-plan.ts), and, before anything is sent, checks every stack that still has work to do
// (reachable, writable, not READ_ONLY or OFFLINE, no tiles of an earlier import unless replace).
// The command then runs the run's jobs here, stage after stage: every stack opened, every batch
// sent (a few at a time), every stack finished (COMPLETE), every stack verified. A stage that
// leaves a job failed stops there; running the command again plans the same jobs, queues the failed
// ones again and carries on with what is not done, so a killed import sends only its unfinished
// batches. The run's report is the stacks' verification records.
import { errorMessage } from '../../../errors.ts';
import type { JobSpec } from '../../../ledger/engine.ts';
import type { Ledger } from '../../../ledger/ledger.ts';
import { RenderClient } from '../../../render/client.ts';
import { checkStack } from '../../../render/import.ts';
import type { StackImport } from '../../../render/stack-import.ts';
import { verificationProblems } from '../../../render/verify.ts';
import type { StackVerification } from '../../../render/verify.ts';
import type { Plan, PlanContext, RunReport, RunView } from '../../../runtime/recipe.ts';
import { loadTab } from '../tab.ts';
import type { SkippedDat } from './dat-headers.ts';
import { planRenderImport, renderImportPreview } from './plan.ts';
import { BATCH_JOB, FINISH_JOB, OPEN_JOB, VERIFY_JOB } from '../kinds.ts';
import { PLAN_RECORD, RENDER_STAGES, STACK_RECORD, planRecords, rememberTiles, stepKeys, storedPlan } from './stored-plan.ts';
import type { StackSteps, StoredPlan, VerifyLayers } from './stored-plan.ts';

export interface RenderImportInput {
  tab: string;
  url?: string;
  owner?: string;
  project?: string;
  stack?: string;
  replace: boolean;
  allowMissing: boolean;
  verify: VerifyLayers;
  /** Tiles per request. */
  batch?: number;
  run?: string;
}

/** What a stack's verification record holds: the verification, and which plan it verified. */
export type StackRecord = StackVerification & { generation: string; run: string; tab: string };

/** What the command shows of each stack before anything runs. */
export interface StackFacts {
  stack: string;
  tiles: number;
  sections: number;
  batches: number;
  /** Batches of this plan the ledger already has as sent. */
  sent: number;
  verified: boolean;
}

export function renderRunName(tab: string, stack: string): string {
  return `fibsem-${tab}-render-${stack}`;
}

export async function planRenderImportRun(input: RenderImportInput, ctx: PlanContext): Promise<Plan> {
  const tab = await loadTab(input.tab);
  const plan = await planRenderImport(tab, { url: input.url, owner: input.owner, project: input.project, stack: input.stack, allowMissing: input.allowMissing, batchSize: input.batch });
  const { target } = plan;
  const run = input.run ?? renderRunName(tab.tab, target.stack);
  const head = storedPlan(run, tab.tab, plan, { replace: input.replace, verify: input.verify });
  const done = await succeededKeys(await ctx.ledger(), run);
  const stacks: StackFacts[] = head.stacks.map((s) => ({
    stack: s.stack,
    tiles: s.tiles,
    sections: s.expected.sectionCount,
    batches: s.batches.length,
    sent: s.batches.filter((b) => done.has(b.key)).length,
    verified: done.has(s.verify),
  }));
  const facts: Record<string, unknown> = { tab: tab.tab, run, target, datFiles: plan.datFiles, skipped: plan.skipped, groups: plan.groups, stacks };
  if (ctx.dryRun) {
    facts.preview = renderImportPreview(plan);
  } else {
    const unfinished = plan.stacks.filter((_, i) => stepKeys(head.stacks[i]).some((k) => !done.has(k)));
    await checkStacks(plan.target, unfinished, input.replace);
    rememberTiles(run, head.digest, plan.stacks);
  }
  return {
    runs: [
      {
        name: run,
        labels: { tab: tab.tab, render: `${target.owner}/${target.project}/${target.stack}` },
        identity: { tab: tab.tab, url: target.url, owner: target.owner, project: target.project, stack: target.stack },
        jobs: head.stacks.flatMap((s) => stackJobs(run, s)),
        records: planRecords(head, plan.stacks),
        requeue: 'failed',
        placement: 'here',
        stages: RENDER_STAGES,
      },
    ],
    warnings: skippedWarnings(plan.skipped),
    facts,
  };
}

async function succeededKeys(ledger: Ledger, run: string): Promise<Set<string>> {
  const existing = await ledger.findRun(run);
  if (!existing) return new Set();
  return new Set((await ledger.listJobs({ runId: existing.id, states: ['success'] })).map((j) => j.key));
}

/** Every stack with work left, read-only, before the first is opened: a refusal changes nothing. */
async function checkStacks(target: StoredPlan['target'], stacks: StackImport[], replace: boolean): Promise<void> {
  if (stacks.length === 0) return;
  const client = new RenderClient(target);
  try {
    for (const s of stacks) await checkStack(client, s, { replace });
  } finally {
    client.close();
  }
}

function stackJobs(run: string, s: StackSteps): JobSpec[] {
  const params = { run, stack: s.stack };
  return [
    { kind: OPEN_JOB, key: s.open, params },
    ...s.batches.map((b) => ({ kind: BATCH_JOB, key: b.key, params })),
    { kind: FINISH_JOB, key: s.finish, params },
    // A verification that found a difference finds it again: one more attempt, for a killed command.
    { kind: VERIFY_JOB, key: s.verify, params, maxAttempts: 2 },
  ];
}

function skippedWarnings(skipped: SkippedDat[]): string[] {
  return skipped.map((s) => `${s.path} left out (--allow-missing): ${s.reason}`);
}

/** Both stacks verified, or what is missing: from the run's plan and verification records. */
export async function renderImportReport(view: RunView): Promise<RunReport> {
  const run = view.run.name;
  const [head] = await view.records<StoredPlan>(PLAN_RECORD);
  if (!head) return { run, ok: false, lines: ['no Render import has been planned in this run'] };
  const plan = head.body;
  const jobs = new Map((await view.jobs()).map((j) => [j.key, j]));
  const records = await view.records<StackRecord>(STACK_RECORD);
  const stacks = plan.stacks.map((s) => {
    const verifyJob = jobs.get(s.verify);
    const verification = verifyJob && records.find((r) => r.jobId === verifyJob.id)?.body;
    const steps = stepKeys(s).map((k) => jobs.get(k));
    const failed = steps.filter((j) => j && (j.state === 'error' || j.state === 'cancelled')).map((j) => `${j!.key}: ${j!.state === 'cancelled' ? 'cancelled' : errorMessage(j!.lastError ?? 'failed')}`);
    const sent = s.batches.filter((b) => jobs.get(b.key)?.state === 'success').length;
    return { stack: s.stack, steps: s, batches: s.batches.length, sent, failed, verification };
  });
  const ok = stacks.every((s) => s.verification?.ok === true);
  const lines = [`Render ${plan.target.owner}/${plan.target.project} at ${plan.target.url}:`];
  for (const s of stacks) {
    if (s.verification?.ok) lines.push(`  ${s.stack}: ${verifiedLine(s.verification)}`);
    else if (s.verification) lines.push(`  ${s.stack}: NOT verified (read back ${s.verification.checkedAt}): ${verificationProblems(s.verification).join('; ')}`);
    else lines.push(`  ${s.stack}: not verified yet: ${s.sent} of ${s.batches} batch(es) sent${s.failed.length ? `; ${s.failed.length} step(s) failed, first ${s.failed[0]}` : ''}`);
  }
  if (!ok) lines.push('run the same command again to carry on: only what is not done is sent (see `ferry jobs list --run ' + run + '`)');
  return {
    run,
    ok,
    lines,
    data: {
      target: plan.target,
      tab: plan.tab,
      stacks: stacks.map((s) => ({ stack: s.stack, generation: s.steps.generation, batches: s.batches, sent: s.sent, failed: s.failed, verification: s.verification ?? null })),
    },
  };
}

/** Exactly what was compared, each as planned. */
function verifiedLine(v: StackVerification): string {
  const b = v.bounds.expected;
  const specs = v.specs.mode === 'all' ? `all ${v.specs.layersTotal} layers` : `${v.specs.layers.length} of ${v.specs.layersTotal} layers (--verify all reads every layer)`;
  return [
    `verified ${v.checkedAt}: COMPLETE`,
    `${v.tileCount.expected} tiles, ${v.sectionCount.expected} sections, ${v.zValues.actual} z values ${v.zValues.first}..${v.zValues.last}, bounds x ${b.minX}..${b.maxX} y ${b.minY}..${b.maxY}, every tile id as planned`,
    ...(v.resolutionValues ? [`resolution values ${JSON.stringify(v.resolutionValues.expected)}`] : []),
    `tile specs of ${specs} (${v.specs.tilesCompared} tiles) read back equal to what was sent`,
  ].join('; ');
}
