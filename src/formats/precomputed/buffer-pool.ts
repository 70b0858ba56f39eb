// Large buffers (a task's slab, a shard being written) reused across the slabs, shards and tasks
// of one process. A fresh buffer of a few hundred MiB costs a page fault per 4 KiB the first time
// it is filled, and V8 counts every new external byte toward its next full garbage collection; a
// reused one costs neither. Buffers left unused for a little while are let go, so an idle worker
// does not sit on them. They start on a page boundary, so a shard joined into one can be written
// around the page cache.
import { alignedBytes } from '../../storage/direct-write.ts';

/** Smaller requests are ordinary allocations: pooling them would only tie up large buffers. */
const MIN_BYTES = 1 << 20;
/** Free buffers kept at most: for each of two tasks at once, two slabs and their coarser scales. */
const KEEP = 8;
const IDLE_MS = 5000;

const free: ArrayBuffer[] = [];
let idle: NodeJS.Timeout | undefined;

export interface PooledBuffer {
  /** Exactly the bytes asked for; their contents are whatever the last user left. */
  bytes: Uint8Array;
  /** Hands the buffer back; the caller must not touch `bytes` afterwards. */
  release(): void;
}

export function takeBuffer(size: number): PooledBuffer {
  if (size < MIN_BYTES) return { bytes: new Uint8Array(size), release() {} };
  // The smallest free buffer large enough, and not so large that a slab would miss it.
  let best = -1;
  for (let i = 0; i < free.length; i++) {
    const n = free[i].byteLength;
    if (n >= size && n <= 2 * size && (best < 0 || n < free[best].byteLength)) best = i;
  }
  const buffer = best >= 0 ? free.splice(best, 1)[0] : (alignedBytes(size).buffer as ArrayBuffer);
  let released = false;
  return {
    bytes: new Uint8Array(buffer, 0, size),
    release() {
      if (released) return;
      released = true;
      free.push(buffer);
      // Too many: drop the smallest, the least likely to fit what comes next.
      if (free.length > KEEP) free.splice(free.indexOf(free.reduce((a, b) => (b.byteLength < a.byteLength ? b : a))), 1);
      if (idle) clearTimeout(idle);
      idle = setTimeout(() => free.splice(0), IDLE_MS).unref();
    },
  };
}
