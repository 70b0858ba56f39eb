// Writes one scale's block as its voxels arrive, a slab at a time. Each chunk is cut out into a
// reused buffer, encoded, and compressed on libuv's thread pool; then it is written on its own
// (unsharded), or kept until every chunk of its shard is in, when the shard is laid out, joined
// into a reused buffer and written as one file (sharded). A task so holds the slab in hand and
// its compressed shards, never its whole block uncompressed.
import { boxShape, boxVoxels, formatBox } from '../../arrays/box.ts';
import type { Box, Vec3 } from '../../arrays/box.ts';
import { copyRegionsAlongX } from '../../arrays/copy.ts';
import { allocateVoxels, bytesOfVoxels, hasNonzeroFraction } from '../../arrays/voxels.ts';
import type { VoxelArray } from '../../arrays/voxels.ts';
import { FerryError } from '../../errors.ts';
import { takeBuffer } from './buffer-pool.ts';
import { encodeChunk } from './encoding.ts';
import type { ChunkFormat } from './encoding.ts';
import { checkChunkAligned, chunkKey, chunkShape, chunksIn, gridShape } from './grid.ts';
import type { GridChunk } from './grid.ts';
import { defaultGzipLevel, gzipChunk } from '../../codecs/gzip.ts';
import { findScale } from './info.ts';
import type { Info, Scale } from './info.ts';
import { chunkFormat } from './reader.ts';
import { layoutShard } from './shard-file.ts';
import type { ShardChunk } from './shard-file.ts';
import { compressedMortonCode, shardBlockLevel, shardBox, shardFileName, shardLocation } from './sharding.ts';
import type { VolumeStore } from './store.ts';

export interface WriteBlockOptions {
  /**
   * Unsharded raw chunks: gzip each one and store it with Content-Encoding: gzip under its plain
   * name (object stores). Leave off for a folder a plain static server will serve. png and jpeg
   * chunks are already compressed and are never gzipped.
   */
  contentEncodingGzip?: boolean;
  /** gzip level of the chunks, for Content-Encoding or a shard's gzip data_encoding (default: defaultGzipLevel). */
  gzipLevel?: number;
  /** Chunks whose fraction of non-zero voxels is below this are not written (default 0: none). */
  nonzeroThreshold?: number;
  /** Chunks being encoded or written at once (default 8). */
  concurrency?: number;
}

export interface WriteBlockResult {
  /** Keys written, with the bytes each one holds. */
  written: { key: string; size: number }[];
  /** Chunk names (`<scale>/x0-x1_y0-y1_z0-z1`) left out for being below the threshold. */
  skipped: string[];
}

export interface BlockWriter {
  /**
   * Writes the chunks of `region` (whole chunks of the block, not added before) from `data`, the
   * voxels of `dataBox`. Resolves once `data` is no longer needed; writing goes on after that.
   */
  add(dataBox: Box, data: VoxelArray, region: Box): Promise<void>;
  /** Waits for every write; throws the first failure, or if part of the block never came. */
  finish(): Promise<WriteBlockResult>;
  /** Starts nothing more and waits for what was started to settle (after a failure elsewhere). */
  abort(): Promise<void>;
}

/** Shards joined and written at once by one writer: two overlap one's flush with the other's copy. */
const SHARD_WRITES = 2;

interface ShardState {
  file: string;
  /** Chunks of the shard inside the volume. */
  expected: number;
  /** Encoded (and data-encoded) chunks so far. */
  chunks: ShardChunk[];
  /** Chunks encoded or skipped so far. */
  settled: number;
}

/**
 * A writer for `box` of scale `scaleKey` (whole chunks; for a sharded scale, whole shards, since
 * a shard cannot be patched). Nothing is written before chunks are added.
 */
