// Local directories (and anything mounted: NFS, Lustre, GPFS) as a Store. Writes land in a hidden
// temporary file beside the target, are fsynced, get the source mtime, and are renamed into place
// (linked, for a create-only write, which never replaces a file), so a reader or a crash never
// sees half a file under the real name.
import { randomBytes } from 'node:crypto';
import { closeSync, createReadStream, fstatSync, openSync, readSync, statSync, type Stats } from 'node:fs';
import { link, mkdir, open, opendir, readFile, rename, rm, stat, unlink, utimes } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { pathToFileURL } from 'node:url';
import { FerryError } from '../errors.ts';
import { crc32cOf, crc32cOfParts, crc32cToBase64 } from './checksum.ts';
import { writeFileDirect } from './direct-write.ts';
import type { PartOptions } from './options.ts';
import { KeyNotFound } from './store.ts';
import { SyncWhileFast } from './sync-while-fast.ts';
import type { ByteRange, ListOptions, ObjectInfo, RangeSource, Store, StoreCapabilities, WriteOptions, WriteResult } from './store.ts';

const TEMP_MARK = '.ferry-tmp-';
const DEFAULT_PART = 8 * 1024 * 1024;
const STAT_BATCH = 64;
/** A stat slower than this is not from a local cache: go parallel (see walk). */
const SLOW_STAT_MS = 0.1;
/** Files up to this size are read on the main thread while reads are quick (see readBytes). */
const SYNC_READ_MAX = 1024 * 1024;
/** A read slower than this, plus 1 ms per MB, is not from a local cache. */
const SLOW_READ_MS = 0.3;
/** Buffers this large are written around the page cache when they allow it (see direct-write). */
const DIRECT_MIN = 32 * 1024 * 1024;

export function isFerryTempName(name: string): boolean {
  return name.startsWith('.') && name.endsWith(TEMP_MARK);
}

// Writes preserve the source mtime, so a file's own mtime is the source mtime it was copied from.
export async function openFileStore(path: string, opts: FileStoreOptions = {}): Promise<Store> {
  return new FileStore(resolve(path), opts);
}

export type FileStoreOptions = Pick<PartOptions, 'partSize' | 'partConcurrency'>;

class FileStore implements Store {
  readonly url: string;
  readonly capabilities: StoreCapabilities = { local: true, keepsContentEncoding: false, serverChecksum: undefined };
  private readonly root: string;
  private readonly partSize: number;
  private readonly partConcurrency: number;
  private readonly madeDirs = new Set<string>();
  private readonly stats = new SyncWhileFast();
  private readonly reads = new SyncWhileFast();

  constructor(root: string, opts: FileStoreOptions) {
    this.root = root;
    this.url = pathToFileURL(root).href.replace(/\/?$/, '/');
    this.partSize = opts.partSize ?? DEFAULT_PART;
    this.partConcurrency = opts.partConcurrency ?? 4;
  }

  private pathOf(key: string): string {
    if (key.split('/').some((p) => p === '..')) throw new FerryError(`key "${key}" leaves the store root ${this.root}`);
    return key === '' ? this.root : join(this.root, ...key.split('/'));
  }

  async *list(prefix = '', opts: ListOptions = {}): AsyncIterable<ObjectInfo> {
    // The prefix may end inside a name ("run1/ima"): walk its folder, filter names by the rest.
    const slash = prefix.lastIndexOf('/');
    const folderKey = slash < 0 ? '' : prefix.slice(0, slash + 1);
    try {
      const s = await stat(this.pathOf(folderKey));
      if (!s.isDirectory()) return;
    } catch (e) {
      if (isNotFound(e)) return;
      throw fsError(e, this.pathOf(folderKey));
    }
    yield* this.walk(folderKey, prefix, opts);
  }

