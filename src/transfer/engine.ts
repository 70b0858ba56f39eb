// Copy and sync, written once over the Store interface. One pass: the source is listed as a
// stream, each file is compared with the destination listing and the manifest, and the files
// that need it are copied by a fixed pool of workers while the listing goes on. A file counts as
// copied only when the driver has verified it (sizes and checksums) and the manifest records it.
// Every entry the source walk meets is counted: copied, unchanged (and by what proof), or failed
// with its reason (a FIFO, a link to nothing, a folder that cannot be read).
import { FerryError, errorMessage, stopsEverything } from '../errors.ts';
import { displayKey } from '../storage/names.ts';
import type { TransferState } from '../ledger/transfer-state/state.ts';
import type { ObjectInfo, RangeSource, Store, UnlistedEntry, WriteResult } from '../storage/store.ts';
import { BandwidthLimit } from './bandwidth.ts';
import { makeFilter, makeFolderFilter } from './filters.ts';
import type { FilterRules } from './filters.ts';
import { Manifest } from './manifest.ts';
import { refuseOverlap, refuseSameFile } from './overlap.ts';
import type { ListedEntry } from './scratch.ts';
import { Pool } from './pool.ts';
import { prefetch } from './prefetch.ts';

export interface TransferOptions extends FilterRules {
  /** Where the manifest of the destination is kept (the ledger's transfer state). */
  state: TransferState;
  /** Compare content (CRC32C) instead of size and modification time. */
  checksum?: boolean;
  /** sync: remove destination files the source does not have, only if every copy succeeded. */
  delete?: boolean;
  dryRun?: boolean;
  /** Files in flight at once. */
  transfers?: number;
  /** Bytes per second for the whole run. */
  bwlimit?: number;
  /** Files at least this large are sent as a RangeSource (parallel parts) instead of one buffer. */
  multipartThreshold?: number;
  /** Only these keys (a single-file copy). */
  onlyKeys?: string[];
  /** Key at the destination for a source key (a single-file copy to a new name). */
  renameKey?: (key: string) => string;
  signal?: AbortSignal;
  /** Told about every decision and outcome, for --json lines, logs and dry-run output. */
  onEvent?: (e: TransferEvent) => void;
}

export type TransferEvent =
  | { type: 'copy'; key: string; size: number; reason: string; dryRun: boolean }
  | { type: 'copied'; key: string; size: number; crc32c: string; partsReused: number }
  | { type: 'skip'; key: string; size: number; proof: Proof }
  | { type: 'failed'; key: string; error: string }
  | { type: 'delete'; key: string; dryRun: boolean }
  | { type: 'delete-skipped'; reason: string };

/**
 * What showed a file unchanged at the destination: its contents (CRC32C read at both ends, or read
 * at the destination and compared with the record of its verified copy); the destination's own
 * digest, still the one Ferry recorded when it verified the copy; or only sizes and times, with no
 * content read.
 */
export type Proof = 'content' | 'digest' | 'size-and-time';

export interface TransferStats {
  /** Entries the source listing met (files, and what could not be listed: counted as failed). */
  listed: number;
  listingDone: boolean;
  copiedFiles: number;
  copiedBytes: number;
  /** Files found unchanged at the destination and not sent: the sum of the three below. */
  skippedFiles: number;
  skippedBytes: number;
  unchangedByContent: number;
  unchangedByDigest: number;
  unchangedBySizeAndTime: number;
  failedFiles: number;
  /** Files whose content is proven at the destination: copied and checked now, or unchanged by content or digest. */
  verifiedFiles: number;
  deletedFiles: number;
  bytesTotal: number;
  bytesInFlight: number;
  failures: { key: string; error: string }[];
}

export function newStats(): TransferStats {
  return {
    listed: 0, listingDone: false, copiedFiles: 0, copiedBytes: 0, skippedFiles: 0, skippedBytes: 0,
    unchangedByContent: 0, unchangedByDigest: 0, unchangedBySizeAndTime: 0, failedFiles: 0, verifiedFiles: 0, deletedFiles: 0, bytesTotal: 0, bytesInFlight: 0, failures: [],
  };
}

const MAX_FAILURES_KEPT = 1000;
/** Source entries listed ahead while the destination is listed: ~10 MB, bounded whatever the tree. */
const SOURCE_READ_AHEAD = 50_000;
/** Source entries compared at a time with a destination asked key by key (see Manifest.loadWindow). */
const WINDOW = 1000;

/**
 * Copies what differs from `src` to `dst`. `stats` is updated live, for progress. Throws a
 * FerryError for a failure that concerns the whole run (missing bucket, bad credentials); a file
 * that cannot be read or written is counted in `failedFiles` and the rest go on.
 */
