// `ferry fibsem check`: lists every stage of a tab and reduces it to the check_tabs report. The
// local stages are listed in parallel; the scope comes from a saved listing when one is given,
// otherwise from `find` over SSH for the acquisition's days (which needs the logs listed first).
import { readFileSync } from 'node:fs';
import { FerryError } from '../../errors.ts';
import { acquisitionDays, findScopeDats } from '../../inventory/scope-find.ts';
import { parseScopeListing } from '../../inventory/scope-listing.ts';
import type { ScopeListing } from '../../inventory/scope-listing.ts';
import type { SshTarget } from '../../inventory/ssh.ts';
import { listStageCores } from '../../inventory/stage-folder.ts';
import { checkTab } from '../../inventory/tab-check.ts';
import type { TabReport } from '../../inventory/tab-check.ts';
import { DAT_SUFFIX, INLENS_SUFFIX, LOG_SUFFIX, coreName } from '../../formats/fibsem/names.ts';
import { namesOf } from '../../inventory/name-list.ts';
import type { NameList } from '../../inventory/name-list.ts';
import type { Tab } from './tab.ts';
import { loadTab } from './tab.ts';

export interface TabCheck {
  tab: string;
  report: TabReport;
  /** Every `.dat` the scope listing names, with its path on the scope. */
  scopeListing: ScopeListing;
  /** Where the scope listing came from: a file, or `ssh <host>`. */
  scopeSource: string;
  /** Days listed over SSH (empty for a listing file). */
  scopeDays: string[];
  /** Lines of the scope listing that name no `.dat` file, and complaints from find. */
  ignoredListingLines: string[];
  /** Core names of the `.dat` files in the archive folder, for the repair. */
  archive: NameList;
}

export interface CheckOptions {
  /** A saved listing; overrides scope.listing. Without one the scope is listed over SSH. */
  listing?: string;
  /** ssh -F file; overrides scope.sshConfig. */
  sshConfig?: string;
}

export function sshTarget(tab: Tab, sshConfig?: string): SshTarget {
  return { host: tab.scope.host, configFile: sshConfig ?? tab.scope.sshConfig };
}

// The command starts the check's reads as soon as it has read the tab (startReading): the folders
// are then listed on the thread pool while this thread loads the ledger and the recipe (~0.15 s of
// its CPU, half the time the listing takes), and the check takes up the reads under way instead of
// starting its own. Each read is taken up once.
const underWay = new Map<string, Promise<unknown>>();

type Read = <T>(key: string, start: () => Promise<T>) => Promise<T>;

const begin: Read = (key, start) => {
  const p = start();
  p.catch(() => {}); // a failure is the check's to report, when it takes the read up
  underWay.set(key, p);
  return p;
};

const takeUp: Read = <T>(key: string, start: () => Promise<T>) => {
  const p = underWay.get(key) as Promise<T> | undefined;
  underWay.delete(key);
  return p ?? start();
};

/** Starts the reads of a check of the tab in `tabFile`, for runTabCheck to take up. */
export async function startReading(tabFile: string, opts: CheckOptions = {}): Promise<void> {
  let tab: Tab;
  try {
    tab = await loadTab(tabFile);
  } catch {
    return; // the check reads the tab again and says what is wrong with it
  }
  reads(tab, opts, begin);
}

/** The four stage folders, listed on the thread pool at once, and the saved scope listing if any. */
function reads(tab: Tab, opts: CheckOptions, read: Read) {
  const f = tab.folders;
  const listingFile = opts.listing ?? tab.scope.listing;
  const stage = (dir: string, suffix: string, what: string) => read(`${what}\0${dir}`, () => listStageCores(dir, suffix, what));
  return [
    stage(f.inLensPng, INLENS_SUFFIX, 'folders.inLensPng'),
    stage(f.transferredDat, DAT_SUFFIX, 'folders.transferredDat'),
    stage(f.archiveDat, DAT_SUFFIX, 'folders.archiveDat'),
    stage(f.logs, LOG_SUFFIX, 'folders.logs'),
    listingFile === undefined ? undefined : read(`listing\0${listingFile}`, () => readListing(listingFile)),
  ] as const;
}

export async function runTabCheck(tab: Tab, opts: CheckOptions = {}): Promise<TabCheck> {
  const f = tab.folders;
  const listingFile = opts.listing ?? tab.scope.listing;
  const [inLensPng, transferredDat, archiveDat, logs, savedListing] = await Promise.all(reads(tab, opts, takeUp));

  let listing: ScopeListing;
  let scopeDays: string[] = [];
  let problems: string[] = [];
  let scopeSource: string;
  if (savedListing !== undefined && listingFile !== undefined) {
    listing = savedListing;
    scopeSource = listingFile;
  } else {
    scopeDays = acquisitionDays(rangeNames(logs, tab));
    if (scopeDays.length === 0) {
      throw new FerryError(`${tab.source}: no date range to list the scope with: no logs in ${f.logs} and no expected.firstDat / lastDat`, {
        hint: 'give expected.firstDat and expected.lastDat in the tab description, or a saved listing with --scope-listing FILE',
      });
    }
    const target = sshTarget(tab, opts.sshConfig);
    const found = await findScopeDats(target, tab.scope.datRoot, scopeDays);
    listing = parseScopeListing(found.text);
    problems = found.problems;
    scopeSource = `ssh ${target.host}`;
  }

  const report = checkTab({ inLensPng, transferredDat, archiveDat, logs, scopeDat: listing.names, expected: tab.expected });
  return {
    tab: tab.tab,
    report,
    scopeListing: listing,
    scopeSource,
    scopeDays,
    ignoredListingLines: [...problems, ...listing.ignored],
    archive: archiveDat,
  };
}

/** Log names give the acquisition's days; the operator's first and last names widen them. */
function rangeNames(logs: NameList, tab: Tab): string[] {
  const names = namesOf(logs);
  for (const n of [tab.expected?.firstDat, tab.expected?.lastDat]) if (n) names.push(coreName(n, DAT_SUFFIX) ?? n);
  return names;
}

// Read at once, not with fs.promises.readFile: that reads 512 KiB per trip through the thread pool
// (twenty for a tab's listing), each trip waiting for this thread, which is busy loading modules
// while the folders are listed, and for the CPU on a loaded machine.
async function readListing(file: string): Promise<ScopeListing> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new FerryError(`scope.listing: cannot read ${file}: ${code === 'ENOENT' ? 'no such file' : (code ?? String(e))}`, {
      hint: 'check scope.listing in the tab description (relative paths are relative to the YAML file)',
      cause: e,
    });
  }
  return parseScopeListing(text);
}