  // Streams directory entries as the OS returns them: a folder of millions of files never becomes
  // an array. Sub-folders are walked depth-first after their parent's files. Files are stat'ed a
  // batch at a time: synchronously while that is quick (a local disk answers from its cache in
  // ~3 us, a quarter of an async stat's cost), in parallel through the thread pool once stats are
  // slow (see SyncWhileFast).
  private async *walk(folderKey: string, prefix: string, opts: ListOptions): AsyncIterable<ObjectInfo> {
    const dirPath = this.pathOf(folderKey);
    let dir;
    try {
      dir = await opendir(dirPath, { bufferSize: STAT_BATCH });
    } catch (e) {
      throw fsError(e, dirPath);
    }
    const subdirs: string[] = [];
    let batch: string[] = [];
    const statOne = (name: string, s: Stats | undefined): ObjectInfo | undefined =>
      // Symlinks to folders are not followed: no loops, no surprises.
      s?.isFile() ? { key: folderKey + name, size: s.size, mtimeMs: s.mtimeMs, sourceMtimeMs: s.mtimeMs } : undefined;
    const notFound = (name: string, e: unknown) => {
      if (isNotFound(e)) return undefined; // removed while listing
      throw fsError(e, join(dirPath, name));
    };
    const statBatch = async (names: string[]): Promise<(ObjectInfo | undefined)[]> => {
      if (!this.stats.sync) {
        return Promise.all(names.map((n) => stat(join(dirPath, n)).then((s) => statOne(n, s), (e) => notFound(n, e))));
      }
      return this.stats.run(
        () =>
          names.map((n) => {
            try {
              return statOne(n, statSync(join(dirPath, n)));
            } catch (e) {
              return notFound(n, e);
            }
          }),
        () => names.length * SLOW_STAT_MS,
      );
    };
    for await (const ent of dir) {
      if (opts.signal?.aborted) break;
      const key = folderKey + ent.name;
      if (!key.startsWith(prefix) && !prefix.startsWith(key + '/')) continue;
      if (isFerryTempName(ent.name)) continue;
      if (ent.isDirectory()) {
        if (!opts.delimiter) subdirs.push(key + '/');
        continue;
      }
      if (!ent.isFile() && !ent.isSymbolicLink()) continue;
      if (!key.startsWith(prefix)) continue;
      batch.push(ent.name);
      if (batch.length >= STAT_BATCH) {
        for (const info of await statBatch(batch)) if (info) yield info;
        batch = [];
      }
    }
    for (const info of await statBatch(batch)) if (info) yield info;
    for (const sub of subdirs) yield* this.walk(sub, prefix, opts);
  }

  async stat(key: string): Promise<ObjectInfo | undefined> {
    try {
      const s = await stat(this.pathOf(key));
      if (!s.isFile()) return undefined;
      return { key, size: s.size, mtimeMs: s.mtimeMs, sourceMtimeMs: s.mtimeMs };
    } catch (e) {
      if (isNotFound(e)) return undefined;
      throw fsError(e, this.pathOf(key));
    }
  }

  async read(key: string, range?: ByteRange): Promise<Readable> {
    const fh = await this.openForReading(key);
    return fh.createReadStream(range ? { start: range.start, end: range.end - 1 } : {});
  }

  private async openForReading(key: string): Promise<FileHandle> {
    const p = this.pathOf(key);
    return open(p, 'r').catch((e) => {
      throw readError(e, p);
    });
  }

  async readBytes(key: string, range?: ByteRange): Promise<Buffer> {
    const p = this.pathOf(key);
    try {
      return await this.readPath(p, range);
    } catch (e) {
      throw readError(e, p);
    }
  }

  async readIfExists(key: string, range?: ByteRange): Promise<Buffer | undefined> {
    const p = this.pathOf(key);
    try {
      return await this.readPath(p, range);
    } catch (e) {
      if (isNotFound(e)) return undefined;
      throw fsError(e, p);
    }
  }

  /** The bytes at `p`; fs errors as they come. */
  private async readPath(p: string, range: ByteRange | undefined): Promise<Buffer> {
    if (!range && this.reads.sync) {
      // A small file from the page cache costs ~20 us read here, ~80 us through the thread pool
      // (four trips: open, stat, read, close); thousands of small files make that the client's
      // largest cost after hashing.
      const whole = this.reads.run(() => readSmallSync(p), (b) => SLOW_READ_MS + (b?.length ?? 0) / 1e6);
      if (whole) return whole;
    }
    if (!range) return readFile(p);
    const fh = await open(p, 'r');
    try {
      return await readAt(fh, range.start, range.end - range.start);
    } finally {
      await fh.close();
    }
  }

  async openRange(key: string, size?: number): Promise<RangeSource> {
    const fh = await this.openForReading(key);
    const total = size ?? (await fh.stat()).size;
    // One descriptor for the whole multipart write, not one per part.
    return {
      size: total,
      readRange: (r: ByteRange, _signal?: AbortSignal, into?: Buffer) => readAt(fh, r.start, r.end - r.start, into),
      close: () => fh.close(),
    };
  }