export async function transfer(src: Store, dst: Store, opts: TransferOptions, stats = newStats()): Promise<TransferStats> {
  const include = makeFilter(opts);
  const toKey = opts.renameKey ?? ((k: string) => k);
  if (opts.onlyKeys) {
    for (const k of opts.onlyKeys) await refuseSameFile(src, k, dst, toKey(k));
  } else {
    await refuseOverlap(src, dst);
  }
  const manifest = new Manifest(await opts.state.manifest(dst.url));
  const emit = opts.onEvent ?? (() => {});
  const limit = opts.bwlimit ? new BandwidthLimit(opts.bwlimit) : undefined;
  const threshold = opts.multipartThreshold ?? 16 * 1024 * 1024;
  const pool = new Pool(opts.transfers ?? 32);
  let fatal: unknown;
  // A local destination is asked about the source's keys a window at a time, a stat each (what
  // listing it costs too), instead of being listed whole into memory: a re-sync of a million files
  // then needs as little memory as one of ten thousand. The temporary files a killed writer left
  // there are cleared by a sweep of names alongside. --delete needs the whole listing (what the
  // source lacks); a single-file copy stats its keys anyway.
  const byWindow = dst.capabilities.local && !opts.delete && !opts.onlyKeys;
  const sweep = byWindow && !opts.dryRun ? dst.clearLeftovers?.(opts.signal) : undefined;
  sweep?.catch(() => {});
  // Otherwise the source is walked while the destination is listed (into scratch space on disk).
  const source = prefetch(sourceListing(src, opts, include), byWindow ? 4 * WINDOW : SOURCE_READ_AHEAD);
  // Keys with uploads Ferry left unsettled (a worker killed after completing one, or before it
  // could journal one): settled below once this run has verified the key.
  const unsettled = opts.dryRun ? undefined : dst.multipartUploads?.journaledKeys();
  unsettled?.catch(() => {});
  const toSettle: string[] = [];
  try {
    if (!byWindow) await manifest.loadDestination(destinationListing(dst, opts, await manifest.splitKeys()), Boolean(opts.onlyKeys));
    const journaled = await unsettled;

    const copyOne = async (e: ObjectInfo, dkey: string) => {
      stats.bytesInFlight += e.size;
      let body: Buffer | RangeSource | undefined;
      let sent = 0;
      try {
        const onBytes = (n: number) => {
          sent += n;
          stats.copiedBytes += n;
        };
        if (e.size < threshold) {
          body = await src.readBytes(e.key);
          if (body.length !== e.size) throw new FerryError(`${e.key} changed size while being read (${e.size} -> ${body.length} bytes)`, { exitCode: 1 });
          if (limit) await limit.take(body.length);
        } else {
          body = throttled(await src.openRange(e.key, e.size), limit);
        }
        const res: WriteResult = await dst.write(dkey, body, { mtimeMs: e.mtimeMs, onBytes, signal: opts.signal });
        if (res.size !== e.size) throw new FerryError(`${dkey}: wrote ${res.size} bytes, the source has ${e.size}`, { exitCode: 1 });
        // Bytes not reported by the driver (reused parts, or a driver without onBytes) count now.
        stats.copiedBytes += e.size - sent;
        manifest.record({ key: dkey, size: e.size, sourceMtimeMs: e.mtimeMs, crc32c: res.crc32c, etag: res.etag });
        stats.copiedFiles++;
        stats.verifiedFiles++;
        emit({ type: 'copied', key: dkey, size: e.size, crc32c: res.crc32c, partsReused: res.partsReused });
      } catch (err) {
        stats.copiedBytes -= sent;
        if (stopsEverything(err)) {
          fatal ??= err;
          return;
        }
        fail(stats, e.key, err, emit);
      } finally {
        stats.bytesInFlight -= e.size;
        if (body && !Buffer.isBuffer(body)) await body.close?.();
      }
    };

    const loadWindow = (window: (ObjectInfo | UnlistedEntry)[]) => {
      const files = filesOf(window);
      return manifest.loadWindow(files.map((f) => toKey(f.key)), (k) => statOrMissing(dst, k), (i, d) => !decidedWithoutRecord(files[i], d, opts));
    };
    for await (const e of byWindow ? inWindows(source, WINDOW, loadWindow) : source) {
      if (fatal) break;
      opts.signal?.throwIfAborted();
      stats.listed++;
      if ('reason' in e) {
        fail(stats, e.key, new FerryError(e.reason, { kind: 'item' }), emit);
        continue;
      }
      const dkey = toKey(e.key);
      stats.bytesTotal += e.size;
      if (opts.delete) manifest.markSeen(dkey); // only --delete asks what was not seen
      let decision: Decision;
      try {
        decision = await needsCopy(e, dkey, src, dst, manifest, opts);
      } catch (err) {
        if (stopsEverything(err)) throw err;
        fail(stats, e.key, err, emit);
        continue;
      }
      if (typeof decision !== 'string') {
        if (journaled?.has(dkey)) toSettle.push(dkey);
        countUnchanged(stats, decision.unchanged, e.size);
        emit({ type: 'skip', key: dkey, size: e.size, proof: decision.unchanged });
        continue;
      }
      const reason = decision;
      emit({ type: 'copy', key: dkey, size: e.size, reason, dryRun: Boolean(opts.dryRun) });
      if (opts.dryRun) continue;
      await pool.submit(() => copyOne(e, dkey));
    }
    stats.listingDone = true;
    await pool.drain();
    await sweep;
    if (fatal) throw fatal;
    for (const key of toSettle) {
      try {
        await dst.multipartUploads!.settle(key);
      } catch (err) {
        if (stopsEverything(err)) throw err;
        fail(stats, key, new FerryError(`verified, but the uploads Ferry left of it could not be aborted: ${errorMessage(err)}`), emit);
      }
    }

    if (opts.delete) await deleteExtras(dst, manifest, include, stats, opts);
    return stats;
  } finally {
    await source.return();
    await pool.drain();
    await manifest.close();
  }
}

