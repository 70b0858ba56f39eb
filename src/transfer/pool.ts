// A fixed number of tasks in flight. submit() waits while the pool is full, which is what keeps a
// listing of millions of files from racing ahead of the copies: memory stays bounded.
export class Pool {
  private active = 0;
  private readonly waiters: (() => void)[] = [];
  private readonly idle: (() => void)[] = [];
  private readonly size: number;

  constructor(size: number) {
    this.size = Math.max(1, size);
  }

  async submit(task: () => Promise<void>): Promise<void> {
    while (this.active >= this.size) await new Promise<void>((r) => this.waiters.push(r));
    this.active++;
    void task().finally(() => {
      this.active--;
      this.waiters.shift()?.();
      if (this.active === 0) this.idle.splice(0).forEach((r) => r());
    });
  }

  /** Resolves when every submitted task has settled. Tasks must catch their own errors. */
  async drain(): Promise<void> {
    if (this.active === 0) return;
    await new Promise<void>((r) => this.idle.push(r));
  }
}