  async write(key: string, body: Buffer | RangeSource, opts: WriteOptions = {}): Promise<WriteResult> {
    const target = this.pathOf(key);
    const dir = dirname(target);
    if (!this.madeDirs.has(dir)) {
      await mkdir(dir, { recursive: true }).catch((e) => {
        throw fsError(e, dir);
      });
      this.madeDirs.add(dir);
    }
    if (opts.ifAbsent) return this.create(key, target, body, opts);
    // One fixed temporary name per target: a run killed half-way leaves at most one hidden file
    // per key, and the re-run that writes the key again reuses and renames it.
    const temp = join(dir, `.${basename(target)}${TEMP_MARK}`);
    try {
      const crc = await this.fill(temp, body, opts);
      await rename(temp, target);
      return { key, size: sizeOf(body), crc32c: crc32cToBase64(crc), partsSent: 0, partsReused: 0 };
    } catch (e) {
      await unlink(temp).catch(() => {});
      throw fsError(e, target);
    }
  }

  /**
   * A create-only write: the bytes go to a temporary file of this writer's own, which is linked
   * to the target name (link(2) never replaces a file) and removed. The folder is flushed too,
   * so an archive's new file survives a power cut.
   */
  private async create(key: string, target: string, body: Buffer | RangeSource, opts: WriteOptions): Promise<WriteResult> {
    const existed = (info: ObjectInfo | undefined): WriteResult => ({ key, size: info?.size ?? 0, crc32c: '', partsSent: 0, partsReused: 0, existed: true });
    const before = await this.stat(key);
    if (before) return existed(before);
    const temp = join(dirname(target), `.${basename(target)}.${randomBytes(6).toString('hex')}${TEMP_MARK}`);
    try {
      const crc = await this.fill(temp, body, opts);
      try {
        await link(temp, target);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
        return existed(await this.stat(key));
      }
      await syncDir(dirname(target));
      return { key, size: sizeOf(body), crc32c: crc32cToBase64(crc), partsSent: 0, partsReused: 0 };
    } catch (e) {
      throw fsError(e, target);
    } finally {
      await unlink(temp).catch(() => {});
    }
  }

  /** Writes `body` into the file `temp`, flushed, with the mtime asked for; its CRC32C. */
  private async fill(temp: string, body: Buffer | RangeSource, opts: WriteOptions): Promise<number> {
    const crc = Buffer.isBuffer(body) ? await writeBufferTo(temp, body, opts) : await writeThrough(temp, (fh) => this.writeParts(fh, body, opts));
    if (opts.mtimeMs !== undefined) await utimes(temp, new Date(opts.mtimeMs), new Date(opts.mtimeMs));
    return crc;
  }

  // Large files: parts are read and written at their own offsets in parallel, each checksummed,
  // and the CRCs combined, so the file is read exactly once.
  private async writeParts(fh: FileHandle, src: RangeSource, opts: WriteOptions): Promise<number> {
    const parts: { crc: number; size: number }[] = [];
    let next = 0;
    const count = Math.max(1, Math.ceil(src.size / this.partSize));
    const worker = async () => {
      for (;;) {
        const i = next++;
        if (i >= count) return;
        opts.signal?.throwIfAborted();
        const start = i * this.partSize;
        const end = Math.min(src.size, start + this.partSize);
        const buf = await src.readRange({ start, end }, opts.signal);
        if (buf.length !== end - start) throw new FerryError(`source changed size while being read (part ${i + 1})`, { exitCode: 1 });
        await writeAll(fh, buf, start);
        parts[i] = { crc: crc32cOf(buf), size: buf.length };
        opts.onBytes?.(buf.length);
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.partConcurrency, count) }, worker));
    return src.size === 0 ? 0 : crc32cOfParts(parts);
  }

  async delete(key: string): Promise<void> {
    await rm(this.pathOf(key), { force: true });
  }

  async checksum(key: string): Promise<string> {
    const p = this.pathOf(key);
    let crc = 0;
    try {
      for await (const chunk of createReadStream(p, { highWaterMark: 1 << 20 })) crc = crc32cOf(chunk as Buffer, crc);
    } catch (e) {
      throw readError(e, p);
    }
    return crc32cToBase64(crc);
  }

  async close(): Promise<void> {}
}

