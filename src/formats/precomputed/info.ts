// The `info` file of a Neuroglancer precomputed volume: its schema, building one for a new
// volume, validating one read back, and adding downsampled scales with exact bounds.
import { z } from 'zod';
import type { Vec3 } from '../../arrays/box.ts';
import { DATA_TYPES } from '../../arrays/voxels.ts';
import { FerryError } from '../../errors.ts';

const intVec3 = z.tuple([z.number().int(), z.number().int(), z.number().int()]);
const positiveIntVec3 = z.tuple([z.number().int().min(1), z.number().int().min(1), z.number().int().min(1)]);
const positiveVec3 = z.tuple([z.number().positive(), z.number().positive(), z.number().positive()]);

export const SHARDING_TYPE = 'neuroglancer_uint64_sharded_v1';

export const ShardingSpecSchema = z.object({
  '@type': z.literal(SHARDING_TYPE),
  preshift_bits: z.number().int().min(0).max(64),
  hash: z.enum(['identity', 'murmurhash3_x86_128']),
  minishard_bits: z.number().int().min(0).max(32),
  shard_bits: z.number().int().min(0).max(64),
  minishard_index_encoding: z.enum(['raw', 'gzip']).default('raw'),
  data_encoding: z.enum(['raw', 'gzip']).default('raw'),
});
export type ShardingSpec = z.infer<typeof ShardingSpecSchema>;

export const ENCODINGS = ['raw', 'jpeg', 'png', 'compressed_segmentation', 'compresso', 'jxl'] as const;
export type Encoding = (typeof ENCODINGS)[number];

export const ScaleSchema = z.looseObject({
  key: z.string().min(1),
  size: positiveIntVec3,
  resolution: positiveVec3,
  voxel_offset: intVec3.default([0, 0, 0]),
  chunk_sizes: z.array(positiveIntVec3).min(1),
  encoding: z.enum(ENCODINGS),
  compressed_segmentation_block_size: positiveIntVec3.optional(),
  jpeg_quality: z.number().int().min(0).max(100).optional(),
  // A writer hint; TensorStore writes -1 for its default.
  png_level: z.number().int().min(-1).max(9).optional(),
  sharding: ShardingSpecSchema.optional(),
  hidden: z.boolean().optional(),
});
export type Scale = z.infer<typeof ScaleSchema>;

export const InfoSchema = z.looseObject({
  '@type': z.literal('neuroglancer_multiscale_volume').optional(),
  type: z.enum(['image', 'segmentation']),
  data_type: z.enum(DATA_TYPES),
  num_channels: z.number().int().min(1),
  scales: z.array(ScaleSchema).min(1),
  mesh: z.string().optional(),
  skeletons: z.string().optional(),
  segment_properties: z.string().optional(),
});
export type Info = z.infer<typeof InfoSchema>;

/**
 * Parses and checks an `info` document. `source` names where it came from for the message.
 * Checks what the schema cannot: rules that tie fields together, as Neuroglancer enforces them.
 */
export function parseInfo(json: unknown, source = 'info'): Info {
  const parsed = InfoSchema.safeParse(json);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.') || '(top)'}: ${i.message}`);
    throw new FerryError(`${source} is not a valid precomputed info: ${problems.slice(0, 5).join('; ')}`, {
      hint: 'see the Neuroglancer precomputed volume format (scales, size, resolution, chunk_sizes, encoding)',
    });
  }
  checkInfo(parsed.data, source);
  return parsed.data;
}

/** Parses the bytes of an `info` file. */
export function parseInfoBytes(bytes: Uint8Array, source = 'info'): Info {
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch (e) {
    throw new FerryError(`${source} is not JSON: ${(e as Error).message}`, { hint: 'an info file is a JSON object' });
  }
  return parseInfo(json, source);
}

export function serializeInfo(info: Info): Buffer {
  return Buffer.from(JSON.stringify(info, null, 2) + '\n');
}

function bad(source: string, what: string, hint: string): never {
  throw new FerryError(`${source}: ${what}`, { hint });
}

