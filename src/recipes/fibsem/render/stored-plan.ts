// A Render import as its ledger jobs carry it out. The plan is kept once per run, in two records
// written with the run's jobs, so no job reads the 120,000 headers again:
// - `render-plan` (small): the target, the options of the latest command, and per stack its
//   generation, the keys of its steps and what it should hold once COMPLETE;
// - `render-tiles` (~250 bytes a tile): every planned tile, read once per process and plan digest
//   (the command that planned it never reads it back).
// Job keys: `<owner>/<project>/<stack>/open@<generation>`, each batch's own key (its index and a
// digest of its tiles), `.../finish@<generation>`, `.../verify@<generation>/<all|sample-N>`. The
// generation digests everything the stack's import sends, so planning the same acquisition again
// finds the same jobs (a killed import resumes with its unfinished batches), while a changed
// acquisition (a .dat fetched again) opens, sends what changed, finishes and verifies anew.
import { createHash } from 'node:crypto';
import { FerryError } from '../../../errors.ts';
import type { GroupSummary } from '../../../formats/render/plan.ts';
import type { StackBounds } from '../../../formats/render/stack.ts';
import type { StackImport } from '../../../render/stack-import.ts';
import type { JobRecords } from '../../../runtime/registry.ts';
import type { SkippedDat } from './dat-headers.ts';
import type { RenderImportPlan, RenderImportTarget } from './plan.ts';
import { OPEN_JOB, BATCH_JOB, FINISH_JOB, VERIFY_JOB } from '../kinds.ts';

export const PLAN_RECORD = 'render-plan';
export const TILES_RECORD = 'render-tiles';
/** A stack's verification, keyed `<owner>/<project>/<stack>`. */
export const STACK_RECORD = 'render-stack';

/** Every stack is opened before any tile is sent, and so on: each stage ends before the next. */
export const RENDER_STAGES = [[OPEN_JOB], [BATCH_JOB], [FINISH_JOB], [VERIFY_JOB]];

export type VerifyLayers = 'all' | number;

export interface RenderRunOptions {
  /** Remove tiles of an earlier import that this one does not plan. */
  replace: boolean;
  /** Compare the tile specs of every z, or of this many. */
  verify: VerifyLayers;
}

export interface StackSteps {
  stack: string;
  generation: string;
  open: string;
  batches: { key: string; tiles: number }[];
  finish: string;
  verify: string;
  tiles: number;
  expected: { tileCount: number; sectionCount: number; bounds: StackBounds };
}

export interface StoredPlan {
  run: string;
  tab: string;
  /** Digest of the tiles record this head belongs to. */
  digest: string;
  target: RenderImportTarget;
  options: RenderRunOptions;
  datFiles: number;
  skipped: SkippedDat[];
  groups: GroupSummary[];
  /** `<stack>_restart` first, as in the plan. */
  stacks: StackSteps[];
}

interface StoredTiles {
  digest: string;
  stacks: StackImport[];
}

export function storedPlan(run: string, tab: string, plan: RenderImportPlan, options: RenderRunOptions): StoredPlan {
  const stacks = plan.stacks.map((s) => stackSteps(plan.target, s, options.verify));
  const digest = sha(stacks.map((s) => s.generation).join(' '));
  return { run, tab, digest, target: plan.target, options, datFiles: plan.datFiles, skipped: plan.skipped, groups: plan.groups, stacks };
}

/** The records a plan writes with its run. */
export function planRecords(head: StoredPlan, stacks: StackImport[]) {
  const tiles: StoredTiles = { digest: head.digest, stacks };
  return [
    { type: PLAN_RECORD, key: head.run, body: head },
    { type: TILES_RECORD, key: head.run, body: tiles },
  ];
}

function stackSteps(target: RenderImportTarget, s: StackImport, verify: VerifyLayers): StackSteps {
  const generation = sha(JSON.stringify({ resolution: s.resolution, resolutionValues: s.resolutionValues ?? null, batches: s.batches.map((b) => b.key) }));
  const prefix = `${target.owner}/${target.project}/${s.stack}`;
  const { tileCount, sectionCount, bounds } = s.expected;
  return {
    stack: s.stack,
    generation,
    open: `${prefix}/open@${generation}`,
    batches: s.batches.map((b) => ({ key: b.key, tiles: b.end - b.start })),
    finish: `${prefix}/finish@${generation}`,
    verify: `${prefix}/verify@${generation}/${verify === 'all' ? 'all' : `sample-${verify}`}`,
    tiles: s.tiles.length,
    expected: { tileCount, sectionCount, bounds },
  };
}

export function stepKeys(s: StackSteps): string[] {
  return [s.open, ...s.batches.map((b) => b.key), s.finish, s.verify];
}

function sha(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 16);
}

// The tiles of the latest plan of each run this process has seen, by digest.
const tilesByRun = new Map<string, { digest: string; stacks: Promise<StackImport[]> }>();

/** Planned in this process: its jobs here use these tiles instead of reading them back. */
export function rememberTiles(run: string, digest: string, stacks: StackImport[]): void {
  tilesByRun.set(run, { digest, stacks: Promise.resolve(stacks) });
}

/** The run's current plan and its tiles, as a job finds them in the ledger. */
export async function loadPlan(records: JobRecords, run: string): Promise<{ plan: StoredPlan; stacks: StackImport[] }> {
  const head = await records.get<StoredPlan>('fibsem', PLAN_RECORD, run);
  if (!head) {
    throw new FerryError(`the ledger holds no Render import plan for run ${run}`, { hint: 'run `ferry fibsem render-import` again to plan it', kind: 'config' });
  }
  const plan = head.body;
  let known = tilesByRun.get(run);
  if (known?.digest !== plan.digest) {
    const reading = { digest: plan.digest, stacks: readTiles(records, run, plan.digest) };
    tilesByRun.set(run, reading);
    reading.stacks.catch(() => tilesByRun.get(run) === reading && tilesByRun.delete(run));
    known = reading;
  }
  return { plan, stacks: await known.stacks };
}

async function readTiles(records: JobRecords, run: string, digest: string): Promise<StackImport[]> {
  const r = await records.get<StoredTiles>('fibsem', TILES_RECORD, run);
  // Both records are written in one transaction; a mismatch means a new plan came in between.
  if (r?.body.digest !== digest) {
    throw new FerryError(`the Render import plan of run ${run} changed while it was read`, { hint: 'run `ferry fibsem render-import` again', kind: 'item' });
  }
  return r.body.stacks;
}
