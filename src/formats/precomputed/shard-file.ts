// One shard file of the sharded format: the shard index (2^minishard_bits pairs of uint64le
// [start, end) offsets, relative to the end of the index), then each minishard's chunk data
// followed by its minishard index ([3, n] uint64le: delta-coded ids, delta-coded offsets, sizes).
import { gunzipSync, gzipSync } from 'node:zlib';
import { FerryError } from '../../errors.ts';
import { defaultGzipLevel, gzipChunk } from '../../codecs/gzip.ts';
import type { ShardingSpec } from './info.ts';
import { shardLocation } from './sharding.ts';

export interface ShardChunk {
  id: bigint;
  /** The chunk, encoded in the scale's encoding (the shard's data_encoding is applied here). */
  data: Uint8Array;
}

export interface EncodeOptions {
  /** gzip level of the chunks for data_encoding gzip (default: an image volume's, defaultGzipLevel). */
  gzipLevel?: number;
}

/**
 * Builds one shard file from chunks that all belong to the same shard. Chunks are compressed on
 * libuv's thread pool, so a shard's gzip uses more than one core.
 */
export async function encodeShard(spec: ShardingSpec, chunks: ShardChunk[], opts: EncodeOptions = {}): Promise<Buffer> {
  const level = opts.gzipLevel ?? defaultGzipLevel('image');
  const bodies = await Promise.all(chunks.map(async (c) => ({ id: c.id, data: spec.data_encoding === 'gzip' ? await gzipChunk(c.data, level) : c.data })));
  const layout = layoutShard(spec, bodies);
  return Buffer.concat(layout.parts, layout.size);
}

export interface ShardLayout {
  /** The file's bytes in order: the shard index, then each minishard's chunks and its index. */
  parts: Uint8Array[];
  size: number;
}

/**
 * Lays out one shard file from chunks whose data_encoding is already applied, without copying
 * them: the writer streams the parts, so a shard of hundreds of MiB is never joined in memory.
 * A gzip minishard index is written by Node's zlib at its default level whatever the chunks'
 * engine and level: it is a few KiB a minishard, read by a viewer before any chunk.
 */
export function layoutShard(spec: ShardingSpec, chunks: ShardChunk[]): ShardLayout {
  const minishards = new Map<number, ShardChunk[]>();
  let shard: bigint | undefined;
  for (const c of chunks) {
    const loc = shardLocation(spec, c.id);
    if (shard === undefined) shard = loc.shard;
    else if (loc.shard !== shard) {
      throw new FerryError(`chunk ${c.id} belongs to shard ${loc.shard}, not ${shard}`, { hint: 'group chunks by shard before encoding' });
    }
    const list = minishards.get(loc.minishard);
    if (list) list.push(c);
    else minishards.set(loc.minishard, [c]);
  }
  const count = 2 ** spec.minishard_bits;
  const index = Buffer.alloc(count * 16);
  const parts: Uint8Array[] = [index];
  let offset = 0n;
  for (let m = 0; m < count; m++) {
    const list = minishards.get(m);
    if (!list) continue;
    list.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    const table = new BigUint64Array(3 * list.length);
    let prevId = 0n;
    // The first chunk's offset is relative to the end of the shard index, not the minishard.
    let prevEnd = 0n;
    list.forEach((c, i) => {
      if (i > 0 && c.id === list[i - 1].id) throw new FerryError(`chunk ${c.id} appears twice in one shard`);
      const start = offset;
      table[i] = c.id - prevId;
      table[list.length + i] = start - prevEnd;
      table[2 * list.length + i] = BigInt(c.data.byteLength);
      prevId = c.id;
      prevEnd = start + BigInt(c.data.byteLength);
      offset = prevEnd;
      parts.push(c.data);
    });
    const raw = Buffer.from(table.buffer, table.byteOffset, table.byteLength);
    const mindex = spec.minishard_index_encoding === 'gzip' ? gzipSync(raw) : raw;
    index.writeBigUInt64LE(offset, m * 16);
    index.writeBigUInt64LE(offset + BigInt(mindex.byteLength), m * 16 + 8);
    offset += BigInt(mindex.byteLength);
    parts.push(mindex);
  }
  return { parts, size: index.byteLength + Number(offset) };
}

