// Reads a box of voxels from one scale of a precomputed volume, unsharded or sharded, through a
// Store. Chunks that do not exist read as zeros, as in Neuroglancer and TensorStore.
import { gunzipSync } from 'node:zlib';
import { boxShape, boxVoxels, intersectBoxes } from '../../arrays/box.ts';
import type { Box, Vec3 } from '../../arrays/box.ts';
import { copyRegion } from '../../arrays/copy.ts';
import { allocateVoxels, bytesPerVoxel } from '../../arrays/voxels.ts';
import type { VoxelArray } from '../../arrays/voxels.ts';
import { FerryError } from '../../errors.ts';
import { decodeChunk } from './encoding.ts';
import type { ChunkFormat } from './encoding.ts';
import { chunkKey, chunksIn, gridShape } from './grid.ts';
import type { GridChunk } from './grid.ts';
import { findScale, parseInfoBytes } from './info.ts';
import type { Info, Scale } from './info.ts';
import { decodeShardChunkData, readMinishardIndex } from './shard-file.ts';
import type { MinishardEntry } from './shard-file.ts';
import { compressedMortonCode, shardFileName, shardLocation } from './sharding.ts';
import type { VolumeStore } from './store.ts';

export async function readInfo(store: VolumeStore): Promise<Info> {
  const bytes = await store.readIfExists('info');
  if (!bytes) {
    throw new FerryError(`no precomputed volume at ${store.url}: there is no info file`, {
      hint: 'check the path; a volume whose info is missing was never finished',
    });
  }
  return parseInfoBytes(bytes, `${store.url}info`);
}

export function chunkFormat(info: Info, scale: Scale): ChunkFormat {
  return {
    encoding: scale.encoding,
    dataType: info.data_type,
    numChannels: info.num_channels,
    jpegQuality: scale.jpeg_quality,
    pngLevel: scale.png_level,
  };
}

const isGzip = (b: Uint8Array) => b.byteLength >= 2 && b[0] === 0x1f && b[1] === 0x8b;

/**
 * Reads `box` (absolute voxel coordinates of the scale) into an array of its shape times the
 * channels, x fastest then y, z, channel. Voxels outside the volume read as zero.
 */
export async function readBox(store: VolumeStore, info: Info, scaleKey: string, box: Box, opts: ReadOptions = {}): Promise<VoxelArray> {
  const scale = findScale(info, scaleKey);
  const format = chunkFormat(info, scale);
  const out = allocateVoxels(info.data_type, boxVoxels(box) * info.num_channels);
  const shards = scale.sharding ? new ShardedSource(store, scale) : undefined;
  const grid = gridShape(scale);
  const readChunk = async (chunk: GridChunk) => {
    const key = chunkKey(scale, chunk.box);
    const shape = boxShape(chunk.box);
    let bytes: Uint8Array | undefined;
    if (shards) {
      bytes = await shards.chunk(compressedMortonCode(chunk.g, grid), key);
    } else {
      bytes = await store.readIfExists(key);
      // A store that hands back the stored bytes of a Content-Encoding: gzip object.
      if (bytes && format.encoding === 'raw' && isGzip(bytes) && bytes.byteLength !== rawLength(format, shape)) {
        bytes = gunzipSync(bytes);
      }
    }
    if (!bytes) return;
    const voxels = await decodeChunk(format, shape, bytes, key);
    const region = intersectBoxes(chunk.box, box);
    if (region) copyRegion(voxels, chunk.box, out, box, region, info.num_channels);
  };
  // Chunks are independent requests: keep several in flight, as a viewer does.
  const chunks = chunksIn(scale, box);
  let failed = false;
  const worker = async () => {
    try {
      for (let next = chunks.next(); !next.done && !failed; next = chunks.next()) await readChunk(next.value);
    } catch (e) {
      failed = true; // the other workers stop at their next chunk
      throw e;
    }
  };
  await Promise.all(Array.from({ length: opts.concurrency ?? 16 }, worker));
  return out;
}

export interface ReadOptions {
  /** Chunk reads in flight at once (default 16). */
  concurrency?: number;
}

function rawLength(f: ChunkFormat, shape: Vec3): number {
  return shape[0] * shape[1] * shape[2] * f.numChannels * bytesPerVoxel(f.dataType);
}

/** Chunk lookups in one sharded scale, keeping each minishard index read once. */
class ShardedSource {
  private readonly store: VolumeStore;
  private readonly scale: Scale;
  private readonly minishards = new Map<string, Promise<MinishardEntry[]>>();

  constructor(store: VolumeStore, scale: Scale) {
    this.store = store;
    this.scale = scale;
  }

  async chunk(id: bigint, where: string): Promise<Uint8Array | undefined> {
    const spec = this.scale.sharding!;
    const { shard, minishard } = shardLocation(spec, id);
    const file = `${this.scale.key}/${shardFileName(spec, shard)}`;
    const read = (start: number, end: number) => this.store.readIfExists(file, { start, end });
    const cacheKey = `${file}#${minishard}`;
    let index = this.minishards.get(cacheKey);
    if (!index) {
      index = readMinishardIndex(spec, read, minishard);
      this.minishards.set(cacheKey, index);
    }
    const entry = (await index).find((e) => e.id === id);
    if (!entry) return undefined;
    const stored = await read(entry.start, entry.end);
    if (!stored || stored.byteLength !== entry.end - entry.start) {
      throw new FerryError(`shard ${file} is shorter than its index says (chunk ${where})`, { hint: 'rewrite the shard' });
    }
    return decodeShardChunkData(spec, stored);
  }
}
