// Runs a listing ahead of its consumer into a bounded buffer: the source is walked while the
// destination is still being listed (one is the local disk's work, the other the server's), and
// memory stays bounded because the walk pauses when the buffer is full.

export interface Prefetched<T> extends AsyncIterableIterator<T> {
  /** Stops the walk if it is still running, for a run that ends before reading it all. */
  return(): Promise<IteratorResult<T>>;
}

export function prefetch<T>(source: AsyncIterable<T>, limit: number): Prefetched<T> {
  const it = source[Symbol.asyncIterator]();
  let buf: T[] = [];
  let head = 0;
  let done = false;
  let stopped = false;
  let failure: { error: unknown } | undefined;
  let wakeConsumer: (() => void) | undefined;
  let wakeProducer: (() => void) | undefined;
  const wake = (w: (() => void) | undefined) => w?.();

  void (async () => {
    try {
      while (!stopped) {
        if (buf.length - head >= limit) {
          await new Promise<void>((r) => (wakeProducer = r));
          continue;
        }
        const r = await it.next();
        if (r.done) break;
        buf.push(r.value);
        wake(wakeConsumer);
        wakeConsumer = undefined;
      }
    } catch (error) {
      // Kept for the consumer, who sees it where it would have without the read-ahead.
      failure = { error };
    }
    done = true;
    wake(wakeConsumer);
    wakeConsumer = undefined;
  })();

  return {
    [Symbol.asyncIterator]() {
      return this;
    },
    async next(): Promise<IteratorResult<T>> {
      while (head === buf.length && !done) await new Promise<void>((r) => (wakeConsumer = r));
      if (head < buf.length) {
        const value = buf[head++];
        // Drop what was consumed now and then instead of shifting on every read.
        if (head >= 4096 && head * 2 >= buf.length) {
          buf = buf.slice(head);
          head = 0;
        }
        wake(wakeProducer);
        wakeProducer = undefined;
        return { value, done: false };
      }
      if (failure) {
        const { error } = failure;
        failure = undefined;
        throw error;
      }
      return { value: undefined, done: true };
    },
    async return(): Promise<IteratorResult<T>> {
      stopped = true;
      wake(wakeProducer);
      wakeProducer = undefined;
      await it.return?.();
      return { value: undefined, done: true };
    },
  };
}
