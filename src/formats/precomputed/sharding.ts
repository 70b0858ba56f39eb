// Where a chunk lives in a sharded scale (neuroglancer_uint64_sharded_v1): its compressed Morton
// id, the hash, the shard and minishard it falls in, and the shard file's name. Also the spec
// chooser that makes every shard a rectangular block of chunks, so one task can own whole shards.
import type { Box, Vec3 } from '../../arrays/box.ts';
import { FerryError } from '../../errors.ts';
import { chunkBox, chunkShape, gridShape, scaleBox } from './grid.ts';
import type { ScaleGeometry } from './grid.ts';
import { SHARDING_TYPE } from './info.ts';
import type { ShardingSpec } from './info.ts';
import { murmurhash3Uint64 } from './murmurhash3.ts';

/** Bits per axis of the compressed Morton code: ceil(log2(grid)). */
export function mortonBits(grid: Vec3): Vec3 {
  return grid.map((n) => (n <= 1 ? 0 : Math.ceil(Math.log2(n)))) as Vec3;
}

/** Compressed Morton code: interleave x, y, z bits, skipping an axis once its bits run out. */
export function compressedMortonCode(g: Vec3, grid: Vec3): bigint {
  const bits = mortonBits(grid);
  const maxBits = Math.max(bits[0], bits[1], bits[2]);
  let id = 0n;
  let j = 0n;
  for (let i = 0; i < maxBits; i++) {
    for (let d = 0; d < 3; d++) {
      if (i < bits[d]) {
        id |= BigInt((g[d] >>> i) & 1) << j;
        j++;
      }
    }
  }
  return id;
}

/** Inverse of compressedMortonCode. */
export function decodeCompressedMorton(id: bigint, grid: Vec3): Vec3 {
  const bits = mortonBits(grid);
  const maxBits = Math.max(bits[0], bits[1], bits[2]);
  const g: Vec3 = [0, 0, 0];
  let j = 0n;
  for (let i = 0; i < maxBits; i++) {
    for (let d = 0; d < 3; d++) {
      if (i < bits[d]) {
        g[d] |= Number((id >> j) & 1n) << i;
        j++;
      }
    }
  }
  return g;
}

const lowMask = (bits: number) => (1n << BigInt(bits)) - 1n;

export function hashChunkId(spec: ShardingSpec, id: bigint): bigint {
  const input = id >> BigInt(spec.preshift_bits);
  return spec.hash === 'identity' ? input : murmurhash3Uint64(input);
}

export interface ShardLocation {
  shard: bigint;
  minishard: number;
}

export function shardLocation(spec: ShardingSpec, id: bigint): ShardLocation {
  const h = hashChunkId(spec, id);
  return {
    minishard: Number(h & lowMask(spec.minishard_bits)),
    shard: (h >> BigInt(spec.minishard_bits)) & lowMask(spec.shard_bits),
  };
}

/** `<hex shard number, zero-padded to ceil(shard_bits/4)>.shard` */
export function shardFileName(spec: ShardingSpec, shard: bigint): string {
  return `${shard.toString(16).padStart(Math.ceil(spec.shard_bits / 4), '0')}.shard`;
}

/** Bits of the Morton code that lie below level k: the chunks of one 2^k block per axis. */
function bitsBelowLevel(bits: Vec3, k: number): number {
  return Math.min(bits[0], k) + Math.min(bits[1], k) + Math.min(bits[2], k);
}

export interface ShardingChoice {
  /** Largest uncompressed bytes of one shard (default 1 GiB): a task holds its shard in memory. */
  targetShardBytes?: number;
  /** Bytes per voxel times channels. */
  voxelBytes: number;
  minishardIndexEncoding?: 'raw' | 'gzip';
  dataEncoding?: 'raw' | 'gzip';
}

/**
 * Chooses an identity-hash spec whose shards are blocks of 2^k chunks per axis (the recipe of
 * jbms in tensorstore#13): preshift + minishard bits = the Morton bits below level k, and shard
 * bits = the rest. Splits the in-shard bits like TensorStore (preshift up to 9, rest minishard).
 */
