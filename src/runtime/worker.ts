// The worker loop: claim jobs, run their handlers, record how they ended, keep the leases alive.
// One ledger transaction both records the finished jobs and claims the next ones, so small jobs
// cost one commit per batch rather than two per job.
import crypto from 'node:crypto';
import os from 'node:os';
import { errorMessage } from '../errors.ts';
import type { ClaimedJob, Outcome, ProgressUpdate } from '../ledger/engine.ts';
import { isTransient, unreachable } from '../ledger/failures.ts';
import type { Ledger } from '../ledger/ledger.ts';
import { handlerFor, registeredKinds } from './registry.ts';
import type { JobContext } from './registry.ts';

export interface WorkerOptions {
  runIds?: number[];
  kinds?: string[];
  concurrency?: number;
  leaseMs?: number;
  /** Stop once nothing is left that this worker could run (no todo, no ongoing that may come back). */
  untilEmpty?: boolean;
  pollMs?: number;
  /** Most jobs claimed per transaction; by default it grows when jobs are short. */
  batch?: number;
  /** First retry waits this long, doubling per attempt (capped at 5 minutes). */
  retryBackoffMs?: number;
  /** Give up when the ledger stays out of reach this long. */
  unreachableLimitMs?: number;
  owner?: string;
  warn?: (message: string) => void;
  /**
   * Errors that stop this worker (a command running its own jobs: an unreachable host or a
   * missing bucket stops every job alike). The job that met it goes back to `todo` with its
   * attempt given back, the worker stops, and `summary.halted` holds the error.
   */
  haltOn?: (e: unknown) => boolean;
  /** Called as each job ends here, with how it ended. */
  onFinished?: (job: ClaimedJob, outcome: Outcome) => void;
}

export interface WorkerSummary {
  owner: string;
  succeeded: number;
  failed: number;
  retried: number;
  released: number;
  /** The error that stopped the worker (see WorkerOptions.haltOn). */
  halted?: unknown;
}

interface Running {
  job: ClaimedJob;
  controller: AbortController;
  progress?: ProgressUpdate;
  progressWrittenAt: number;
  progressTimer?: NodeJS.Timeout;
  done: Promise<void>;
}

const PROGRESS_EVERY_MS = 2_000;
const BATCH_MS = 100;
const FLUSH_MS = 1_000;
const MAX_BATCH = 500;

export function workerName(): string {
  const slurm = process.env.SLURM_ARRAY_JOB_ID
    ? ` slurm ${process.env.SLURM_ARRAY_JOB_ID}_${process.env.SLURM_ARRAY_TASK_ID}`
    : process.env.SLURM_JOB_ID
      ? ` slurm ${process.env.SLURM_JOB_ID}`
      : '';
  const lsf = process.env.LSB_JOBID ? ` lsf ${process.env.LSB_JOBID}[${process.env.LSB_JOBINDEX ?? 0}]` : '';
  return `${os.hostname()}/${process.pid}/${crypto.randomBytes(3).toString('hex')}${slurm}${lsf}`;
}

export class Worker {
  readonly owner: string;
  private readonly ledger: Ledger;
  private readonly opts: Required<Omit<WorkerOptions, 'runIds' | 'kinds' | 'batch' | 'owner' | 'warn' | 'haltOn' | 'onFinished'>> &
    Pick<WorkerOptions, 'runIds' | 'kinds' | 'batch' | 'haltOn' | 'onFinished'>;
  private readonly warn: (message: string) => void;
  private readonly queue: ClaimedJob[] = [];
  private readonly running = new Map<number, Running>();
  private finished: Outcome[] = [];
  /** Jobs to give back untouched when the worker stops (the one that halted it). */
  private givenBack: number[] = [];
  private stopping = false;
  private graceDeadline = 0;
  /** When the oldest outcome not yet in the ledger was recorded here. */
  private finishedSince = 0;
  private wakeUp: (() => void) | undefined;
  private woken = false;
  // Unknown until measured: start as if jobs were long, one per slot.
  private avgJobMs = BATCH_MS;
  private lastRenewOk = Date.now();
  private readonly summary: WorkerSummary;

