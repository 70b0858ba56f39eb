// A process-wide cap on bytes held at once, granted in turn. Multipart uploads draw their part
// buffers from one budget: a single large file may then keep many parts in flight (what a fast
// server wants), while 32 large files at once (--transfers 32) still hold no more than the budget
// between them.

interface Waiter {
  bytes: number;
  grant: () => void;
}

export class ByteBudget {
  private limit: number;
  private used = 0;
  private readonly waiting: Waiter[] = [];

  constructor(limit: number) {
    this.limit = limit;
  }

  /**
   * Waits until `bytes` fit, then holds them until the returned function is called. A request
   * larger than the whole budget is granted once nothing else is held, so it cannot wait forever.
   */
  async take(bytes: number, signal?: AbortSignal): Promise<() => void> {
    signal?.throwIfAborted();
    if (this.waiting.length === 0 && this.fits(bytes)) {
      this.used += bytes;
    } else {
      // Granted by wake(), which counts the bytes as used before this resumes.
      await new Promise<void>((resolve, reject) => {
        const waiter: Waiter = { bytes, grant: () => { signal?.removeEventListener('abort', onAbort); resolve(); } };
        const onAbort = () => {
          this.waiting.splice(this.waiting.indexOf(waiter), 1);
          this.wake();
          reject(signal!.reason);
        };
        signal?.addEventListener('abort', onAbort, { once: true });
        this.waiting.push(waiter);
      });
    }
    return this.holding(bytes);
  }

  /** Holds `bytes` if they fit now and nobody is waiting; else undefined, without waiting. */
  tryTake(bytes: number): (() => void) | undefined {
    if (this.waiting.length > 0 || this.used + bytes > this.limit) return undefined;
    this.used += bytes;
    return this.holding(bytes);
  }

  private holding(bytes: number): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.used -= bytes;
      this.wake();
    };
  }

  /** Raises the cap to at least `bytes` (what one user-sized request needs), never lowers it. */
  atLeast(bytes: number): void {
    if (bytes <= this.limit) return;
    this.limit = bytes;
    this.wake();
  }

  private fits(bytes: number): boolean {
    return this.used === 0 || this.used + bytes <= this.limit;
  }

  /** Grants waiters in arrival order, so a large request is not passed over for ever by small ones. */
  private wake(): void {
    while (this.waiting.length > 0 && this.fits(this.waiting[0].bytes)) {
      const next = this.waiting.shift()!;
      this.used += next.bytes;
      next.grant();
    }
  }
}
