// gzip of one chunk at a time, each as a single job on libuv's thread pool, through a few zlib
// streams kept open and reset between chunks. A new stream per chunk allocates (and reports to
// V8 as external memory) ~300 KiB of deflate state plus an output buffer the size of the chunk;
// V8 counts that toward its next full collection, and a task's small heap then collects every few
// dozen chunks. A kept stream writes each result into the free end of one large output buffer:
// chunks come back as views of it, packed, and a new buffer is needed only every few MiB.
// zlib's default 16 KiB output buffer would also send each chunk back to the main thread a dozen
// times mid-compression; here Z_FINISH goes with the data, so a chunk is one job.
import { availableParallelism } from 'node:os';
import { constants, createGzip } from 'node:zlib';
import type { Gzip, ZlibReset } from 'node:zlib';

/** Output buffer of each stream: room for a dozen compressed 256 KiB chunks. */
const OUTPUT_BYTES = 4 << 20;

interface Stream {
  // Node resets any deflate stream, gzip's too (deflateReset); @types/node lists it for Deflate only.
  gzip: Gzip & ZlibReset;
  pieces: Buffer[];
}

const idle = new Map<number, Stream[]>();
const waiting = new Map<number, ((s: Stream) => void)[]>();
const made = new Map<number, number>();
/**
 * Streams per level: enough that every core has chunks queued behind the one it compresses, also
 * while section decodes take turns on the same threads and the main thread is busy cutting.
 */
const MAX_STREAMS = Math.min(64, availableParallelism() * 4);

function open(level: number): Stream {
  const gzip = createGzip({ level, chunkSize: OUTPUT_BYTES, flush: constants.Z_FINISH }) as Gzip & ZlibReset;
  const s: Stream = { gzip, pieces: [] };
  gzip.on('data', (b: Buffer) => s.pieces.push(b));
  return s;
}

async function take(level: number): Promise<Stream> {
  const free = idle.get(level);
  if (free?.length) return free.pop()!;
  if ((made.get(level) ?? 0) < MAX_STREAMS) {
    const s = open(level);
    made.set(level, (made.get(level) ?? 0) + 1);
    return s;
  }
  return new Promise((resolve) => {
    const queue = waiting.get(level) ?? [];
    queue.push(resolve);
    waiting.set(level, queue);
  });
}

function give(level: number, s: Stream): void {
  const next = waiting.get(level)?.shift();
  if (next) return next(s);
  const free = idle.get(level) ?? [];
  free.push(s);
  idle.set(level, free);
}

/** The gzip member of `data`; a view of a shared output buffer, so do not write to it. */
export async function gzipChunk(data: Uint8Array, level: number): Promise<Buffer> {
  const s = await take(level);
  try {
    await new Promise<void>((resolve, reject) => {
      const fail = (e: Error) => reject(e);
      s.gzip.once('error', fail);
      s.gzip.write(data, (e) => {
        s.gzip.off('error', fail);
        if (e) reject(e);
        else resolve();
      });
    });
  } catch (e) {
    // A stream that failed is not reused (its state is unknown); a caller waiting for one gets a
    // new stream in its place.
    s.gzip.destroy();
    const next = waiting.get(level)?.shift();
    if (next) next(open(level));
    else made.set(level, (made.get(level) ?? 1) - 1);
    throw e;
  }
  const out = s.pieces.length === 1 ? s.pieces[0] : Buffer.concat(s.pieces);
  s.pieces = [];
  // The member is finished; the stream starts the next one with its state reset, not rebuilt.
  s.gzip.reset();
  give(level, s);
  return out;
}