export function chooseShardingSpec(scale: ScaleGeometry, choice: ShardingChoice): ShardingSpec {
  const target = choice.targetShardBytes ?? 1024 ** 3;
  const c = chunkShape(scale);
  const chunkBytes = c[0] * c[1] * c[2] * choice.voxelBytes;
  const bits = mortonBits(gridShape(scale));
  const total = bits[0] + bits[1] + bits[2];
  const maxLevel = Math.max(bits[0], bits[1], bits[2]);
  let k = 0;
  while (k < maxLevel && 2 ** bitsBelowLevel(bits, k + 1) * chunkBytes <= target) k++;
  const within = bitsBelowLevel(bits, k);
  const preshift = Math.min(within, 9);
  return {
    '@type': SHARDING_TYPE,
    preshift_bits: preshift,
    hash: 'identity',
    minishard_bits: within - preshift,
    shard_bits: total - within,
    minishard_index_encoding: choice.minishardIndexEncoding ?? 'gzip',
    data_encoding: choice.dataEncoding ?? 'gzip',
  };
}

/**
 * The level k at which the spec's shards are 2^k-chunk blocks, or undefined when its shards are
 * not rectangular (a murmurhash spec, or in-shard bits that stop part-way through a level).
 */
export function shardBlockLevel(scale: ScaleGeometry, spec: ShardingSpec): number | undefined {
  if (spec.hash !== 'identity') return undefined;
  const bits = mortonBits(gridShape(scale));
  const within = spec.preshift_bits + spec.minishard_bits;
  const total = bits[0] + bits[1] + bits[2];
  if (within + spec.shard_bits < total) return undefined;
  const maxLevel = Math.max(bits[0], bits[1], bits[2]);
  for (let k = 0; k <= maxLevel; k++) {
    if (bitsBelowLevel(bits, k) === within) return k;
  }
  return undefined;
}

function rectangularLevel(scale: ScaleGeometry, spec: ShardingSpec): number {
  const k = shardBlockLevel(scale, spec);
  if (k === undefined) {
    throw new FerryError(`the sharding of scale ${scale.key} does not make shards rectangular blocks of chunks`, {
      hint: 'use a spec from chooseShardingSpec (identity hash, in-shard bits on a whole Morton level)',
    });
  }
  return k;
}

/** Voxels covered by shard `shard` of a spec with rectangular shards, clipped at the volume. */
export function shardBox(scale: ScaleGeometry, spec: ShardingSpec, shard: bigint): Box {
  const k = rectangularLevel(scale, spec);
  const grid = gridShape(scale);
  const within = BigInt(spec.preshift_bits + spec.minishard_bits);
  const g0 = decodeCompressedMorton(shard << within, grid);
  const side = 2 ** k;
  const last: Vec3 = [0, 0, 0];
  for (let d = 0; d < 3; d++) last[d] = Math.min(g0[d] + side, grid[d]) - 1;
  return { start: chunkBox(scale, g0).start, end: chunkBox(scale, last).end };
}

/** Every shard of the scale with its voxel box, for planning one task per shard (or group). */
export function* shardBoxes(scale: ScaleGeometry, spec: ShardingSpec): Generator<{ shard: bigint; box: Box }> {
  const k = rectangularLevel(scale, spec);
  const grid = gridShape(scale);
  const side = 2 ** k;
  const seen = new Set<bigint>();
  for (let z = 0; z < grid[2]; z += side) {
    for (let y = 0; y < grid[1]; y += side) {
      for (let x = 0; x < grid[0]; x += side) {
        const { shard } = shardLocation(spec, compressedMortonCode([x, y, z], grid));
        if (seen.has(shard)) continue;
        seen.add(shard);
        yield { shard, box: shardBox(scale, spec, shard) };
      }
    }
  }
}

/** The voxel shape of a full (unclipped) shard, for choosing task sizes. */
export function shardShape(scale: ScaleGeometry, spec: ShardingSpec): Vec3 {
  const k = rectangularLevel(scale, spec);
  const c = chunkShape(scale);
  const vol = scaleBox(scale);
  return c.map((v, d) => Math.min(v * 2 ** k, vol.end[d] - vol.start[d])) as Vec3;
}