function checkInfo(info: Info, source: string): void {
  if (info.type === 'segmentation' && info.num_channels !== 1) {
    bad(source, `a segmentation has ${info.num_channels} channels`, 'segmentation volumes have exactly 1 channel');
  }
  const keys = new Set<string>();
  info.scales.forEach((s, i) => {
    const at = `scale ${i} (${s.key})`;
    if (keys.has(s.key)) bad(source, `${at} repeats the key of an earlier scale`, 'give every scale its own key');
    keys.add(s.key);
    if (i > 0) {
      const prev = info.scales[i - 1].resolution;
      if (s.resolution.some((r, d) => r < prev[d])) {
        bad(source, `${at} has a finer resolution than the scale before it`, 'list scales from finest to coarsest');
      }
    }
    if (s.sharding && s.chunk_sizes.length !== 1) {
      bad(source, `${at} is sharded but lists ${s.chunk_sizes.length} chunk sizes`, 'a sharded scale has exactly one chunk size');
    }
    if ((s.encoding === 'compressed_segmentation') !== (s.compressed_segmentation_block_size !== undefined)) {
      bad(source, `${at}: compressed_segmentation_block_size goes with, and only with, the compressed_segmentation encoding`, 'add or remove compressed_segmentation_block_size');
    }
    checkEncodingFits(info, s.encoding, `${source}: ${at}`);
  });
}

/** Throws when the encoding cannot hold this data type and channel count. */
export function checkEncodingFits(info: Pick<Info, 'data_type' | 'num_channels'>, encoding: Encoding, where: string): void {
  const { data_type: t, num_channels: c } = info;
  const fail = (why: string, hint: string) => {
    throw new FerryError(`${where}: ${why}`, { hint });
  };
  if (encoding === 'jpeg' && (t !== 'uint8' || (c !== 1 && c !== 3))) {
    fail(`jpeg holds uint8 with 1 or 3 channels, not ${t} with ${c}`, 'use the raw or png encoding');
  }
  if (encoding === 'png' && ((t !== 'uint8' && t !== 'uint16') || c > 4)) {
    fail(`png holds uint8 or uint16 with 1 to 4 channels, not ${t} with ${c}`, 'use the raw encoding');
  }
  if (encoding === 'compressed_segmentation' && t !== 'uint32' && t !== 'uint64') {
    fail(`compressed_segmentation holds uint32 or uint64, not ${t}`, 'use the raw encoding');
  }
}

/** The key CloudVolume and Igneous give a scale: its resolution joined by '_' (e.g. 8_8_40). */
export function scaleKey(resolution: Vec3): string {
  return resolution.map((r) => String(r)).join('_');
}

export interface NewVolume {
  type: 'image' | 'segmentation';
  dataType: Info['data_type'];
  numChannels?: number;
  /** Voxel size in nm. */
  resolution: Vec3;
  size: Vec3;
  voxelOffset?: Vec3;
  chunkSize: Vec3;
  encoding: Encoding;
  jpegQuality?: number;
  pngLevel?: number;
  sharding?: ShardingSpec;
}

/** The info of a new volume with one full-resolution scale. */
export function buildInfo(v: NewVolume): Info {
  const scale: Scale = {
    key: scaleKey(v.resolution),
    size: v.size,
    resolution: v.resolution,
    voxel_offset: v.voxelOffset ?? [0, 0, 0],
    chunk_sizes: [v.chunkSize],
    encoding: v.encoding,
    ...(v.jpegQuality !== undefined ? { jpeg_quality: v.jpegQuality } : {}),
    ...(v.pngLevel !== undefined ? { png_level: v.pngLevel } : {}),
    ...(v.sharding ? { sharding: v.sharding } : {}),
  };
  return parseInfo(
    {
      '@type': 'neuroglancer_multiscale_volume',
      type: v.type,
      data_type: v.dataType,
      num_channels: v.numChannels ?? 1,
      scales: [scale],
    },
    'new volume',
  );
}

/**
 * Bounds of a box after downsampling by `factor`: [floor(start/f), ceil(end/f)), so every voxel
 * of the source lands in exactly one output voxel even for odd sizes and offsets.
 */
