// Job kinds and the code that runs them. Recipes register their kinds by importing this module
// (and are listed in handlers.ts so that a worker loads them); the runtime never names a recipe.
import type { ProgressUpdate } from '../ledger/engine.ts';

export interface JobContext {
  jobId: number;
  key: string;
  runId: number;
  kind: string;
  /** 1 on the first attempt. */
  attempt: number;
  maxAttempts: number;
  /** Fired when the worker is stopping past its grace period, or lost the job's lease: stop soon. */
  signal: AbortSignal;
  /** Persisted, throttled: call it as often as useful. */
  progress(p: ProgressUpdate): void;
  /** Appends a line to the job's event log (`ferry jobs log ID`). */
  log(message: string): Promise<void>;
}

export interface Handler<P = unknown> {
  /** Parses and checks the job's parameters; throw a FerryError saying what is wrong. */
  validate?(params: unknown): P;
  /**
   * Does the work and returns a JSON result. Must be idempotent: a job runs again after its worker
   * died, and running it twice must leave the same end state, nothing duplicated or half-written.
   */
  run(ctx: JobContext, params: P): Promise<unknown>;
}

const handlers = new Map<string, Handler<any>>();

export function registerHandler<P>(kind: string, handler: Handler<P>): void {
  if (handlers.has(kind)) throw new Error(`job kind ${kind} is registered twice`);
  handlers.set(kind, handler);
}

export function getHandler(kind: string): Handler<unknown> | undefined {
  return handlers.get(kind);
}

export function registeredKinds(): string[] {
  return [...handlers.keys()].sort();
}