/** Opens `path` for writing (created or truncated), lets `fill` write it, then fsyncs and closes it. */
async function writeThrough<T>(path: string, fill: (fh: FileHandle) => Promise<T>): Promise<T> {
  const fh = await open(path, 'w');
  try {
    const result = await fill(fh);
    await fh.sync();
    await fh.close();
    return result;
  } catch (e) {
    await fh.close().catch(() => {});
    throw e;
  }
}

/** `body` as the file at `path`, around the page cache when it is large and allows it; its CRC32C. */
async function writeBufferTo(path: string, body: Buffer, opts: WriteOptions): Promise<number> {
  let crc: number | undefined;
  // Computed while the kernel writes, when the write is direct.
  const checksum = () => (crc = crc32cOf(body));
  if (!(body.length >= DIRECT_MIN && (await writeFileDirect(path, body, checksum)))) await writeThrough(path, (fh) => writeAll(fh, body, 0));
  opts.onBytes?.(body.length);
  return crc ?? checksum();
}

const sizeOf = (body: Buffer | RangeSource) => (Buffer.isBuffer(body) ? body.length : body.size);

async function syncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

async function writeAll(fh: FileHandle, buf: Buffer, position: number): Promise<void> {
  let off = 0;
  while (off < buf.length) {
    const { bytesWritten } = await fh.write(buf, off, buf.length - off, position + off);
    off += bytesWritten;
  }
}

/** The whole file, or undefined (nothing read) when it is larger than SYNC_READ_MAX. */
function readSmallSync(path: string): Buffer | undefined {
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    if (size > SYNC_READ_MAX) return undefined;
    // One byte more than the size, so that a file that grew is read whole, as readFile would.
    let out = Buffer.allocUnsafe(size + 1);
    let n = 0;
    for (let got; (got = readSync(fd, out, n, out.length - n, n)) > 0; ) {
      n += got;
      if (n === out.length) out = Buffer.concat([out, Buffer.allocUnsafe(out.length)]);
    }
    return out.subarray(0, n);
  } finally {
    closeSync(fd);
  }
}

async function readAt(fh: FileHandle, position: number, length: number, into?: Buffer): Promise<Buffer> {
  const buf = into && into.length >= length ? into.subarray(0, length) : Buffer.allocUnsafe(length);
  let off = 0;
  while (off < length) {
    const { bytesRead } = await fh.read(buf, off, length - off, position + off);
    if (bytesRead === 0) break;
    off += bytesRead;
  }
  return off === length ? buf : buf.subarray(0, off);
}

function isNotFound(e: unknown): boolean {
  return (e as NodeJS.ErrnoException)?.code === 'ENOENT' || (e as NodeJS.ErrnoException)?.code === 'ENOTDIR';
}

/** A read's fs error: KeyNotFound for a missing file, as every driver throws, else as fsError words it. */
function readError(e: unknown, path: string): unknown {
  return isNotFound(e) ? new KeyNotFound(path, e) : fsError(e, path);
}

/** Turns an fs error into a one-line message naming the path and what to do. */
export function fsError(e: unknown, path: string): unknown {
  if (e instanceof FerryError) return e;
  const code = (e as NodeJS.ErrnoException)?.code;
  const hints: Record<string, [string, string]> = {
    ENOENT: ['does not exist', 'check the path'],
    EACCES: ['permission denied', 'check the file and folder permissions for this user'],
    EPERM: ['operation not permitted', 'check the file and folder permissions for this user'],
    ENOSPC: ['no space left on device', 'free space at the destination, then run the same command again: it resumes'],
    EDQUOT: ['disk quota exceeded', 'free space or raise the quota, then run the same command again: it resumes'],
    EROFS: ['read-only file system', 'choose a writable destination'],
    EISDIR: ['is a folder, not a file', 'check the path'],
    ENOTDIR: ['a part of the path is a file, not a folder', 'check the path'],
    EIO: ['input/output error', 'check the disk or the network mount'],
  };
  const h = code ? hints[code] : undefined;
  if (!h) return e;
  // A full or read-only disk fails every file after this one alike: it stops the run (exit 2).
  const kind = code === 'ENOSPC' || code === 'EDQUOT' || code === 'EROFS' ? 'environment' : 'item';
  return new FerryError(`${path}: ${h[0]}`, { hint: h[1], code, kind, cause: e });
}