export function downsampledBounds(offset: Vec3, size: Vec3, factor: Vec3): { offset: Vec3; size: Vec3 } {
  const o: Vec3 = [0, 0, 0];
  const s: Vec3 = [0, 0, 0];
  for (let d = 0; d < 3; d++) {
    o[d] = Math.floor(offset[d] / factor[d]);
    s[d] = Math.ceil((offset[d] + size[d]) / factor[d]) - o[d];
  }
  return { offset: o, size: s };
}

export interface ScaleOptions {
  /** Chunk shape of the new scale (default: the same as the scale it is made from). */
  chunkSize?: Vec3;
  encoding?: Encoding;
  /** A spec, or a function choosing one for each new scale (its grid differs from the last). */
  sharding?: ShardingSpec | ((scale: Scale) => ShardingSpec);
}

/** The scale made by downsampling `from` by `factor` (e.g. 2,2,1), with exact bounds. */
export function downsampledScale(from: Scale, factor: Vec3, opts: ScaleOptions = {}): Scale {
  if (factor.some((f) => !Number.isInteger(f) || f < 1)) {
    throw new FerryError(`downsampling factor ${factor.join(',')} is not a positive integer per axis`, { hint: 'use e.g. 2,2,1 or 2,2,2' });
  }
  const { offset, size } = downsampledBounds(from.voxel_offset, from.size, factor);
  const resolution: Vec3 = [from.resolution[0] * factor[0], from.resolution[1] * factor[1], from.resolution[2] * factor[2]];
  const scale: Scale = {
    key: scaleKey(resolution),
    size,
    resolution,
    voxel_offset: offset,
    chunk_sizes: [opts.chunkSize ?? from.chunk_sizes[0]],
    encoding: opts.encoding ?? from.encoding,
    ...(from.jpeg_quality !== undefined ? { jpeg_quality: from.jpeg_quality } : {}),
    ...(from.png_level !== undefined ? { png_level: from.png_level } : {}),
  };
  if (opts.sharding) scale.sharding = typeof opts.sharding === 'function' ? opts.sharding(scale) : opts.sharding;
  return scale;
}

/** A copy of `info` with `count` more scales, each downsampled by `factor` from the one before. */
export function addScales(info: Info, factor: Vec3, count: number, opts: ScaleOptions = {}): Info {
  const scales = [...info.scales];
  for (let i = 0; i < count; i++) scales.push(downsampledScale(scales[scales.length - 1], factor, opts));
  return parseInfo({ ...info, scales }, 'info with added scales');
}

/** The scale with `key`, or a FerryError listing the keys there are. */
export function findScale(info: Info, key: string): Scale {
  const s = info.scales.find((x) => x.key === key);
  if (!s) {
    throw new FerryError(`no scale "${key}" in the info`, { hint: `scales are: ${info.scales.map((x) => x.key).join(', ')}` });
  }
  return s;
}

/** The first path at which two JSON values differ, or undefined when they are equal. */
function firstDifference(a: unknown, b: unknown, path: string): string | undefined {
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) {
    return Object.is(a, b) ? undefined : `${path}: ${JSON.stringify(a)} vs ${JSON.stringify(b)}`;
  }
  if (Array.isArray(a) !== Array.isArray(b)) return `${path}: ${JSON.stringify(a)} vs ${JSON.stringify(b)}`;
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  for (const k of keys) {
    const d = firstDifference((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], path ? `${path}.${k}` : k);
    if (d) return d;
  }
  return undefined;
}

/**
 * Throws when the info found at the destination is not the one the plan would write, so a
 * resumed run never mixes chunks of two different layouts. `where` names the destination.
 */
export function checkSameInfo(found: Info, planned: Info, where: string): void {
  const d = firstDifference(parseInfo(found, where), parseInfo(planned, 'planned info'), '');
  if (d) {
    throw new FerryError(`the info at ${where} disagrees with the plan (${d.replace(/ vs /, ' there, ')} planned)`, {
      hint: 'write to a new destination, or re-plan with the settings of the existing volume',
    });
  }
}
