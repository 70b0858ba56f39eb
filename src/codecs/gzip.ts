// gzip of one chunk at a time, each as a single job on libuv's thread pool, by one of two engines:
// libdeflate (native/libdeflate, when it is built here: 1.6x zlib's speed at the same level, and
// 2.6-3.2x at the level Ferry uses for images) or else Node's zlib. Both write standard gzip members.
//
// Each engine keeps a few compressors open between chunks, and each compressor writes its results
// into the free end of one large output buffer: chunks come back as views of it, packed, and a new
// buffer is needed only every few MiB. An output buffer per chunk, or (zlib) a new stream per chunk
// with its ~300 KiB of deflate state, is memory reported to V8 as external, which V8 counts toward
// its next full collection: a task's small heap then collects every few dozen chunks. zlib's
// default 16 KiB output buffer would also send each chunk back to the main thread a dozen times
// mid-compression; here Z_FINISH goes with the data, so a chunk is one job.
import { availableParallelism } from 'node:os';
import { constants, createGzip } from 'node:zlib';
import type { Gzip, ZlibReset } from 'node:zlib';
import { loadLibdeflate } from './deflate-native.ts';
import type { Libdeflate } from './deflate-native.ts';

/** Output buffer of each compressor: room for a dozen compressed 256 KiB chunks. */
const OUTPUT_BYTES = 4 << 20;

/**
 * libdeflate's level for image chunks: the fastest whose output stays within 5% of zlib level 6.
 * `npm run bench -- deflate` on 64^3 uint8 EM-like chunks (2026-12-06): level 1 writes +1.3%
 * (noise of 25 grey levels) and +1.6% (noise of 5) against zlib -6, at 2.6x and 3.2x zlib -6's
 * speed; level 2 writes 0.0% and -2.1% at 1.8x and 2.5x. Only on chunks with almost no noise
 * (under 2 grey levels, far cleaner than EM) does level 1 fall behind by more than 5%.
 */
const LIBDEFLATE_IMAGE_LEVEL = 1;

/**
 * libdeflate's level for segmentation chunks: labels are long runs of a few values, where libdeflate's
 * faster levels find far fewer matches than zlib's. On uint32 and uint64 label chunks (the same
 * bench's segmentation table) level 7 is the first within 5% of zlib -6 (-5.9%, +0.3%; level 6
 * +4.6% and +18%, level 1 +58% and +70%), at about zlib -6's speed.
 */
const LIBDEFLATE_SEGMENTATION_LEVEL = 7;

/** zlib's default level, Ferry's level when it gzips with Node's zlib. */
const ZLIB_LEVEL = 6;

/** Gzips one chunk at a time and is kept between chunks. */
interface Compressor {
  gzip(data: Uint8Array): Promise<Buffer>;
  /** Set by a failure that leaves its state unknown: it is not used again. */
  broken: boolean;
}

function zlibCompressor(level: number): Compressor {
  // Node resets any deflate stream, gzip's too (deflateReset); @types/node lists it for Deflate only.
  const stream = createGzip({ level, chunkSize: OUTPUT_BYTES, flush: constants.Z_FINISH }) as Gzip & ZlibReset;
  let pieces: Buffer[] = [];
  stream.on('data', (b: Buffer) => pieces.push(b));
  const c: Compressor = {
    broken: false,
    async gzip(data) {
      try {
        await new Promise<void>((resolve, reject) => {
          const fail = (e: Error) => reject(e);
          stream.once('error', fail);
          stream.write(data, (e) => {
            stream.off('error', fail);
            if (e) reject(e);
            else resolve();
          });
        });
      } catch (e) {
        c.broken = true;
        stream.destroy();
        throw e;
      }
      const out = pieces.length === 1 ? pieces[0] : Buffer.concat(pieces);
      pieces = [];
      // The member is finished; the stream starts the next one with its state reset, not rebuilt.
      stream.reset();
      return out;
    },
  };
  return c;
}

