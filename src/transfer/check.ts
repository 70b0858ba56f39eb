// `ferry check`: proves two trees hold the same files, like `rclone check`. Both listings stream
// through scratch space on disk, so any number of files compares in bounded memory; nothing is
// taken from the manifest but where to split the destination listing. Whatever either walk meets
// that cannot be compared (a FIFO, a link to nothing, a folder that cannot be read) is an error:
// the trees are proven equal only when everything in them was compared.
import type { TransferState } from '../ledger/transfer-state/state.ts';
import type { ListOptions, Store, UnlistedEntry } from '../storage/store.ts';
import { makeFilter, makeFolderFilter } from './filters.ts';
import type { FilterRules } from './filters.ts';
import { Manifest } from './manifest.ts';
import { Scratch } from './scratch.ts';

export interface CheckOptions extends FilterRules {
  /** Compare content (CRC32C) as well as size. */
  checksum?: boolean;
  onlyKeys?: string[];
  renameKey?: (key: string) => string;
  onProgress?: (compared: number) => void;
  /** Where the destination's manifest is, to list a large destination in parallel ranges. */
  state?: TransferState;
}

export interface CheckReport {
  /** What "matching" means: the same size, or the same size and CRC32C (--checksum). */
  by: 'size' | 'crc32c';
  compared: number;
  matching: number;
  missingOnDestination: string[];
  missingOnSource: string[];
  differing: { key: string; reason: string }[];
  errors: { key: string; error: string }[];
}

export async function check(src: Store, dst: Store, opts: CheckOptions = {}): Promise<CheckReport> {
  const include = makeFilter(opts);
  const toKey = opts.renameKey ?? ((k: string) => k);
  const scratch = new Scratch();
  const folderIncluded = makeFolderFilter(opts);
  const report: CheckReport = { by: opts.checksum ? 'crc32c' : 'size', compared: 0, matching: 0, missingOnDestination: [], missingOnSource: [], differing: [], errors: [] };
  try {
    if (opts.onlyKeys) {
      await scratch.loadDestination(statAll(dst, opts.onlyKeys.map(toKey)));
    } else {
      const onUnlisted = uncomparable(report, 'at the destination', include, folderIncluded);
      await scratch.loadDestination(filtered(dst.list('', { splitKeys: await splitKeys(dst, opts.state), onUnlisted }), include));
    }
    const walk: ListOptions = { rootMustExist: true, onUnlisted: uncomparable(report, 'at the source', include, folderIncluded) };
    const missingSource = (key: string) => report.errors.push({ key, error: 'at the source: does not exist' });
    const sources = opts.onlyKeys ? statAll(src, opts.onlyKeys, missingSource) : filtered(src.list('', walk), include);
    for await (const e of sources) {
      const key = toKey(e.key);
      scratch.markSeen(key);
      report.compared++;
      opts.onProgress?.(report.compared);
      const d = scratch.destination(key);
      if (!d) {
        report.missingOnDestination.push(key);
        continue;
      }
      if (d.size !== e.size) {
        report.differing.push({ key, reason: `size ${e.size} at source, ${d.size} at destination` });
        continue;
      }
      if (opts.checksum) {
        try {
          const [a, b] = await Promise.all([src.checksum(e.key), dst.checksum(key)]);
          if (a !== b) {
            report.differing.push({ key, reason: `CRC32C ${a} at source, ${b} at destination` });
            continue;
          }
        } catch (err) {
          report.errors.push({ key, error: err instanceof Error ? err.message : String(err) });
          continue;
        }
      }
      report.matching++;
    }
    if (!opts.onlyKeys) {
      let after = '';
      for (;;) {
        const keys = scratch.unseenDestinationKeys(after, 1000);
        if (keys.length === 0) break;
        after = keys[keys.length - 1];
        report.missingOnSource.push(...keys);
      }
    }
    return report;
  } finally {
    scratch.close();
  }
}

/** Records what a walk met but could not list as an error of the check: it was not compared. */
function uncomparable(report: CheckReport, where: string, include: (k: string) => boolean, folderIncluded: (k: string) => boolean) {
  return (u: UnlistedEntry) => {
    if (u.key.endsWith('/') ? folderIncluded(u.key) : include(u.key)) report.errors.push({ key: u.key, error: `${where}: ${u.reason}` });
  };
}

async function splitKeys(dst: Store, state: TransferState | undefined): Promise<string[]> {
  if (!state) return [];
  const manifest = new Manifest(await state.manifest(dst.url));
  try {
    return await manifest.splitKeys();
  } finally {
    await manifest.close();
  }
}

export function checkPassed(r: CheckReport): boolean {
  return r.missingOnDestination.length === 0 && r.missingOnSource.length === 0 && r.differing.length === 0 && r.errors.length === 0;
}

async function* filtered<T extends { key: string }>(items: AsyncIterable<T>, include: (k: string) => boolean): AsyncIterable<T> {
  for await (const i of items) if (include(i.key)) yield i;
}

async function* statAll(store: Store, keys: string[], onMissing: (key: string) => void = () => {}) {
  for (const k of keys) {
    const info = await store.stat(k);
    if (info) yield info;
    else onMissing(k);
  }
}
