// The recipe contract: what every workflow (one folder under src/recipes/) declares so that the one
// orchestration service (orchestrator.ts) can plan it, run it here or on a cluster, follow it and
// sum it up for the CLI and the web page alike. A recipe holds no CLI or HTTP code; the runtime
// never names a recipe (src/recipes/index.ts lists them).
import type { JobSpec } from '../ledger/engine.ts';
import type { Ledger, JobRecord, Run, RunStatus } from '../ledger/ledger.ts';
import type { LedgerRecord } from '../ledger/records.ts';
import type { JobState } from '../ledger/schema.ts';
import type { Handler } from './registry.ts';

/** Checks raw input (parsed flags, a web form, a job file) and returns it typed and normalised. */
export interface InputSchema<I> {
  /** Throws a FerryError naming each bad field and what it should be. */
  parse(raw: unknown): I;
}

/** A record a plan writes with its run: the run's id is filled in by the orchestrator. */
export interface PlannedRecord {
  type: string;
  key: string;
  body: unknown;
}

export interface PlannedRun {
  name: string;
  labels?: Record<string, string>;
  /**
   * What the run is planned from (sources, destination, layout): planning again under the same
   * name with a different identity is refused, naming what differs, instead of silently adding
   * nothing.
   */
  identity?: Record<string, string | number | boolean | null>;
  jobs: JobSpec[];
  records?: PlannedRecord[];
  /**
   * Jobs the run already has that this plan queues again: 'failed' (error or cancelled: the user
   * asked for the work again), 'all' (finished ones too: a re-check, a re-sync). Default: none.
   */
  requeue?: 'failed' | 'all';
  /** Where its jobs run when the caller does not say: in the command ('here') or on workers. */
  placement?: 'here' | 'cluster';
  /**
   * Job kinds in the order their jobs must run, for runs whose steps depend on each other (a
   * stack opened before its tiles are sent, finished after all of them): run here, every job of a
   * stage ends before the next stage starts, and a stage that leaves a job failed stops the run
   * there (the next command resumes it). Kinds not named run in no stage. Workers started apart
   * (`ferry work`, `ferry submit`) do not know stages: such runs are placed 'here'.
   */
  stages?: string[][];
  /** Defaults for cluster workers of this run (the caller's options win). */
  cluster?: { name?: string; queue?: string; project?: string };
  /**
   * States carried over from a tool Ferry replaces (an old job list), applied to jobs of this plan
   * that Ferry has not touched yet, with the old tool's log as events.
   */
  carryOver?: CarriedState[];
}

export interface CarriedState {
  key: string;
  state: JobState;
  lastError?: string;
  events: { at?: number; type: string; message: string }[];
}

export interface Plan {
  runs: PlannedRun[];
  /** Said to the user before anything runs. */
  warnings: string[];
  /** What the plan found, for the caller to show (JSON-able): discovery, scales, operations. */
  facts?: Record<string, unknown>;
  /** Items of the input the plan could not take (an unreadable old job file): each fails the command. */
  rejected?: { item: string; reason: string }[];
}

export interface PlanContext {
  /** The ledger the plan will go into, for plans that depend on what was done before. */
  ledger(): Promise<Ledger>;
  dryRun: boolean;
}

/** A run with everything a summary needs, read by the orchestrator. */
export interface RunView {
  run: Run;
  status: RunStatus;
  /** Every job of the run (summaries are for runs a command just ran; pages read jobs in pages). */
  jobs(): Promise<JobRecord[]>;
  records<B = unknown>(type?: string): Promise<LedgerRecord<B>[]>;
}

/** How a run is summed up beyond its job counts. */
export interface RunReport {
  run: string;
  /** True only when everything the run was asked to do is done and verified. */
  ok: boolean;
  /** Human lines, most important first. */
  lines: string[];
  /** The same as data, for --json and the web page. */
  data?: Record<string, unknown>;
}

export type KindLoaders = Record<string, () => Promise<Handler<any>>>;

export interface Recipe<I = unknown> {
  /** The folder name and the `recipe` label of its runs: jump, volume, fibsem, ... */
  readonly name: string;
  /** One line: what the workflow does. */
  readonly title: string;
  readonly input: InputSchema<I>;
  plan(input: I, ctx: PlanContext): Promise<Plan>;
  /** The job kinds its plans create, loaded only when a worker runs one. */
  readonly kinds: KindLoaders;
  /** Sums a run up; without it a run is ok when all its jobs succeeded. */
  report?(view: RunView): Promise<RunReport>;
}

export function defineRecipe<I>(r: Recipe<I>): Recipe<I> {
  return r;
}
