// Writes a block of voxels into one scale of a precomputed volume: each whole chunk as its own
// object (unsharded) or each whole shard as one file (sharded). Chunks below the non-zero
// threshold are not written at all, and reported. The info is written separately, and last.
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import { FerryError } from '../../errors.ts';
import { copyRegion, hasNonzeroFraction } from './block.ts';
import { allocateVoxels } from './dtype.ts';
import type { VoxelArray } from './dtype.ts';
import { encodeChunk } from './encoding.ts';
import { boxShape, boxVoxels, checkChunkAligned, chunkKey, chunksIn, formatBox, gridShape } from './grid.ts';
import type { Box, GridChunk, Vec3 } from './grid.ts';
import { findScale, serializeInfo } from './info.ts';
import type { Info, Scale } from './info.ts';
import { chunkFormat } from './reader.ts';
import { encodeShard } from './shard-file.ts';
import type { ShardChunk } from './shard-file.ts';
import { compressedMortonCode, shardBlockLevel, shardBox, shardFileName, shardLocation } from './sharding.ts';
import type { VolumeStore } from './store.ts';

const gzipAsync = promisify(gzip);

export interface WriteBlockOptions {
  /**
   * Unsharded raw chunks: gzip each one and store it with Content-Encoding: gzip under its plain
   * name (object stores). Leave off for a folder a plain static server will serve. png and jpeg
   * chunks are already compressed and are never gzipped.
   */
  contentEncodingGzip?: boolean;
  /** gzip level for Content-Encoding and for a shard's gzip encodings (default 6). */
  gzipLevel?: number;
  /** Chunks whose fraction of non-zero voxels is below this are not written (default 0: none). */
  nonzeroThreshold?: number;
  /** Objects written at once (default 8). */
  concurrency?: number;
}

export interface WriteBlockResult {
  /** Keys written, with the bytes each one holds. */
  written: { key: string; size: number }[];
  /** Chunk names (`<scale>/x0-x1_y0-y1_z0-z1`) left out for being below the threshold. */
  skipped: string[];
}

/** Writes the info file, uncached so viewers see the finished volume as soon as it is complete. */
export async function writeInfo(store: VolumeStore, info: Info): Promise<void> {
  await store.write('info', serializeInfo(info), { contentType: 'application/json', cacheControl: 'no-cache' });
}

/**
 * Writes `data` (the voxels of `box` in scale `scaleKey`, x fastest, channel slowest) as whole
 * chunks, or as whole shards for a sharded scale. Re-running with the same data rewrites the
 * same objects with the same bytes, so a task that crashed half-way is finished by a re-run.
 */
export async function writeBlock(
  store: VolumeStore,
  info: Info,
  scaleKey: string,
  box: Box,
  data: VoxelArray,
  opts: WriteBlockOptions = {},
): Promise<WriteBlockResult> {
  const scale = findScale(info, scaleKey);
  if (data.length !== boxVoxels(box) * info.num_channels) {
    throw new FerryError(`block ${formatBox(box)} needs ${boxVoxels(box) * info.num_channels} voxels, got ${data.length}`);
  }
  checkChunkAligned(scale, box);
  const result: WriteBlockResult = { written: [], skipped: [] };
  // Encoding goes on while earlier objects upload, with a bounded number in flight.
  const inFlight = new Set<Promise<void>>();
  const limit = opts.concurrency ?? 8;
  // Each job compresses (on libuv's thread pool, so on several cores) and then uploads. The
  // first failure is kept and thrown once the jobs already started have ended.
  let failure: { error: unknown } | undefined;
  const put = async (key: string, makeBody: () => Promise<Buffer>, contentEncoding?: string) => {
    while (inFlight.size >= limit && !failure) await Promise.race(inFlight);
    if (failure) throw failure.error;
    const job: Promise<void> = makeBody()
      .then(async (body) => {
        await store.write(key, body, contentEncoding ? { contentEncoding } : {});
        result.written.push({ key, size: body.byteLength });
      })
      .catch((error: unknown) => {
        failure ??= { error };
      })
      .finally(() => inFlight.delete(job));
    inFlight.add(job);
  };
  const level = opts.gzipLevel ?? 6;
  try {
    if (scale.sharding) {
      const spec = scale.sharding;
      for (const shard of shardsOf(scale, box)) {
        const chunks: ShardChunk[] = [];
        for (const chunk of shard.chunks) {
          const encoded = await encodeIfWanted(info, scale, chunk, box, data, opts, result);
          if (encoded) chunks.push({ id: compressedMortonCode(chunk.g, gridShape(scale)), data: encoded });
        }
        if (chunks.length > 0) await put(`${scale.key}/${shard.file}`, () => encodeShard(spec, chunks, { gzipLevel: level }));
      }
    } else {
      for (const chunk of chunksIn(scale, box)) {
        const encoded = await encodeIfWanted(info, scale, chunk, box, data, opts, result);
        if (!encoded) continue;
        const key = chunkKey(scale, chunk.box);
        if (opts.contentEncodingGzip && scale.encoding === 'raw') await put(key, () => gzipAsync(encoded, { level }), 'gzip');
        else await put(key, async () => encoded);
      }
    }
  } finally {
    // Jobs never reject (they record the failure), so this only waits for them to end.
    await Promise.all(inFlight);
  }
  if (failure) throw failure.error;
  result.written.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return result;
}

