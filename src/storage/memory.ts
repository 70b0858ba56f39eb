// memory:// stores: objects held in this process's memory, behaving as an object store does (whole
// objects replaced atomically, Content-Encoding and a CRC32C kept with each, source mtime kept as
// metadata), for tests and demonstrations that should touch no disk and no network.
//
// Limits, by design: one process. Every memory:// URL of the process shares one key space (two
// stores opened on memory://a/ see the same objects), but another process (a worker started by
// Slurm or the local pool, a re-run) sees none of it, and everything is gone when the process
// ends. Everything is held in RAM, and a listing sorts the keys under its prefix each time: meant
// for thousands of objects, not millions.
import { Readable } from 'node:stream';
import { FerryError } from '../errors.ts';
import { crc32cOf, crc32cToBase64 } from './checksum.ts';
import { objectKey } from './names.ts';
import { KeyNotFound } from './store.ts';
import type { ByteRange, ListOptions, ObjectInfo, RangeSource, Store, StoreCapabilities, WriteOptions, WriteResult } from './store.ts';

/** Bytes read from a RangeSource at a time, as a driver sending parts would. */
const PART_SIZE = 8 * 1024 * 1024;

interface MemoryObject {
  body: Buffer;
  /** When it was written (an object store's LastModified). */
  writtenMs: number;
  sourceMtimeMs?: number;
  crc32c: string;
  contentEncoding?: string;
}

/** Full key (prefix + key) -> object, for every memory:// store of the process. */
const objects = new Map<string, MemoryObject>();

/** A store over the keys under `prefix` ('' or ending in '/') of the process's memory. */
export function openMemoryStore(prefix: string): Store {
  return new MemoryStore(prefix);
}

class MemoryStore implements Store {
  readonly url: string;
  readonly capabilities: StoreCapabilities = { local: false, keepsContentEncoding: true, serverChecksum: 'crc32c' };
  private readonly prefix: string;

  constructor(prefix: string) {
    this.prefix = prefix;
    this.url = `memory://${prefix}`;
  }

  private object(key: string): MemoryObject {
    const o = objects.get(this.prefix + key);
    if (!o) throw new KeyNotFound(`${this.url}${key}`);
    return o;
  }

  async *list(prefix = '', opts: ListOptions = {}): AsyncIterable<ObjectInfo> {
    const from = this.prefix + prefix;
    // Keys taken at the start: writes during the listing neither break nor join it.
    const keys = [...objects.keys()].filter((k) => k.startsWith(from) && !(opts.delimiter && k.includes('/', from.length))).sort();
    for (const k of keys) {
      if (opts.signal?.aborted) return;
      const o = objects.get(k);
      if (o) yield info(k.slice(this.prefix.length), o);
    }
  }

  async stat(key: string): Promise<ObjectInfo | undefined> {
    const o = objects.get(this.prefix + key);
    return o && info(key, o);
  }

  async read(key: string, range?: ByteRange): Promise<Readable> {
    return Readable.from([await this.readBytes(key, range)]);
  }

  async readBytes(key: string, range?: ByteRange): Promise<Buffer> {
    return slice(this.object(key).body, range);
  }

  async readIfExists(key: string, range?: ByteRange): Promise<Buffer | undefined> {
    const o = objects.get(this.prefix + key);
    return o && slice(o.body, range);
  }

  async openRange(key: string, size?: number): Promise<RangeSource> {
    // The object as it is now: a later write replaces the entry, never these bytes.
    const { body } = this.object(key);
    return {
      size: size ?? body.length,
      readRange: async (range: ByteRange, _signal?: AbortSignal, into?: Buffer) => {
        const part = body.subarray(range.start, Math.min(range.end, body.length));
        if (!into || into.length < part.length) return Buffer.from(part);
        part.copy(into);
        return into.subarray(0, part.length);
      },
    };
  }

  async write(key: string, source: Buffer | RangeSource, opts: WriteOptions = {}): Promise<WriteResult> {
    objectKey(key, this.url);
    opts.signal?.throwIfAborted();
    // A copy: the caller may reuse its buffer, and readers must never see the stored bytes change.
    const body = Buffer.isBuffer(source) ? Buffer.from(source) : await readWhole(source, opts);
    if (Buffer.isBuffer(source)) opts.onBytes?.(body.length);
    opts.signal?.throwIfAborted();
    const crc32c = crc32cToBase64(crc32cOf(body));
    // Checked and set with no await between: one process is the only writer, so this is atomic.
    const there = opts.ifAbsent ? objects.get(this.prefix + key) : undefined;
    if (there) return { key, size: there.body.length, crc32c: there.crc32c, partsSent: 0, partsReused: 0, existed: true };
    // One assignment: a reader sees the old object or the new one whole.
    objects.set(this.prefix + key, { body, writtenMs: Date.now(), sourceMtimeMs: opts.mtimeMs, crc32c, contentEncoding: opts.contentEncoding });
    return { key, size: body.length, crc32c, partsSent: 0, partsReused: 0 };
  }

  async delete(key: string): Promise<void> {
    objects.delete(this.prefix + key);
  }

  async checksum(key: string): Promise<string> {
    return this.object(key).crc32c;
  }

  async close(): Promise<void> {}
}

function info(key: string, o: MemoryObject): ObjectInfo {
  return { key, size: o.body.length, mtimeMs: o.writtenMs, crc32c: o.crc32c, sourceMtimeMs: o.sourceMtimeMs, contentEncoding: o.contentEncoding };
}

/** A copy of the bytes of `range` (clipped to the body), so that no caller can change the stored object. */
function slice(body: Buffer, range: ByteRange | undefined): Buffer {
  return Buffer.from(range ? body.subarray(range.start, Math.min(range.end, body.length)) : body);
}

/** Every byte of `source`, read a part at a time into one buffer. */
async function readWhole(source: RangeSource, opts: WriteOptions): Promise<Buffer> {
  const body = Buffer.allocUnsafe(source.size);
  for (let start = 0; start < source.size; start += PART_SIZE) {
    opts.signal?.throwIfAborted();
    const end = Math.min(source.size, start + PART_SIZE);
    const into = body.subarray(start, end);
    const got = await source.readRange({ start, end }, opts.signal, into);
    if (got.length !== end - start) throw new FerryError(`source changed size while being read (${got.length} of ${end - start} bytes at ${start})`, { exitCode: 1 });
    if (got.buffer !== into.buffer || got.byteOffset !== into.byteOffset) got.copy(into);
    opts.onBytes?.(got.length);
  }
  return body;
}