  constructor(ledger: Ledger, opts: WorkerOptions = {}) {
    this.ledger = ledger;
    this.owner = opts.owner ?? workerName();
    const leaseMs = opts.leaseMs ?? 60_000;
    this.opts = {
      runIds: opts.runIds,
      kinds: opts.kinds,
      batch: opts.batch,
      haltOn: opts.haltOn,
      onFinished: opts.onFinished,
      concurrency: Math.max(1, opts.concurrency ?? 1),
      leaseMs,
      untilEmpty: opts.untilEmpty ?? false,
      pollMs: opts.pollMs ?? Math.min(1_000, leaseMs / 4),
      retryBackoffMs: opts.retryBackoffMs ?? 5_000,
      unreachableLimitMs: opts.unreachableLimitMs ?? 5 * 60_000,
    };
    this.warn = opts.warn ?? (() => {});
    this.summary = { owner: this.owner, succeeded: 0, failed: 0, retried: 0, released: 0 };
  }

  get counts(): Readonly<WorkerSummary> {
    return this.summary;
  }

  /** What each running job last said of its own progress (undefined: nothing yet). */
  get runningProgress(): (ProgressUpdate | undefined)[] {
    return [...this.running.values()].map((r) => r.progress);
  }

  /** Runs until stopped (or, with untilEmpty, until nothing is left). */
  async run(): Promise<WorkerSummary> {
    const heartbeat = setInterval(() => void this.renew(), this.opts.leaseMs / 3);
    try {
      while (!this.stopping) {
        let claimed = 0;
        const free = this.opts.concurrency - this.running.size;
        const want = this.queue.length === 0 && free > 0 ? Math.max(free, this.claimSize() - this.running.size) : 0;
        const flushDue = this.finished.length > 0 && (this.finished.length >= this.claimSize() || Date.now() - this.finishedSince >= FLUSH_MS);
        if (want > 0 || flushDue) {
          const jobs = await this.sync(want);
          if (this.stopping) {
            this.queue.push(...jobs);
            break;
          }
          claimed = jobs.length;
          this.queue.push(...jobs);
        }
        this.startQueued();
        if (this.running.size > 0) {
          // Outcomes of a batch's short jobs must not wait behind a long one.
          await this.nextWake(this.finished.length ? FLUSH_MS : undefined);
          continue;
        }
        if (claimed > 0 || this.queue.length > 0) continue;
        if (this.finished.length) continue;
        if (this.opts.untilEmpty) {
          const left = await this.withRetry(() => this.ledger.remaining({ runIds: this.opts.runIds, kinds: this.opts.kinds }));
          if (left.todo === 0 && left.ongoing === 0) break;
        }
        await this.nextWake(this.opts.pollMs);
      }
      await this.finish();
    } finally {
      clearInterval(heartbeat);
    }
    return this.summary;
  }

  /** Stop claiming; running jobs get `graceMs` to finish, then they are aborted and released. */
  stop(graceMs: number): void {
    if (this.stopping) return;
    this.stopping = true;
    this.graceDeadline = Date.now() + graceMs;
    this.wake();
  }

  /** Enough short jobs to keep a batch busy for about BATCH_MS; long jobs one per free slot. */
  private claimSize(): number {
    if (this.opts.batch) return this.opts.batch;
    const perSlot = Math.floor(BATCH_MS / Math.max(this.avgJobMs, 0.01));
    return Math.min(MAX_BATCH, Math.max(this.opts.concurrency, perSlot * this.opts.concurrency));
  }

  private async sync(limit: number): Promise<ClaimedJob[]> {
    const finished = this.finished;
    this.finished = [];
    try {
      return await this.withRetry(() =>
        this.ledger.cycle({
          owner: this.owner,
          leaseMs: this.opts.leaseMs,
          limit,
          runIds: this.opts.runIds,
          kinds: this.opts.kinds,
          finished,
        }),
      );
    } catch (e) {
      this.finished.unshift(...finished);
      throw e;
    }
  }

