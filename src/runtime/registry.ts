// Job kinds and the code that runs them. Recipes declare their kinds with loaders (the runtime
// never names a recipe: src/recipes/index.ts hands them over), so a worker loads a handler's
// code only when it claims a job of that kind.
import type { ProgressUpdate } from '../ledger/engine.ts';
import type { LedgerRecord, RecordsAccess } from '../ledger/records.ts';
import type { TransferState } from '../ledger/transfer-state/state.ts';

/**
 * Records as a job sees them: what it puts is linked to its run and to itself; a transaction writes
 * what it is given, as given.
 */
export interface JobRecords extends RecordsAccess {
  put<B>(r: { recipe: string; type: string; key: string; body: B }): Promise<LedgerRecord<B>>;
}

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
  records: JobRecords;
  /** The manifests and upload journals of the worker's ledger, shared by every worker of it. */
  transferState(): Promise<TransferState>;
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

type Entry = { load: () => Promise<Handler<any>>; handler?: Promise<Handler<any>> };
const kinds = new Map<string, Entry>();

/** Registers a kind whose handler is loaded on first use. The same loader twice is a no-op. */
export function registerKind(kind: string, load: () => Promise<Handler<any>>): void {
  const had = kinds.get(kind);
  if (had && had.load !== load) throw new Error(`job kind ${kind} is registered twice`);
  kinds.set(kind, had ?? { load });
}

/** Registers a handler that is already loaded (tests, kinds defined in place). */
export function registerHandler<P>(kind: string, handler: Handler<P>): void {
  if (kinds.has(kind)) throw new Error(`job kind ${kind} is registered twice`);
  const ready = Promise.resolve(handler as Handler<any>);
  kinds.set(kind, { load: () => ready, handler: ready });
}

export function handlerFor(kind: string): Promise<Handler<unknown> | undefined> {
  const e = kinds.get(kind);
  if (!e) return Promise.resolve(undefined);
  e.handler ??= e.load();
  return e.handler;
}

export function registeredKinds(): string[] {
  return [...kinds.keys()].sort();
}

// `noop` ships with the runtime: benchmarks and smoke tests of the ledger and workers plan it.
registerHandler('noop', { run: async () => null });
