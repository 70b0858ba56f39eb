// The one storage interface every driver (directory, S3, GCS) implements and every format and
// transfer is written against. Keys are '/'-separated and relative to the store's root URL; a
// driver never exposes its scheme to callers: what differs between drivers is told by capabilities.
import type { Readable } from 'node:stream';
import { FerryError } from '../errors.ts';

/** What a store knows about one object or file. */
export interface ObjectInfo {
  key: string;
  size: number;
  /** Modification time (file mtime, or the object's LastModified / stored source mtime). */
  mtimeMs: number;
  /** Server-computed digest as the server reports it (S3 ETag without quotes, GCS md5 in hex). */
  etag?: string;
  /** Full-object CRC32C, base64 of the big-endian 4 bytes as S3 and GCS write it, when known. */
  crc32c?: string;
  /** Mtime of the source this object was copied from, when the store keeps it (S3/GCS metadata). */
  sourceMtimeMs?: number;
  contentEncoding?: string;
}

export interface ByteRange {
  /** First byte, inclusive. */
  start: number;
  /** Last byte, exclusive. */
  end: number;
}

/**
 * A body that can be read in any order, any number of times: what lets a large write go in
 * parallel parts and lets a failed part be sent again without buffering the whole file.
 */
export interface RangeSource {
  readonly size: number;
  /**
   * The bytes of `range`. A driver may fill `into` (at least as long as the range) and return a
   * view of it, so that a multipart write reuses one buffer per part in flight instead of
   * allocating (and garbage-collecting) one per part; the caller uses what is returned either way.
   */
  readRange(range: ByteRange, signal?: AbortSignal, into?: Buffer): Promise<Buffer>;
  /** Releases what the source holds open (a file descriptor, a connection); safe to call twice. */
  close?(): Promise<void>;
}

export interface WriteOptions {
  /** Mtime to preserve (file) or record as metadata (object stores). */
  mtimeMs?: number;
  contentType?: string;
  contentEncoding?: string;
  cacheControl?: string;
  /** Called with the number of bytes just sent, for progress and bandwidth accounting. */
  onBytes?: (n: number) => void;
  signal?: AbortSignal;
  /**
   * Create only: a key that exists is left as it is, nothing is sent, and the result says
   * `existed`. For stores that only ever gain files (an archive, a repair that adds what is
   * missing). The file driver makes it exact with link(2), so of two writers racing for one
   * name one wins and the other is told; object stores look first, so a writer that lands
   * between their look and their write is replaced.
   */
  ifAbsent?: boolean;
}

/** What a finished write proves: the bytes the driver sent and what the destination confirmed. */
export interface WriteResult {
  key: string;
  size: number;
  /** CRC32C of the bytes read from the source while sending them (base64, big-endian). */
  crc32c: string;
  /** The destination's own digest of what it received, compared by the driver before returning. */
  etag?: string;
  /** Parts sent in this call (0 for a single-request write). */
  partsSent: number;
  /** Parts found already uploaded by an earlier, interrupted attempt and reused. */
  partsReused: number;
  /** Set when an `ifAbsent` write found the key there: nothing was sent, `size` is the existing object's, `crc32c` is empty. */
  existed?: boolean;
}

export interface ListOptions {
  /** Stop at '/' (one folder level) instead of walking the whole tree. Default: recursive. */
  delimiter?: boolean;
  /**
   * Sorted keys that cut the key space into ranges a driver may list in parallel (S3 lists one
   * page at a time per range). Every key is still listed once; the order is then unspecified.
   */
  splitKeys?: string[];
  signal?: AbortSignal;
  /**
   * Told of every entry met that is not listed as an object: what is not a regular file (a FIFO, a
   * device, a link to a folder, a link that leads nowhere or in a loop) and what cannot be read (a
   * folder without permission). Without it, an entry that cannot be read fails the listing and the
   * others are passed over. Only stores with folders meet such entries.
   */
  onUnlisted?: (entry: UnlistedEntry) => void;
  /**
   * The store's root folder must exist: a store with folders throws a FerryError of kind 'item'
   * when it does not (an unmounted disk is not an empty tree). Object stores, whose prefixes need not exist, list nothing.
   */
  rootMustExist?: boolean;
  /**
   * The caller is about to write here: a store that writes through temporary files removes those
   * that writers no longer running left behind (a run killed half-way), as it meets them.
   */
  clearLeftovers?: boolean;
}

/** An entry a listing met but did not list (see ListOptions.onUnlisted). */
export interface UnlistedEntry {
  /** Its key; a folder's ends with '/'. */
  key: string;
  /** What it is or what went wrong: "a named pipe (FIFO), not a file", "permission denied". */
  reason: string;
}