function libdeflateCompressor(addon: Libdeflate, level: number): Compressor {
  let out = Buffer.alloc(0);
  let used = 0;
  return {
    broken: false,
    async gzip(data) {
      const bound = addon.gzipBound(data.byteLength);
      if (out.length - used < bound) {
        out = Buffer.allocUnsafe(Math.max(OUTPUT_BYTES, bound));
        used = 0;
      }
      const buffer = out;
      const at = used;
      const size = await addon.gzip(data, level, buffer.subarray(at, at + bound));
      used = at + size;
      return buffer.subarray(at, at + size);
    },
  };
}

/** A volume's kind, as a precomputed info names it. */
export type VolumeKind = 'image' | 'segmentation';

export interface GzipEngine {
  readonly name: 'libdeflate' | 'zlib';
  /** The gzip member of `data` at the engine's `level`; a view of a shared output buffer, so do not write to it. */
  gzipChunk(data: Uint8Array, level: number): Promise<Buffer>;
  /** The level chunks of a `kind` volume are gzipped at unless one is asked for. */
  defaultLevel(kind: VolumeKind): number;
}

/**
 * Compressors per level: enough that every core has chunks queued behind the one it compresses,
 * also while section decodes take turns on the same threads and the main thread is busy cutting.
 */
const MAX_COMPRESSORS = Math.min(64, availableParallelism() * 4);

/** gzip by libdeflate when `addon` is given, else by Node's zlib. */
export function gzipEngine(addon: Libdeflate | undefined): GzipEngine {
  const open = (level: number) => (addon ? libdeflateCompressor(addon, level) : zlibCompressor(level));
  const idle = new Map<number, Compressor[]>();
  const waiting = new Map<number, ((c: Compressor) => void)[]>();
  const made = new Map<number, number>();

  async function take(level: number): Promise<Compressor> {
    const free = idle.get(level);
    if (free?.length) return free.pop()!;
    if ((made.get(level) ?? 0) < MAX_COMPRESSORS) {
      const c = open(level);
      made.set(level, (made.get(level) ?? 0) + 1);
      return c;
    }
    return new Promise((resolve) => {
      const queue = waiting.get(level) ?? [];
      queue.push(resolve);
      waiting.set(level, queue);
    });
  }

  function give(level: number, c: Compressor): void {
    const next = waiting.get(level)?.shift();
    if (next) return next(c);
    const free = idle.get(level) ?? [];
    free.push(c);
    idle.set(level, free);
  }

  /** A broken compressor's place goes to a new one, handed to a caller waiting for one. */
  function replace(level: number): void {
    const next = waiting.get(level)?.shift();
    if (next) next(open(level));
    else made.set(level, (made.get(level) ?? 1) - 1);
  }

  return {
    name: addon ? 'libdeflate' : 'zlib',
    async gzipChunk(data, level) {
      const c = await take(level);
      try {
        return await c.gzip(data);
      } finally {
        if (c.broken) replace(level);
        else give(level, c);
      }
    },
    defaultLevel: (kind) => (!addon ? ZLIB_LEVEL : kind === 'segmentation' ? LIBDEFLATE_SEGMENTATION_LEVEL : LIBDEFLATE_IMAGE_LEVEL),
  };
}

/** Ferry's gzip engine: libdeflate when native/libdeflate is built, else Node's zlib. */
const engine = gzipEngine(loadLibdeflate());

/** Which engine writes Ferry's gzip here. */
export const GZIP_ENGINE = engine.name;

/** The gzip member of `data` at `level`; a view of a shared output buffer, so do not write to it. */
export function gzipChunk(data: Uint8Array, level: number): Promise<Buffer> {
  return engine.gzipChunk(data, level);
}

/** The level Ferry gzips a `kind` volume's chunks at, unless told: by engine, measured above. */
export function defaultGzipLevel(kind: VolumeKind): number {
  return engine.defaultLevel(kind);
}