export function openBlockWriter(store: VolumeStore, info: Info, scaleKey: string, box: Box, opts: WriteBlockOptions = {}): BlockWriter {
  const scale = findScale(info, scaleKey);
  checkChunkAligned(scale, box);
  return new ChunkPipeline(store, info, scale, box, opts);
}

class ChunkPipeline implements BlockWriter {
  private readonly store: VolumeStore;
  private readonly scale: Scale;
  private readonly box: Box;
  private readonly format: ChunkFormat;
  private readonly channels: number;
  private readonly level: number;
  private readonly threshold: number;
  private readonly limit: number;
  /** Chunks cut out together: half the limit, so the other half is still being compressed. */
  private readonly run: number;
  /** Whether each chunk is gzipped: a shard's gzip data_encoding, or Content-Encoding. */
  private readonly gzip: boolean;
  private readonly contentEncoding: string | undefined;
  private readonly chunkVoxels: number;
  private readonly grid: Vec3;
  private readonly shards: Map<bigint, ShardState> | undefined;
  private readonly dataType: Info['data_type'];
  /** Chunk buffers free for reuse; at most `limit` are ever made. */
  private readonly free: VoxelArray[] = [];
  /** Chunks being encoded or written (unsharded), at most `limit`. */
  private readonly jobs = new Set<Promise<void>>();
  /** Whole shards waiting or being written, SHARD_WRITES at a time. */
  private readonly writes = new Set<Promise<void>>();
  private shardsWriting = 0;
  private readonly shardTurns: (() => void)[] = [];
  private readonly result: WriteBlockResult = { written: [], skipped: [] };
  private failure: { error: unknown } | undefined;
  private added = 0;
  private readonly total: number;

  constructor(store: VolumeStore, info: Info, scale: Scale, box: Box, opts: WriteBlockOptions) {
    this.store = store;
    this.scale = scale;
    this.box = box;
    this.format = chunkFormat(info, scale);
    this.dataType = info.data_type;
    this.channels = info.num_channels;
    this.level = opts.gzipLevel ?? defaultGzipLevel(info.type);
    this.threshold = opts.nonzeroThreshold ?? 0;
    this.limit = Math.max(1, opts.concurrency ?? 8);
    this.run = Math.max(1, this.limit >> 1);
    const c = chunkShape(scale);
    this.chunkVoxels = c[0] * c[1] * c[2] * info.num_channels;
    this.grid = gridShape(scale);
    this.shards = scale.sharding ? shardStates(scale, box, this.grid) : undefined;
    const raw = scale.encoding === 'raw';
    this.gzip = scale.sharding ? scale.sharding.data_encoding === 'gzip' : raw && !!opts.contentEncodingGzip;
    this.contentEncoding = !scale.sharding && this.gzip ? 'gzip' : undefined;
    this.total = countChunks(scale, box);
  }