  /** Retries through ledger outages (server restart, failover) up to the configured limit. */
  private async withRetry<T>(op: () => Promise<T>): Promise<T> {
    const since = Date.now();
    let delay = 200;
    for (;;) {
      try {
        return await op();
      } catch (e) {
        if (!isTransient(e)) throw e;
        if (Date.now() - since > this.opts.unreachableLimitMs) throw unreachable(this.ledger.where, e);
        this.warn(`ledger unavailable (${errorMessage(e)}); retrying`);
        await new Promise((r) => setTimeout(r, delay));
        delay = Math.min(delay * 2, 5_000);
      }
    }
  }

  private startQueued(): void {
    while (this.running.size < this.opts.concurrency && this.queue.length > 0 && !this.stopping) {
      const job = this.queue.shift()!;
      // Short jobs report their progress with their outcome only: the first write waits a full period.
      const r: Running = { job, controller: new AbortController(), progressWrittenAt: Date.now(), done: Promise.resolve() };
      this.running.set(job.id, r);
      r.done = this.execute(r).then((o) => {
        clearTimeout(r.progressTimer);
        this.running.delete(job.id);
        if (o === 'halted') {
          this.givenBack.push(job.id);
        } else {
          if (this.finished.length === 0) this.finishedSince = Date.now();
          this.finished.push(r.progress && !o.progress ? { ...o, progress: r.progress } : o);
          this.opts.onFinished?.(job, o);
        }
        this.wake();
      });
    }
  }

  private async execute(r: Running): Promise<Outcome | 'halted'> {
    const { job } = r;
    const started = Date.now();
    let handler;
    try {
      handler = await handlerFor(job.kind);
    } catch (e) {
      this.summary.failed++;
      return { id: job.id, state: 'error', error: `the handler of job kind "${job.kind}" could not be loaded: ${errorMessage(e)}` };
    }
    if (!handler) {
      this.summary.failed++;
      return {
        id: job.id,
        state: 'error',
        error: `no handler for job kind "${job.kind}" in this worker (it knows: ${registeredKinds().join(', ')})`,
      };
    }
    let params: unknown;
    try {
      params = handler.validate ? handler.validate(job.params) : job.params;
    } catch (e) {
      this.summary.failed++;
      return { id: job.id, state: 'error', error: `invalid parameters for ${job.kind}: ${errorMessage(e)}` };
    }
    try {
      const result = await handler.run(this.context(r), params);
      this.summary.succeeded++;
      return { id: job.id, state: 'success', result: result ?? null };
    } catch (e) {
      if (this.opts.haltOn?.(e) && !r.controller.signal.aborted) {
        this.summary.halted ??= e;
        this.stop(0);
        return 'halted';
      }
      const message = r.controller.signal.aborted ? `${errorMessage(r.controller.signal.reason)}: ${errorMessage(e)}` : errorMessage(e);
      if (job.attempt < job.maxAttempts) {
        this.summary.retried++;
        const backoff = Math.min(this.opts.retryBackoffMs * 2 ** (job.attempt - 1), 300_000);
        return { id: job.id, state: 'todo', error: message, notBefore: Date.now() + backoff };
      }
      this.summary.failed++;
      return { id: job.id, state: 'error', error: message };
    } finally {
      this.avgJobMs = this.avgJobMs * 0.8 + (Date.now() - started) * 0.2;
    }
  }