/** What a store can do, for callers that would otherwise guess it from the URL. */
export interface StoreCapabilities {
  /** Keys are files in a folder of this machine (a local disk or a mount), which other programs can open by path. */
  readonly local: boolean;
  /**
   * The Content-Encoding given to a write is kept with the object and sent to HTTP readers, so
   * that a browser or Neuroglancer decompresses it; a folder keeps only bytes.
   */
  readonly keepsContentEncoding: boolean;
  /**
   * The digest the store itself computes over every object it receives, reported by stat without
   * reading the object: 'crc32c' in ObjectInfo.crc32c (GCS, memory), 'md5-etag' in ObjectInfo.etag
   * (S3: the MD5 of a single-request write, MD5 of the part MD5s for a multipart one), undefined
   * when only reading the bytes tells (a folder).
   */
  readonly serverChecksum: 'crc32c' | 'md5-etag' | undefined;
}

/**
 * What every read of a key that does not exist throws (read, readBytes, openRange, checksum), from
 * every driver, so that callers can tell absence from failure; readIfExists answers undefined instead.
 */
export class KeyNotFound extends FerryError {
  /** `where` names the key for the user: its path or full URL. */
  constructor(where: string, cause?: unknown) {
    super(`${where} does not exist`, { hint: 'check the path or key and its prefix', code: 'NoSuchKey', exitCode: 1, cause });
    this.name = 'KeyNotFound';
  }
}

/**
 * A multipart upload the server holds under a store, begun and neither completed nor aborted, or
 * a journal row of Ferry's that names one the server no longer holds.
 */
export interface PendingUpload {
  /** Relative to the store's root, like every key. */
  key: string;
  uploadId?: string;
  /** When the server says it began; undefined when the server does not hold it. */
  initiatedMs?: number;
  /**
   * journaled: Ferry started it and journaled it (a re-run of the same copy resumes it);
   * unjournaled: Ferry started it but was stopped before it could write the upload id down (the
   * server began it while a journaled attempt of Ferry's for the key was asking for one);
   * foreign: another tool's; stale: a journal row whose upload the server no longer holds.
   */
  origin: 'journaled' | 'unjournaled' | 'foreign' | 'stale';
  /** The worker that journaled it (host/pid), when Ferry did. */
  startedBy?: string;
  /** The latest of when it began and when a part of it was journaled. */
  lastActivityMs: number;
}

/** The multipart uploads of a store that has them (S3): what `ferry cleanup` lists and aborts. */
export interface MultipartUploads {
  /** Every pending upload under the store, and journal rows of Ferry's that name ones gone. */
  list(signal?: AbortSignal): AsyncIterable<PendingUpload>;
  /** Aborts it (if the server still holds it) and forgets its journal rows. */
  abort(upload: PendingUpload): Promise<void>;
  /** Keys with journal rows: uploads Ferry started and has not settled. */
  journaledKeys(): Promise<Set<string>>;
  /**
   * For a key whose object is complete and verified: aborts every other upload of it that Ferry
   * started (journaled by any worker sharing the journal, or begun while one of them was asking
   * for an upload id) and forgets their rows. Never touches another tool's uploads.
   */
  settle(key: string): Promise<void>;
}

export interface Store {
  /** The root URL, normalised: file:///abs/path/, s3://bucket/prefix/, gs://bucket/prefix/, memory://prefix/. */
  readonly url: string;
  readonly capabilities: StoreCapabilities;
  /** Present on stores whose large writes are multipart uploads the server keeps until completed or aborted. */
  readonly multipartUploads?: MultipartUploads;
  /** Streams every object under `prefix` (default: all) in key order where the backend allows. */
  list(prefix?: string, opts?: ListOptions): AsyncIterable<ObjectInfo>;
  /**
   * Present on stores that write through temporary files: removes those that writers no longer
   * running left behind, as a listing with `clearLeftovers` does, but looking at names only (no
   * object is listed), for a caller about to write that does not list the store.
   */
  clearLeftovers?(signal?: AbortSignal): Promise<void>;
  /** undefined when the key does not exist. */
  stat(key: string): Promise<ObjectInfo | undefined>;
  /** Throws KeyNotFound. */
  read(key: string, range?: ByteRange): Promise<Readable>;
  /** Throws KeyNotFound. */
  readBytes(key: string, range?: ByteRange): Promise<Buffer>;
  /**
   * The bytes of `key` (or a range of them), or undefined when the key does not exist, in one
   * request: for formats where absence is an answer (a precomputed chunk never written is zeros).
   */
  readIfExists(key: string, range?: ByteRange): Promise<Buffer | undefined>;
  /** A RangeSource over an existing key (its size from a stat the caller may already have). Throws KeyNotFound. */
  openRange(key: string, size?: number): Promise<RangeSource>;
  /**
   * Writes atomically: a reader sees the old object or the whole new one, never a part. A Buffer
   * goes in one request; a RangeSource larger than the multipart threshold goes in parallel parts
   * and, on drivers that support it, resumes an earlier interrupted upload of the same key.
   */
  write(key: string, body: Buffer | RangeSource, opts?: WriteOptions): Promise<WriteResult>;
  delete(key: string): Promise<void>;
  /** Full-object CRC32C (base64), from the store when it keeps one, else by reading the object. Throws KeyNotFound. */
  checksum(key: string): Promise<string>;
  /** Releases connections and file handles. */
  close(): Promise<void>;
}