  async add(dataBox: Box, data: VoxelArray, region: Box): Promise<void> {
    if (data.length !== boxVoxels(dataBox) * this.channels) {
      throw new FerryError(`block ${formatBox(dataBox)} needs ${boxVoxels(dataBox) * this.channels} voxels, got ${data.length}`);
    }
    checkChunkAligned(this.scale, region);
    for (let d = 0; d < 3; d++) {
      if (region.start[d] < dataBox.start[d] || region.end[d] > dataBox.end[d] || region.start[d] < this.box.start[d] || region.end[d] > this.box.end[d]) {
        throw new FerryError(`region ${formatBox(region)} is not inside both the data ${formatBox(dataBox)} and the block ${formatBox(this.box)}`);
      }
    }
    const chunks = this.order([...chunksIn(this.scale, region)]);
    for (let i = 0; i < chunks.length; ) {
      // A run of chunks side by side along x is cut out in one pass over their rows.
      let j = i + 1;
      while (j < chunks.length && j - i < this.run && chunks[j].g[1] === chunks[i].g[1] && chunks[j].g[2] === chunks[i].g[2]) j++;
      const run = chunks.slice(i, j);
      i = j;
      // Waiting for room is also what lets finished compressions hand back their buffers.
      while (this.jobs.size > 0 && this.jobs.size + run.length > this.limit && !this.failure) await Promise.race(this.jobs);
      if (this.failure) throw this.failure.error;
      const cuts = run.map((chunk) => {
        const buffer = this.free.pop() ?? allocateVoxels(this.dataType, this.chunkVoxels);
        const shape = boxShape(chunk.box);
        return { chunk, shape, buffer, box: chunk.box, dst: buffer.subarray(0, shape[0] * shape[1] * shape[2] * this.channels) as VoxelArray };
      });
      copyRegionsAlongX(data, dataBox, cuts, this.channels);
      for (const { chunk, shape, buffer, dst: voxels } of cuts) {
        this.added++;
        if (this.threshold > 0 && !hasNonzeroFraction(voxels, this.threshold)) {
          this.free.push(buffer);
          this.result.skipped.push(chunkKey(this.scale, chunk.box));
          if (this.shards) this.settle(this.shardOf(chunk).state, undefined);
          continue;
        }
        const job: Promise<void> = this.encode(chunk, shape, buffer, voxels)
          .catch((error: unknown) => {
            this.failure ??= { error };
          })
          .finally(() => this.jobs.delete(job));
        this.jobs.add(job);
      }
    }
  }

  /**
   * Chunks of a sharded scale go shard by shard (row by row within each): the slab that
   * completes several shards then finishes the first while the others are still being
   * compressed, and its write overlaps their work instead of all waiting for the end.
   */
  private order(chunks: GridChunk[]): GridChunk[] {
    if (!this.shards) return chunks;
    const rank = new Map([...this.shards.keys()].map((shard, i) => [shard, i]));
    const spec = this.scale.sharding!;
    const keyed = chunks.map((chunk, i) => ({ chunk, i, r: rank.get(shardLocation(spec, compressedMortonCode(chunk.g, this.grid)).shard)! }));
    keyed.sort((a, b) => a.r - b.r || a.i - b.i);
    return keyed.map((k) => k.chunk);
  }

  private async encode(chunk: GridChunk, shape: Vec3, buffer: VoxelArray, voxels: VoxelArray): Promise<void> {
    // The buffer goes back to the pool as soon as no body refers to it any more.
    let held = true;
    const release = () => {
      if (held) this.free.push(buffer);
      held = false;
    };
    try {
      let body = this.format.encoding === 'raw' ? bytesOfVoxels(voxels) : await encodeChunk(this.format, shape, voxels);
      if (body.buffer !== buffer.buffer) release();
      if (this.gzip) {
        body = await gzipChunk(body, this.level);
        release();
      }
      if (this.shards) {
        const { id, state } = this.shardOf(chunk);
        // A kept chunk must own its bytes, not share the reused chunk buffer.
        if (held) body = Buffer.from(body);
        release();
        this.settle(state, { id, data: body });
      } else {
        const key = chunkKey(this.scale, chunk.box);
        await this.store.write(key, body, this.contentEncoding ? { contentEncoding: this.contentEncoding } : {});
        this.result.written.push({ key, size: body.byteLength });
      }
    } finally {
      release();
    }
  }

  private shardOf(chunk: GridChunk): { id: bigint; state: ShardState } {
    const id = compressedMortonCode(chunk.g, this.grid);
    return { id, state: this.shards!.get(shardLocation(this.scale.sharding!, id).shard)! };
  }

  /** Counts one chunk of a shard as done (kept, or skipped) and writes the shard once all are. */
  private settle(state: ShardState, chunk: ShardChunk | undefined): void {
    if (chunk) state.chunks.push(chunk);
    if (++state.settled < state.expected || state.chunks.length === 0 || this.failure) return;
    const chunks = state.chunks;
    state.chunks = [];
    const job: Promise<void> = this.writeShard(state.file, chunks)
      .catch((error: unknown) => {
        this.failure ??= { error };
      })
      .finally(() => this.writes.delete(job));
    this.writes.add(job);
  }