/** Reads bytes [start, end) of a shard file; undefined when the shard does not exist. */
export type ReadShardRange = (start: number, end: number) => Promise<Uint8Array | undefined>;

export interface MinishardEntry {
  id: bigint;
  /** Absolute byte range of the chunk's data in the shard file. */
  start: number;
  end: number;
}

function corrupt(what: string): never {
  throw new FerryError(`corrupt shard: ${what}`, { hint: 'rewrite the shard; it was not written by a complete, valid writer' });
}

/** Decodes a minishard index into absolute chunk ranges (indexEnd = 2^minishard_bits * 16). */
export function decodeMinishardIndex(spec: ShardingSpec, bytes: Uint8Array, indexEnd: number): MinishardEntry[] {
  const raw = spec.minishard_index_encoding === 'gzip' ? gunzipSync(bytes) : Buffer.from(bytes);
  if (raw.byteLength % 24 !== 0) corrupt(`minishard index of ${raw.byteLength} bytes is not n*24`);
  const n = raw.byteLength / 24;
  const entries: MinishardEntry[] = [];
  let id = 0n;
  let pos = BigInt(indexEnd);
  for (let i = 0; i < n; i++) {
    id += raw.readBigUInt64LE(i * 8);
    const start = pos + raw.readBigUInt64LE((n + i) * 8);
    const size = raw.readBigUInt64LE((2 * n + i) * 8);
    pos = start + size;
    entries.push({ id, start: Number(start), end: Number(pos) });
  }
  return entries;
}

/** The minishard index of `minishard`, read through `read`; [] when the minishard is empty. */
export async function readMinishardIndex(spec: ShardingSpec, read: ReadShardRange, minishard: number): Promise<MinishardEntry[]> {
  const indexEnd = 2 ** spec.minishard_bits * 16;
  const entry = await read(minishard * 16, minishard * 16 + 16);
  if (!entry) return [];
  if (entry.byteLength !== 16) corrupt(`shard index entry ${minishard} is ${entry.byteLength} bytes`);
  const view = Buffer.from(entry.buffer, entry.byteOffset, 16);
  const start = Number(view.readBigUInt64LE(0));
  const end = Number(view.readBigUInt64LE(8));
  if (end < start) corrupt(`minishard ${minishard} ends before it starts`);
  if (end === start) return [];
  const bytes = await read(indexEnd + start, indexEnd + end);
  if (!bytes) return [];
  return decodeMinishardIndex(spec, bytes, indexEnd);
}

/** Decodes one chunk's stored bytes (undoes data_encoding). */
export function decodeShardChunkData(spec: ShardingSpec, bytes: Uint8Array): Uint8Array {
  return spec.data_encoding === 'gzip' ? gunzipSync(bytes) : bytes;
}

/** Every chunk of a whole shard file held in memory, keyed by id. */
export function decodeShard(spec: ShardingSpec, file: Uint8Array): Map<bigint, Uint8Array> {
  const out = new Map<bigint, Uint8Array>();
  const indexEnd = 2 ** spec.minishard_bits * 16;
  if (file.byteLength < indexEnd) corrupt(`file of ${file.byteLength} bytes is shorter than its index (${indexEnd})`);
  const view = Buffer.from(file.buffer, file.byteOffset, file.byteLength);
  for (let m = 0; m < 2 ** spec.minishard_bits; m++) {
    const start = Number(view.readBigUInt64LE(m * 16));
    const end = Number(view.readBigUInt64LE(m * 16 + 8));
    if (end === start) continue;
    if (indexEnd + end > file.byteLength) corrupt(`minishard ${m} runs past the end of the file`);
    for (const e of decodeMinishardIndex(spec, view.subarray(indexEnd + start, indexEnd + end), indexEnd)) {
      if (e.end > file.byteLength) corrupt(`chunk ${e.id} runs past the end of the file`);
      out.set(e.id, decodeShardChunkData(spec, view.subarray(e.start, e.end)));
    }
  }
  return out;
}