async function encodeIfWanted(
  info: Info,
  scale: Scale,
  chunk: GridChunk,
  box: Box,
  data: VoxelArray,
  opts: WriteBlockOptions,
  result: WriteBlockResult,
): Promise<Buffer | undefined> {
  const shape = boxShape(chunk.box);
  const voxels = allocateVoxels(info.data_type, shape[0] * shape[1] * shape[2] * info.num_channels);
  copyRegion(data, box, voxels, chunk.box, chunk.box, info.num_channels);
  const threshold = opts.nonzeroThreshold ?? 0;
  if (threshold > 0 && !hasNonzeroFraction(voxels, threshold)) {
    result.skipped.push(chunkKey(scale, chunk.box));
    return undefined;
  }
  return encodeChunk(chunkFormat(info, scale), shape, voxels);
}

/** The shards `box` covers, each with its chunks; every one must lie wholly inside `box`. */
function shardsOf(scale: Scale, box: Box): { file: string; chunks: GridChunk[] }[] {
  const spec = scale.sharding!;
  const grid = gridShape(scale);
  const byShard = new Map<bigint, GridChunk[]>();
  for (const chunk of chunksIn(scale, box)) {
    const { shard } = shardLocation(spec, compressedMortonCode(chunk.g, grid));
    const list = byShard.get(shard);
    if (list) list.push(chunk);
    else byShard.set(shard, [chunk]);
  }
  // A shard cannot be patched: a block that holds only part of one would drop the rest.
  for (const [shard, chunks] of byShard) {
    const all = countChunksOfShard(scale, shard, grid);
    if (all !== chunks.length) {
      throw new FerryError(
        `block ${formatBox(box)} holds ${chunks.length} of the ${all} chunks of shard ${shardFileName(spec, shard)} in scale ${scale.key}`,
        { hint: 'give each task whole shards: plan task boxes with shardBoxes() from a rectangular sharding spec' },
      );
    }
  }
  return [...byShard].map(([shard, chunks]) => ({ file: shardFileName(spec, shard), chunks }));
}

const shardCounts = new WeakMap<Scale, Map<bigint, number>>();

function countChunksOfShard(scale: Scale, shard: bigint, grid: Vec3): number {
  if (shardBlockLevel(scale, scale.sharding!) !== undefined) {
    return [...chunksIn(scale, shardBox(scale, scale.sharding!, shard))].length;
  }
  // Hashed shards are scattered: count them once per scale.
  let counts = shardCounts.get(scale);
  if (!counts) {
    counts = new Map();
    for (const chunk of chunksIn(scale)) {
      const s = shardLocation(scale.sharding!, compressedMortonCode(chunk.g, grid)).shard;
      counts.set(s, (counts.get(s) ?? 0) + 1);
    }
    shardCounts.set(scale, counts);
  }
  return counts.get(shard) ?? 0;
}