  private context(r: Running): JobContext {
    const { job } = r;
    return {
      jobId: job.id,
      key: job.key,
      runId: job.runId,
      kind: job.kind,
      attempt: job.attempt,
      maxAttempts: job.maxAttempts,
      signal: r.controller.signal,
      progress: (p) => {
        r.progress = p;
        if (r.progressTimer) return;
        const wait = Math.max(0, r.progressWrittenAt + PROGRESS_EVERY_MS - Date.now());
        r.progressTimer = setTimeout(() => {
          r.progressTimer = undefined;
          r.progressWrittenAt = Date.now();
          if (this.running.has(job.id) && r.progress) {
            this.ledger.reportProgress(this.owner, job.id, r.progress).catch((e) => this.warn(`progress of job ${job.id} not saved: ${errorMessage(e)}`));
          }
        }, wait);
      },
      log: async (message) => {
        try {
          await this.ledger.appendEvent(job.id, 'log', message);
        } catch (e) {
          this.warn(`log line of job ${job.id} not saved: ${errorMessage(e)}`);
        }
      },
      records: {
        put: (rec) => this.withRetry(() => this.ledger.records.put({ ...rec, runId: job.runId, jobId: job.id })),
        get: (recipe, type, key) => this.withRetry(() => this.ledger.records.get(recipe, type, key)),
        getById: (recipe, type, id) => this.withRetry(() => this.ledger.records.getById(recipe, type, id)),
        list: (f) => this.withRetry(() => this.ledger.records.list(f)),
        // A transaction commits whole or not at all, so one cut off by an outage is safe to run again.
        transaction: (fn) => this.withRetry(() => this.ledger.records.transaction(fn)),
      },
      transferState: () => this.ledger.transferState(),
    };
  }

  /** Extends the leases of every held job; aborts jobs whose lease is gone (cancelled, taken over). */
  private async renew(): Promise<void> {
    const held = [...this.running.keys(), ...this.queue.map((j) => j.id), ...this.finished.map((o) => o.id)];
    if (held.length === 0) {
      this.lastRenewOk = Date.now();
      return;
    }
    try {
      const kept = new Set(await this.ledger.renewLeases(this.owner, held, this.opts.leaseMs));
      this.lastRenewOk = Date.now();
      for (const id of held) {
        if (kept.has(id)) continue;
        const r = this.running.get(id);
        if (r) r.controller.abort(new Error('the job was cancelled or its lease was lost'));
        const q = this.queue.findIndex((j) => j.id === id);
        if (q >= 0) this.queue.splice(q, 1);
      }
    } catch (e) {
      this.warn(`could not renew leases: ${errorMessage(e)}`);
      if (Date.now() - this.lastRenewOk > this.opts.leaseMs) {
        for (const r of this.running.values()) r.controller.abort(new Error('the lease could not be renewed'));
      }
    }
  }

  private async finish(): Promise<void> {
    const queued = this.queue.splice(0);
    if (this.running.size > 0) {
      const all = Promise.all([...this.running.values()].map((r) => r.done));
      const left = this.stopping ? Math.max(0, this.graceDeadline - Date.now()) : Infinity;
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([all, new Promise((res) => (timer = setTimeout(res, left)))]);
      clearTimeout(timer);
    }
    const interrupted = [...this.running.values()];
    for (const r of interrupted) r.controller.abort(new Error('the worker is stopping'));
    await this.sync(0);
    const release = [
      ...queued.map((j) => ({ id: j.id, started: false })),
      ...this.givenBack.map((id) => ({ id, started: false })),
      ...interrupted.map((r) => ({ id: r.job.id, started: true })),
    ];
    if (release.length) {
      await this.withRetry(() => this.ledger.release(this.owner, release, `released by ${this.owner} (stopping)`));
      this.summary.released += release.length;
    }
  }

  private wake(): void {
    const w = this.wakeUp;
    this.wakeUp = undefined;
    if (w) w();
    else this.woken = true;
  }

  /** Waits for a job to finish, a stop request, or `ms`; returns at once if one came meanwhile. */
  private nextWake(ms?: number): Promise<void> {
    if (this.woken) {
      this.woken = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      this.wakeUp = () => {
        clearTimeout(timer);
        resolve();
      };
      if (ms !== undefined) timer = setTimeout(() => this.wake(), ms);
    });
  }
}
