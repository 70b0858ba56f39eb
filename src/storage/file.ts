// Local directories (and anything mounted: NFS, Lustre, GPFS) as a Store. Writes land in a hidden
// temporary file beside the target, are fsynced, get the source mtime, and are renamed into place
// (linked, for a create-only write, which never replaces a file), so a reader or a crash never
// sees half a file under the real name. Names are bytes: one that is not valid UTF-8 is a key that
// says so (see names.ts) and is read and written under exactly its bytes.
import { createHash } from 'node:crypto';
import { isUtf8 } from 'node:buffer';
import { closeSync, createReadStream, fstatSync, opendirSync, openSync, readSync, readlinkSync, statSync, type Dir, type Stats } from 'node:fs';
import { link, lstat, mkdir, open, opendir, readFile, rename, rm, stat, unlink, utimes } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { setImmediate } from 'node:timers/promises';
import { pathToFileURL } from 'node:url';
import { FerryError, errorMessage } from '../errors.ts';
import { crc32cOf, crc32cOfParts, crc32cToBase64 } from './checksum.ts';
import { writeFileDirect } from './direct-write.ts';
import { bytesOfKey, displayKey, keyOfName } from './names.ts';
import type { PartOptions } from './options.ts';
import { KeyNotFound } from './store.ts';
import { SyncWhileFast } from './sync-while-fast.ts';
import type { ByteRange, ListOptions, ObjectInfo, RangeSource, Store, StoreCapabilities, WriteOptions, WriteResult } from './store.ts';

const TEMP_MARK = '.ferry-tmp-';
const DEFAULT_PART = 8 * 1024 * 1024;
const STAT_BATCH = 64;
/** A stat slower than this is not from a local cache: go parallel (see walk). */
const SLOW_STAT_MS = 0.1;
/** A folder read (a batch of STAT_BATCH names) or opened slower than this is not from a local cache. */
const SLOW_READDIR_MS = 1;
/** Entries of a folder read on the main thread between two turns given to the rest of the process. */
const YIELD_EVERY = 256;
/** Files up to this size are read on the main thread while reads are quick (see readBytes). */
const SYNC_READ_MAX = 1024 * 1024;
/** A read slower than this, plus 1 ms per MB, is not from a local cache. */
const SLOW_READ_MS = 0.3;
/** Buffers this large are written around the page cache when they allow it (see direct-write). */
const DIRECT_MIN = 32 * 1024 * 1024;
/** Bytes in a file name (Linux, and every filesystem data is kept on). */
const NAME_MAX = 255;
/** Another machine's temporary file unchanged this long has lost its writer (see removeIfLeftover). */
const FOREIGN_LEFTOVER_MS = 60 * 60_000;
/** U+FFFD as UTF-8: what a name that is not valid UTF-8 shows in its place when read as a string. */
const REPLACEMENT_BYTES = Buffer.from('\ufffd');
const SLASH = Buffer.from('/');
const DOT = 0x2e;

type Path = string | Buffer;
type EntryType = Pick<Stats, 'isFile' | 'isDirectory' | 'isSymbolicLink' | 'isFIFO' | 'isSocket' | 'isBlockDevice' | 'isCharacterDevice'>;

export function isFerryTempName(name: string): boolean {
  return name.startsWith('.') && name.endsWith(TEMP_MARK);
}

/**
 * This machine (and PID namespace: containers on one host share PIDs with nobody) in a few
 * characters, so that a temporary file tells which process of which machine wrote it.
 */
const HOST_TAG = (() => {
  let ns = '';
  try {
    ns = readlinkSync('/proc/self/ns/pid');
  } catch {
    // Not Linux: the host name alone.
  }
  return createHash('sha256').update(`${hostname()}\0${ns}`).digest('hex').slice(0, 8);
})();
let tempCount = 0;

/**
 * A temporary name beside `name` of this process's own (`.NAME.HOST-PID-N.ferry-tmp-`): two runs
 * writing one destination at once never share one, and a later run can tell a dead writer's
 * (removeIfLeftover). A name too long to take the additions is replaced by its hash.
 */