  private async writeShard(file: string, chunks: ShardChunk[]): Promise<void> {
    // A few shards at a time: each is joined into a buffer of its size, so all at once could
    // double the memory the compressed chunks already take.
    while (this.shardsWriting >= SHARD_WRITES) await new Promise<void>((resolve) => this.shardTurns.push(resolve));
    this.shardsWriting++;
    try {
      await this.joinAndWrite(file, chunks);
    } finally {
      this.shardsWriting--;
      this.shardTurns.shift()?.();
    }
  }

  private async joinAndWrite(file: string, chunks: ShardChunk[]): Promise<void> {
    if (this.failure) return;
    const layout = layoutShard(this.scale.sharding!, chunks);
    chunks.length = 0;
    const buffer = takeBuffer(layout.size);
    try {
      let at = 0;
      for (const part of layout.parts) {
        buffer.bytes.set(part, at);
        at += part.byteLength;
      }
      layout.parts.length = 0;
      const key = `${this.scale.key}/${file}`;
      // An object store sends a large buffer in parallel parts, each a view of it; a file takes it
      // in one write.
      await this.store.write(key, Buffer.from(buffer.bytes.buffer, buffer.bytes.byteOffset, layout.size));
      this.result.written.push({ key, size: layout.size });
    } finally {
      buffer.release();
    }
  }

  private async settleAll(): Promise<void> {
    // Jobs never reject (they record the failure), and a finishing job may start a shard write.
    while (this.jobs.size > 0 || this.writes.size > 0) await Promise.all([...this.jobs, ...this.writes]);
  }

  async finish(): Promise<WriteBlockResult> {
    await this.settleAll();
    if (this.failure) throw this.failure.error;
    if (this.added !== this.total) {
      throw new FerryError(`block ${formatBox(this.box)} of scale ${this.scale.key}: ${this.total - this.added} of its ${this.total} chunks were never added`);
    }
    this.result.written.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    return this.result;
  }

  async abort(): Promise<void> {
    this.failure ??= { error: new FerryError('the block was abandoned') };
    await this.settleAll();
  }
}

function countChunks(scale: Scale, box: Box): number {
  const c = chunkShape(scale);
  const vol = boxShape(box);
  return vol.reduce((n, v, d) => n * Math.ceil(v / c[d]), 1);
}

/** The shards `box` covers, each wholly inside it, keyed by shard number. */
function shardStates(scale: Scale, box: Box, grid: Vec3): Map<bigint, ShardState> {
  const spec = scale.sharding!;
  const counts = new Map<bigint, number>();
  for (const chunk of chunksIn(scale, box)) {
    const { shard } = shardLocation(spec, compressedMortonCode(chunk.g, grid));
    counts.set(shard, (counts.get(shard) ?? 0) + 1);
  }
  // A shard cannot be patched: a block that holds only part of one would drop the rest.
  const out = new Map<bigint, ShardState>();
  for (const [shard, n] of counts) {
    const all = countChunksOfShard(scale, shard, grid);
    if (all !== n) {
      throw new FerryError(`block ${formatBox(box)} holds ${n} of the ${all} chunks of shard ${shardFileName(spec, shard)} in scale ${scale.key}`, {
        hint: 'give each task whole shards: plan task boxes with shardBoxes() from a rectangular sharding spec',
      });
    }
    out.set(shard, { file: shardFileName(spec, shard), expected: n, chunks: [], settled: 0 });
  }
  return out;
}

const shardCounts = new WeakMap<Scale, Map<bigint, number>>();

function countChunksOfShard(scale: Scale, shard: bigint, grid: Vec3): number {
  if (shardBlockLevel(scale, scale.sharding!) !== undefined) return countChunks(scale, shardBox(scale, scale.sharding!, shard));
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
