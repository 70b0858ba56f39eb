// One rule for local file calls, shared by the file store and the readers of many small files.

/**
 * Decides whether local filesystem calls may run on the main thread. A local disk answers from its
 * cache in microseconds, far less than a trip through the thread pool costs; on a slow filesystem
 * (NFS, Lustre, GPFS) a call at a time on the main thread would set the pace of everything, so
 * after three slow calls in a row (one pause, a GC or a cold cache, does not decide) they go
 * through the pool for the rest of the run.
 */
export class SyncWhileFast {
  sync = true;
  private strikes = 0;

  run<T>(fn: () => T, budgetMs: (result: T | undefined) => number): T {
    const started = performance.now();
    let result: T | undefined;
    try {
      return (result = fn());
    } finally {
      this.strikes = performance.now() - started > budgetMs(result) ? this.strikes + 1 : 0;
      if (this.strikes >= 3) this.sync = false;
    }
  }
}