function tempName(name: string): string {
  const writer = `${HOST_TAG}-${process.pid.toString(36)}-${(tempCount++).toString(36)}`;
  const full = `.${name}.${writer}${TEMP_MARK}`;
  if (bytesOfKey(full).length <= NAME_MAX) return full;
  return `.~${createHash('sha256').update(bytesOfKey(name)).digest('hex').slice(0, 24)}.${writer}${TEMP_MARK}`;
}

/** Who wrote a temporary file, from its name; undefined for one an older Ferry named. */
function writerOf(name: string): { host: string; pid: number } | undefined {
  const m = /\.([0-9a-f]{8})-([0-9a-z]+)-[0-9a-z]+\.ferry-tmp-$/.exec(name);
  return m ? { host: m[1], pid: parseInt(m[2], 36) } : undefined;
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function specialKind(e: EntryType): string | undefined {
  if (e.isFIFO()) return 'a named pipe (FIFO)';
  if (e.isSocket()) return 'a socket';
  if (e.isBlockDevice()) return 'a block device';
  if (e.isCharacterDevice()) return 'a character device';
  return undefined;
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

  /** The path of a key: a string, or the exact bytes of a name that is not valid UTF-8. */
  private pathOf(key: string): Path {
    const parts = key.split('/');
    if (parts.some((p) => p === '..')) throw new FerryError(`key "${displayKey(key)}" leaves the store root ${this.root}`);
    if (key === '') return this.root;
    if (key.isWellFormed()) return join(this.root, ...parts);
    const rel = parts.filter((p) => p !== '' && p !== '.').join('/');
    return Buffer.concat([Buffer.from(this.root === '/' ? '/' : `${this.root}/`), bytesOfKey(rel)]);
  }

  async *list(prefix = '', opts: ListOptions = {}): AsyncIterable<ObjectInfo> {
    // The prefix may end inside a name ("run1/ima"): walk its folder, filter names by the rest.
    const slash = prefix.lastIndexOf('/');
    const folderKey = slash < 0 ? '' : prefix.slice(0, slash + 1);
    try {
      const s = await stat(this.pathOf(folderKey));
      if (!s.isDirectory()) {
        if (opts.rootMustExist && folderKey === '') throw new FerryError(`${this.root} is a file, not a folder`, { hint: 'name the folder that holds it', kind: 'item' });
        return;
      }
    } catch (e) {
      if (!isNotFound(e)) throw fsError(e, this.pathOf(folderKey));
      if (opts.rootMustExist && folderKey === '') {
        throw new FerryError(`the folder ${this.root} does not exist`, { hint: 'check that it is there (is its disk mounted on this machine?), then run again', code: 'ENOENT', kind: 'item', cause: e });
      }
      return;
    }
    yield* this.walk(folderKey, prefix, opts);
  }

  // Streams directory entries as the OS returns them: a folder of millions of files never becomes
  // an array. Sub-folders are walked depth-first after their parent's files. Files are stat'ed a
  // batch at a time: synchronously while that is quick (a local disk answers from its cache in
  // ~3 us, a quarter of an async stat's cost), in parallel through the thread pool once stats are
  // slow (see SyncWhileFast). Folders are read the same way: through the thread pool, each batch
  // of names would wait for a turn of the event loop, which a busy process (a listing of S3 pages
  // parsed at the same time) makes long. Every entry that is not listed is told to opts.onUnlisted.
  private async *walk(folderKey: string, prefix: string, opts: ListOptions): AsyncIterable<ObjectInfo> {
    const dirPath = this.pathOf(folderKey);
    let dir: Dir;
    try {
      dir = this.stats.sync ? this.stats.run(() => opendirSync(dirPath, { bufferSize: STAT_BATCH }), () => SLOW_READDIR_MS) : await opendir(dirPath, { bufferSize: STAT_BATCH });
    } catch (e) {
      // The folder listed cannot be read: the listing fails. A sub-folder removed while listing
      // is gone, like a file removed while listing; one that cannot be read is told.
      if (folderKey === prefix.slice(0, prefix.lastIndexOf('/') + 1)) throw fsError(e, dirPath);
      if (isNotFound(e)) return;
      this.unlisted(opts, folderKey, fsError(e, dirPath));
      return;
    }
    const subdirs: string[] = [];
    const leftovers: string[] = [];
    let batch: string[] = [];
    const unknown: string[] = [];
    // Names that are not valid UTF-8 arrive with U+FFFD in them: their bytes are read again below.
    let inexact = false;
    const sort = (name: string, ent: EntryType): void => {
      const key = folderKey + name;
      if (!key.startsWith(prefix) && !prefix.startsWith(key + '/')) return;
      if (isFerryTempName(name)) {
        if (opts.clearLeftovers) leftovers.push(key);
      } else if (ent.isDirectory()) {
        if (!opts.delimiter) subdirs.push(key + '/');
      } else if (!key.startsWith(prefix)) {
        // A file beside the folder the prefix names.
      } else if (ent.isFile() || ent.isSymbolicLink()) {
        batch.push(name);
      } else {
        const what = specialKind(ent);
        if (what) this.unlisted(opts, key, `${what}, not a file`);
        else unknown.push(name); // the filesystem does not say what it is (no d_type): asked below
      }
    };
    const read = () => (this.stats.sync ? this.stats.run(() => dir.readSync(), () => SLOW_READDIR_MS) : dir.read());
    try {
      for (let ent = await read(), n = 1; ent; ent = await read(), n++) {
        if (opts.signal?.aborted) break;
        // Read on the main thread, a folder gives other work no turn: a listing of S3 waiting for
        // its next page would wait for the whole walk.
        if (n % YIELD_EVERY === 0 && this.stats.sync) await setImmediate();
        if (ent.name.includes('\ufffd')) inexact = true;
        else sort(ent.name, ent);
        if (batch.length >= STAT_BATCH) {
          for (const info of await this.statBatch(folderKey, dirPath, batch, opts)) if (info) yield info;
          batch = [];
        }
      }
    } finally {
      if (this.stats.sync) dir.closeSync();
      else await dir.close();
    }
    if (inexact && !opts.signal?.aborted) {
      // Node reads names as bytes when asked, though its types do not say so.
      for await (const ent of await opendir(dirPath, { bufferSize: STAT_BATCH, encoding: 'buffer' as BufferEncoding })) {
        const bytes = ent.name as unknown as Buffer;
        if (isUtf8(bytes) && !bytes.includes(REPLACEMENT_BYTES)) continue;
        sort(keyOfName(bytes), ent);
        if (batch.length >= STAT_BATCH) {
          for (const info of await this.statBatch(folderKey, dirPath, batch, opts)) if (info) yield info;
          batch = [];
        }
      }
    }
    for (const info of await this.statBatch(folderKey, dirPath, batch, opts)) if (info) yield info;
    for (const name of unknown) {
      const s = await lstat(this.pathOf(folderKey + name)).catch(() => undefined);
      if (s?.isDirectory()) subdirs.push(folderKey + name + '/');
      else if (s?.isSymbolicLink() || s?.isFile()) for (const info of await this.statBatch(folderKey, dirPath, [name], opts)) if (info) yield info;
      else if (s) this.unlisted(opts, folderKey + name, `${specialKind(s)}, not a file`);
    }
    for (const key of leftovers) await this.removeIfLeftover(this.pathOf(key), key.slice(key.lastIndexOf('/') + 1));
    for (const sub of subdirs) yield* this.walk(sub, prefix, opts);
  }

  /** The files among `names` (entries of one folder); the rest are told to opts.onUnlisted. */
  private async statBatch(folderKey: string, dirPath: string | Buffer, names: string[], opts: ListOptions): Promise<(ObjectInfo | undefined)[]> {
    const pathOf = (name: string) => (typeof dirPath === 'string' && name.isWellFormed() ? join(dirPath, name) : this.pathOf(folderKey + name));
    const statOne = (name: string, s: Stats): ObjectInfo | undefined => {
      const key = folderKey + name;
      if (s.isFile()) return { key, size: s.size, mtimeMs: s.mtimeMs, sourceMtimeMs: s.mtimeMs };
      // Symbolic links to folders are not followed: no loops, no surprises, but no silence either.
      this.unlisted(opts, key, s.isDirectory() ? 'a link to a folder, not followed' : `a link to ${specialKind(s) ?? 'something that is not a file'}, not a file`);
      return undefined;
    };
    const failed = async (name: string, e: unknown): Promise<undefined> => {
      const key = folderKey + name;
      const code = (e as NodeJS.ErrnoException)?.code;
      if (isNotFound(e)) {
        // Removed while listing, or a link to nothing.
        const link = await lstat(pathOf(name)).catch(() => undefined);
        if (link?.isSymbolicLink()) this.unlisted(opts, key, 'a link to something that does not exist, not a file');
      } else if (code === 'ELOOP') {
        this.unlisted(opts, key, 'a link that leads back to itself (a loop of links), not a file');
      } else {
        this.unlisted(opts, key, fsError(e, pathOf(name)));
      }
      return undefined;
    };
    if (names.length === 0) return [];
    if (!this.stats.sync) {
      return Promise.all(names.map((n) => stat(pathOf(n)).then((s) => statOne(n, s), (e) => failed(n, e))));
    }
    const errors: [number, unknown][] = [];
    const infos = this.stats.run(
      () =>
        names.map((n, i) => {
          try {
            return statOne(n, statSync(pathOf(n)));
          } catch (e) {
            errors.push([i, e]);
            return undefined;
          }
        }),
      () => names.length * SLOW_STAT_MS,
    );
    for (const [i, e] of errors) await failed(names[i], e);
    return infos;
  }

  /** Tells opts.onUnlisted of an entry; without one, an entry that could not be read fails the listing. */
  private unlisted(opts: ListOptions, key: string, why: string | unknown): void {
    if (opts.onUnlisted) opts.onUnlisted({ key, reason: typeof why === 'string' ? why : errorMessage(why) });
    else if (typeof why !== 'string') throw why;
  }

  // Names only, read as bytes (a name that is not UTF-8 joins its folder's path as it is): no file
  // is stat'ed but a temporary one, and a folder whose type the filesystem does not say.
  async clearLeftovers(signal?: AbortSignal): Promise<void> {
    const folders: Buffer[] = [Buffer.from(this.root)];
    for (let dirPath = folders.pop(); dirPath && !signal?.aborted; dirPath = folders.pop()) {
      let dir;
      try {
        dir = await opendir(dirPath as unknown as string, { bufferSize: 256, encoding: 'buffer' as BufferEncoding });
      } catch {
        continue; // gone, or unreadable: no leftover there can be reached either
      }
      for await (const ent of dir) {
        const bytes = ent.name as unknown as Buffer;
        if (ent.isFile() && bytes[0] !== DOT) continue; // a temporary name starts with '.'
        const name = bytes.toString('latin1'); // the marks looked for are ASCII
        const path = Buffer.concat([dirPath, SLASH, bytes]);
        if (isFerryTempName(name)) await this.removeIfLeftover(path, name);
        else if (ent.isDirectory()) folders.push(path);
        else if (!ent.isFile() && !ent.isSymbolicLink() && !specialKind(ent) && (await lstat(path).catch(() => undefined))?.isDirectory()) folders.push(path);
      }
    }
  }

  /** Removes a temporary file of Ferry's (at `p`, named `name`) whose writer is no longer running (see tempName). */
  private async removeIfLeftover(p: Path, name: string): Promise<void> {
    const writer = writerOf(name);
    if (writer && writer.host === HOST_TAG) {
      if (writer.pid === process.pid || isRunning(writer.pid)) return;
    } else {
      // Another machine's: a writer still alive changes its file at least every few seconds.
      const s = await lstat(p).catch(() => undefined);
      if (!s || Date.now() - s.ctimeMs < FOREIGN_LEFTOVER_MS) return;
    }
    await unlink(p).catch(() => {});
  }

  async stat(key: string): Promise<ObjectInfo | undefined> {
    const p = this.pathOf(key);
    try {
      // On the main thread while stats are quick, as in walk: a re-sync asks one per file.
      const s = this.stats.sync ? this.stats.run(() => statSync(p, { throwIfNoEntry: false }), () => SLOW_STAT_MS) : await stat(p);
      if (!s?.isFile()) return undefined;
      return { key, size: s.size, mtimeMs: s.mtimeMs, sourceMtimeMs: s.mtimeMs };
    } catch (e) {
      if (isNotFound(e)) return undefined;
      throw fsError(e, p);
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
  private async readPath(p: Path, range: ByteRange | undefined): Promise<Buffer> {
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
    const slash = key.lastIndexOf('/');
    const folderKey = slash < 0 ? '' : key.slice(0, slash + 1);
    if (!this.madeDirs.has(folderKey)) {
      const dir = this.pathOf(folderKey);
      await mkdir(dir, { recursive: true }).catch((e) => {
        throw fsError(e, dir);
      });
      this.madeDirs.add(folderKey);
    }
    // A temporary name of this writer's own: another run writing the same key at the same time
    // has its own, and the last rename wins with the same bytes. A run killed half-way leaves
    // its file, which the next run that lists this destination to write into it removes.
    const temp = this.pathOf(folderKey + tempName(key.slice(slash + 1)));
    if (opts.ifAbsent) return this.create(key, folderKey, target, temp, body, opts);
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
   * A create-only write: the bytes go to the temporary file, which is linked to the target name
   * (link(2) never replaces a file) and removed. The folder is flushed too, so an archive's new
   * file survives a power cut.
   */
  private async create(key: string, folderKey: string, target: Path, temp: Path, body: Buffer | RangeSource, opts: WriteOptions): Promise<WriteResult> {
    const existed = (info: ObjectInfo | undefined): WriteResult => ({ key, size: info?.size ?? 0, crc32c: '', partsSent: 0, partsReused: 0, existed: true });
    const before = await this.stat(key);
    if (before) return existed(before);
    try {
      const crc = await this.fill(temp, body, opts);
      try {
        await link(temp, target);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
        return existed(await this.stat(key));
      }
      await syncDir(this.pathOf(folderKey));
      return { key, size: sizeOf(body), crc32c: crc32cToBase64(crc), partsSent: 0, partsReused: 0 };
    } catch (e) {
      throw fsError(e, target);
    } finally {
      await unlink(temp).catch(() => {});
    }
  }

  /** Writes `body` into the file `temp`, flushed, with the mtime asked for; its CRC32C. */
  private async fill(temp: Path, body: Buffer | RangeSource, opts: WriteOptions): Promise<number> {
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
async function writeThrough<T>(path: Path, fill: (fh: FileHandle) => Promise<T>): Promise<T> {
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
async function writeBufferTo(path: Path, body: Buffer, opts: WriteOptions): Promise<number> {
  let crc: number | undefined;
  // Computed while the kernel writes, when the write is direct.
  const checksum = () => (crc = crc32cOf(body));
  if (!(body.length >= DIRECT_MIN && (await writeFileDirect(path, body, checksum)))) await writeThrough(path, (fh) => writeAll(fh, body, 0));
  opts.onBytes?.(body.length);
  return crc ?? checksum();
}

const sizeOf = (body: Buffer | RangeSource) => (Buffer.isBuffer(body) ? body.length : body.size);

async function syncDir(dir: Path): Promise<void> {
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
function readSmallSync(path: Path): Buffer | undefined {
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
function readError(e: unknown, path: Path): unknown {
  return isNotFound(e) ? new KeyNotFound(displayPath(path), e) : fsError(e, path);
}

/** Turns an fs error into a one-line message naming the path and what to do. */
export function fsError(e: unknown, path: Path): unknown {
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
    ELOOP: ['a loop of symbolic links', 'remove or fix the link'],
    ENAMETOOLONG: ['name too long for this filesystem', 'shorten the name, or choose a destination that takes it'],
  };
  const h = code ? hints[code] : undefined;
  if (!h) return e;
  // A full or read-only disk fails every file after this one alike: it stops the run (exit 2).
  const kind = code === 'ENOSPC' || code === 'EDQUOT' || code === 'EROFS' ? 'environment' : 'item';
  return new FerryError(`${displayPath(path)}: ${h[0]}`, { hint: h[1], code, kind, cause: e });
}

/** A path as a person reads it: bytes that are not UTF-8 shown as \\xE9. */
function displayPath(path: Path): string {
  return typeof path === 'string' ? path : displayKey(keyOfName(path));
}
