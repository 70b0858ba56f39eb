// --bwlimit: one token bucket shared by every transfer of a run (the JS SDK has no bandwidth cap).
export class BandwidthLimit {
  private readonly bytesPerSecond: number;
  private available: number;
  private last = performance.now();
  private queue = Promise.resolve();

  constructor(bytesPerSecond: number) {
    this.bytesPerSecond = bytesPerSecond;
    // A burst of a quarter second keeps many small files moving without overshooting the cap.
    this.available = bytesPerSecond / 4;
  }

  /** Waits until `n` bytes may be sent. Callers are served in order. */
  take(n: number): Promise<void> {
    this.queue = this.queue.then(async () => {
      this.refill();
      this.available -= n;
      if (this.available < 0) await new Promise((r) => setTimeout(r, (-this.available / this.bytesPerSecond) * 1000));
    });
    return this.queue;
  }

  private refill(): void {
    const now = performance.now();
    this.available = Math.min(this.bytesPerSecond / 4, this.available + ((now - this.last) / 1000) * this.bytesPerSecond);
    this.last = now;
  }
}
