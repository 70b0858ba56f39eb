// `ferry fibsem check`: lists every stage of a tab and reduces it to the check_tabs report. The
// local stages are listed in parallel; the scope comes from a saved listing when one is given,
// otherwise from `find` over SSH for the acquisition's days (which needs the logs listed first).
import { readFileSync } from 'node:fs';
import { FerryError } from '../../errors.ts';
import { listFolderNames } from '../../inventory/list-folder.ts';
import { acquisitionDays, findScopeDats } from '../../inventory/scope-find.ts';
import { parseScopeListing } from '../../inventory/scope-listing.ts';
import type { ScopeListing } from '../../inventory/scope-listing.ts';
import type { SshTarget } from '../../inventory/ssh.ts';
import { checkTab } from '../../inventory/tab-check.ts';
import type { TabReport } from '../../inventory/tab-check.ts';
import { DAT_SUFFIX, LOG_SUFFIX, coreName } from '../../formats/fibsem/names.ts';
import type { Tab } from './tab.ts';

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
  /** File names in the archive folder, for the repair. */
  archiveNames: string[];
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

export async function runTabCheck(tab: Tab, opts: CheckOptions = {}): Promise<TabCheck> {
  const f = tab.folders;
  const listingFile = opts.listing ?? tab.scope.listing;
  // The folders are read on the thread pool; the saved listing is read and parsed meanwhile, on this
  // thread, which would otherwise wait.
  const [inLensPng, transferredDat, archiveDat, logs, savedListing] = await Promise.all([
    listFolderNames(f.inLensPng, 'folders.inLensPng'),
    listFolderNames(f.transferredDat, 'folders.transferredDat'),
    listFolderNames(f.archiveDat, 'folders.archiveDat'),
    listFolderNames(f.logs, 'folders.logs'),
    listingFile === undefined ? undefined : readListing(listingFile),
  ]);

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
    archiveNames: archiveDat,
  };
}

/** Log names give the acquisition's days; the operator's first and last names widen them. */
function rangeNames(logs: string[], tab: Tab): string[] {
  const names = logs.map((l) => coreName(l, LOG_SUFFIX)).filter((n): n is string => n !== undefined);
  for (const n of [tab.expected?.firstDat, tab.expected?.lastDat]) if (n) names.push(coreName(n, DAT_SUFFIX) ?? n);
  return names;
}

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