/**
 * The source's files, and the entries its walk met but could not list (in the order met). A source
 * folder that is not there (an unmounted disk) fails the run; a missing single file fails itself.
 */
async function* sourceListing(src: Store, opts: TransferOptions, include: (key: string) => boolean): AsyncIterable<ObjectInfo | UnlistedEntry> {
  if (opts.onlyKeys) {
    for (const k of opts.onlyKeys) {
      const info = await src.stat(k);
      yield info ?? { key: k, reason: `${src.url}${displayKey(k)} does not exist` };
    }
    return;
  }
  const folderIncluded = makeFolderFilter(opts);
  const unlisted: UnlistedEntry[] = [];
  const onUnlisted = (u: UnlistedEntry) => {
    if (u.key.endsWith('/') ? folderIncluded(u.key) : include(u.key)) unlisted.push(u);
  };
  for await (const e of src.list('', { signal: opts.signal, onUnlisted, rootMustExist: true })) {
    if (unlisted.length) yield* unlisted.splice(0);
    if (include(e.key)) yield e;
  }
  yield* unlisted;
}

/** `entries` as they come, each window of up to `size` of them told to `before` first. */
async function* inWindows<T>(entries: AsyncIterable<T>, size: number, before: (window: T[]) => Promise<void>): AsyncIterable<T> {
  let window: T[] = [];
  for await (const e of entries) {
    window.push(e);
    if (window.length < size) continue;
    await before(window);
    yield* window;
    window = [];
  }
  if (window.length === 0) return;
  await before(window);
  yield* window;
}

function filesOf(entries: (ObjectInfo | UnlistedEntry)[]): ObjectInfo[] {
  return entries.filter((e): e is ObjectInfo => !('reason' in e));
}

/** A key the destination cannot stat (a file where a folder should be) is copied, and its write fails alone. */
function statOrMissing(dst: Store, key: string): Promise<ObjectInfo | undefined> {
  return dst.stat(key).catch((e: unknown) => {
    if (stopsEverything(e)) throw e;
    return undefined;
  });
}

function destinationListing(dst: Store, opts: TransferOptions, splitKeys: string[]): AsyncIterable<ListedEntry> {
  return opts.onlyKeys ? statDestination(dst, opts.onlyKeys, opts) : dst.list('', { signal: opts.signal, splitKeys, clearLeftovers: !opts.dryRun });
}

async function* statDestination(dst: Store, onlyKeys: string[], opts: TransferOptions): AsyncIterable<ListedEntry> {
  const toKey = opts.renameKey ?? ((k: string) => k);
  for (const k of onlyKeys) {
    const info = await dst.stat(toKey(k));
    if (info) yield info;
  }
}

/** Why `e` must be copied, or what shows that the destination already holds it. */
type Decision = string | { unchanged: Proof };

