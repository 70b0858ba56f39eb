// What one transfer run knows about its destination: the destination's listing (scratch.ts) next
// to the manifest, the durable record of what Ferry verified there (key, size, source mtime,
// CRC32C, the destination's own digest), kept in the ledger's transfer state so every worker of the
// ledger shares it. A re-sync of unchanged files compares the listing with the record instead of
// asking the destination about every object; the record is read once, in the way that suits the
// listing's size, and written in batches.
import type { ManifestEntry, ManifestRecords } from '../ledger/transfer-state/state.ts';
import { IN_MEMORY, Scratch } from './scratch.ts';
import type { ListedEntry } from './scratch.ts';

export type { ListedEntry };

const FLUSH_EVERY = 500;
const FLUSH_MS = 1000;
const PAGE = 20_000;
const GET_MANY = 1000;
/** Fewer listed keys than this fraction of the records: ask for theirs only, not for every record. */
const FEW_KEYS = 1 / 8;

export class Manifest {
  private readonly records: ManifestRecords;
  private readonly scratch = new Scratch();
  private pending: ManifestEntry[] = [];
  private lastFlush = Date.now();
  private writes: Promise<void> = Promise.resolve();
  private writeFailure: unknown;
  private count: Promise<number> | undefined;
  /** The records of the listed keys, or of every key; undefined when they are in the scratch space. */
  private known: Map<string, ManifestEntry> | undefined;
  /** The destination's entries for the keys of the current window, when it is asked a window at a time. */
  private window: Map<string, ListedEntry> | undefined;

  constructor(records: ManifestRecords) {
    this.records = records;
  }

  private recordCount(): Promise<number> {
    this.count ??= this.records.count();
    return this.count;
  }

  /**
   * Up to `n` recorded keys that cut the record into equal parts, in the store's byte order: where
   * a destination listing can be split to run in parallel (S3 answers ~30 ms a page of 1,000, one
   * page at a time). None for a record of a few pages.
   */
  async splitKeys(n = 16, minPerPart = 900): Promise<string[]> {
    const count = await this.recordCount();
    const parts = Math.min(n, Math.floor(count / minPerPart));
    if (parts < 2) return [];
    return this.records.keysAt(Array.from({ length: parts - 1 }, (_, i) => Math.floor(((i + 1) * count) / parts)));
  }

  /**
   * Loads the destination listing and the records that lookups will need. A whole listing
   * (`fewKeys` false) usually holds about the recorded keys: records that fit in memory are then
   * read while the destination is listed, in the time its server takes to answer.
   */
  async loadDestination(listing: AsyncIterable<ListedEntry>, fewKeys: boolean): Promise<number> {
    const count = await this.recordCount();
    if (fewKeys || count > IN_MEMORY) {
      const n = await this.scratch.loadDestination(listing);
      await this.loadRecords();
      return n;
    }
    const known = new Map<string, ManifestEntry>();
    const records = this.pageRecords((page) => page.forEach((e) => known.set(e.key, e)));
    records.catch(() => {}); // awaited below, unless the listing fails first
    const n = await this.scratch.loadDestination(listing);
    await records;
    this.known = known;
    return n;
  }

  private async loadRecords(): Promise<void> {
    this.known = new Map();
    if (this.scratch.destinationCount === 0) return;
    const count = await this.recordCount();
    const listed = this.scratch.destinationKeysInMemory();
    if (listed && this.scratch.destinationCount < count * FEW_KEYS) {
      // A single file or a small tree in a large destination.
      let batch: string[] = [];
      const fetch = async () => {
        for (const e of await this.records.getMany(batch)) this.known!.set(e.key, e);
        batch = [];
      };
      for (const key of listed) {
        if (!key.isWellFormed()) continue; // never recorded (see record)
        batch.push(key);
        if (batch.length >= GET_MANY) await fetch();
      }
      if (batch.length) await fetch();
      return;
    }
    if (count > IN_MEMORY) {
      this.known = undefined;
      await this.pageRecords((page) => this.scratch.addRecords(page));
    } else {
      await this.pageRecords((page) => page.forEach((e) => this.known!.set(e.key, e)));
    }
  }

  /** Every record, a page at a time in key order. */
  private async pageRecords(take: (page: ManifestEntry[]) => void): Promise<void> {
    for (let after = '', more = true; more;) {
      const page = await this.records.page(after, PAGE);
      take(page);
      more = page.length === PAGE;
      if (more) after = page[page.length - 1].key;
    }
  }

  /**
   * Instead of a whole listing: the destination's entries (one `stat` each) and the records of
   * the next `keys` only, replacing the window before, so that memory stays the same whatever the
   * size of the tree. For a destination that answers a stat as cheaply as a listing (a folder).
   * Records are read only for the keys `needsRecord` names, given the key's index and entry.
   */
  async loadWindow(keys: string[], stat: (key: string) => Promise<ListedEntry | undefined>, needsRecord: (index: number, dest: ListedEntry | undefined) => boolean): Promise<void> {
    const entries = await Promise.all(keys.map(stat));
    this.window = new Map();
    for (const e of entries) if (e) this.window.set(e.key, e);
    // never recorded: see record()
    const asked = keys.filter((k, i) => k.isWellFormed() && needsRecord(i, entries[i]));
    this.known = new Map(asked.length ? (await this.records.getMany(asked)).map((r) => [r.key, r]) : []);
  }

  /** The listed destination entry and our record of it (records still buffered are not seen: a re-sync never needs them). */
  lookup(key: string): { dest?: ListedEntry; record?: ManifestEntry } {
    const dest = this.window ? this.window.get(key) : this.scratch.destination(key);
    if (!dest) return {};
    return { dest, record: this.known ? this.known.get(key) : this.scratch.record(key) };
  }

  destination(key: string): ListedEntry | undefined {
    return this.window ? this.window.get(key) : this.scratch.destination(key);
  }

  markSeen(key: string): void {
    this.scratch.markSeen(key);
  }

  unseenDestinationKeys(afterKey: string, limit: number): string[] {
    return this.scratch.unseenDestinationKeys(afterKey, limit);
  }

  /**
   * Buffered: written a batch (or a second) at a time, so a crash loses at most one batch
   * (re-checked). A key with bytes of a name that is not UTF-8 is not recorded: the ledger keeps
   * keys as UTF-8 text, where it would become another file's key. Only a folder holds such names,
   * and a folder's own times decide for them.
   */
  record(e: ManifestEntry): void {
    if (this.writeFailure) throw this.writeFailure;
    if (!e.key.isWellFormed()) return;
    this.pending.push(e);
    if (this.pending.length >= FLUSH_EVERY || Date.now() - this.lastFlush > FLUSH_MS) this.flush();
  }

  private flush(): void {
    if (this.pending.length === 0) return;
    const batch = this.pending;
    this.pending = [];
    this.lastFlush = Date.now();
    this.writes = this.writes.then(() => this.records.put(batch)).catch((e: unknown) => {
      this.writeFailure ??= e;
    });
  }

  async forget(keys: string[]): Promise<void> {
    await this.records.forget(keys.filter((k) => k.isWellFormed()));
  }

  /** Writes what is buffered; throws if a write of the record failed. */
  async close(): Promise<void> {
    this.flush();
    await this.writes;
    this.scratch.close();
    await this.records.close();
    if (this.writeFailure) throw this.writeFailure;
  }
}