async function needsCopy(e: ObjectInfo, dkey: string, src: Store, dst: Store, manifest: Manifest, opts: TransferOptions): Promise<Decision> {
  const { dest: d, record: m } = manifest.lookup(dkey);
  if (!d) return 'missing at destination';
  if (d.size !== e.size) return `size differs (${e.size} at source, ${d.size} at destination)`;
  // The record stands for the destination only while the destination still shows the same digest.
  const recordHolds = m !== undefined && m.size === d.size && (m.etag === undefined || d.etag === undefined || m.etag === d.etag);
  if (opts.checksum) {
    // The source is read; so is the destination, unless the server's own digest of it is still
    // the one recorded when Ferry verified it (then the CRC32C recorded then is its content's).
    const serverVouches = recordHolds && m.etag !== undefined && d.etag === m.etag;
    const [srcCrc, dstCrc] = await Promise.all([src.checksum(e.key), serverVouches ? m.crc32c : dst.checksum(dkey)]);
    if (srcCrc !== dstCrc) return 'content differs (CRC32C)';
    manifest.record({ key: dkey, size: e.size, sourceMtimeMs: e.mtimeMs, crc32c: srcCrc, etag: d.etag });
    return { unchanged: 'content' };
  }
  if (recordHolds && sameMtime(m.sourceMtimeMs, e.mtimeMs)) {
    if (m.etag !== undefined && d.etag !== undefined) return { unchanged: 'digest' };
    // A folder keeps the source's time as the file's own: a file changed since Ferry wrote it
    // shows another time, and is read to tell whether its bytes are still the verified ones.
    if (d.sourceMtimeMs === undefined || sameMtime(d.sourceMtimeMs, m.sourceMtimeMs)) return { unchanged: 'size-and-time' };
    if ((await dst.checksum(dkey)) !== m.crc32c) return 'the destination changed since Ferry verified it (CRC32C differs)';
    return { unchanged: 'content' };
  }
  // No record (copied by another tool, or the manifest was lost): the destination's own note of
  // the source mtime decides, from the listing when the store keeps it there, else from one HEAD.
  const known = d.sourceMtimeMs ?? (await dst.stat(dkey))?.sourceMtimeMs;
  if (known !== undefined && sameMtime(known, e.mtimeMs)) return { unchanged: 'size-and-time' };
  return 'modification time differs';
}

/**
 * Whether needsCopy decides about `e` the same way whatever the record says: without --checksum,
 * a destination without a digest of its own that shows the source's size and the same millisecond
 * is unchanged by size and time, with or without a record (a record agreeing with the source's
 * time within 1 ms agrees with the destination's within 1 ms too). A re-sync of unchanged files
 * to a folder then reads no record at all.
 */
function decidedWithoutRecord(e: ObjectInfo, d: ListedEntry | undefined, opts: TransferOptions): boolean {
  return !opts.checksum && d !== undefined && d.etag === undefined && d.size === e.size && d.sourceMtimeMs !== undefined && Math.floor(d.sourceMtimeMs) === Math.floor(e.mtimeMs);
}

function countUnchanged(stats: TransferStats, proof: Proof, size: number): void {
  stats.skippedFiles++;
  stats.skippedBytes += size;
  if (proof === 'content') stats.unchangedByContent++;
  else if (proof === 'digest') stats.unchangedByDigest++;
  else stats.unchangedBySizeAndTime++;
  if (proof !== 'size-and-time') stats.verifiedFiles++;
}

/** Millisecond precision: what utimes and S3 metadata keep of a source mtime. */
function sameMtime(a: number, b: number): boolean {
  return Math.abs(Math.floor(a) - Math.floor(b)) <= 1;
}

async function deleteExtras(dst: Store, manifest: Manifest, include: (k: string) => boolean, stats: TransferStats, opts: TransferOptions): Promise<void> {
  if (stats.failedFiles > 0) {
    opts.onEvent?.({ type: 'delete-skipped', reason: `${stats.failedFiles} file(s) failed to copy` });
    return;
  }
  let after = '';
  for (;;) {
    const keys = manifest.unseenDestinationKeys(after, 1000);
    if (keys.length === 0) return;
    after = keys[keys.length - 1];
    const doomed = keys.filter(include);
    for (const k of doomed) opts.onEvent?.({ type: 'delete', key: k, dryRun: Boolean(opts.dryRun) });
    if (opts.dryRun) continue;
    const pool = new Pool(16);
    for (const k of doomed) {
      await pool.submit(async () => {
        try {
          await dst.delete(k);
          stats.deletedFiles++;
        } catch (err) {
          fail(stats, k, err, opts.onEvent ?? (() => {}));
        }
      });
    }
    await pool.drain();
    await manifest.forget(doomed);
  }
}

function fail(stats: TransferStats, key: string, err: unknown, emit: (e: TransferEvent) => void): void {
  stats.failedFiles++;
  if (stats.failures.length < MAX_FAILURES_KEPT) stats.failures.push({ key, error: errorMessage(err) });
  emit({ type: 'failed', key, error: errorMessage(err) });
}


function throttled(src: RangeSource, limit: BandwidthLimit | undefined): RangeSource {
  if (!limit) return src;
  return {
    size: src.size,
    readRange: async (r, signal, into) => {
      await limit.take(r.end - r.start);
      return src.readRange(r, signal, into);
    },
    close: () => src.close?.() ?? Promise.resolve(),
  };
}
