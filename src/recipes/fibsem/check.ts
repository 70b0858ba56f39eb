// `ferry fibsem check`: lists every stage of a tab and reduces it to the check_tabs report. Stages
// are listed in parallel; the scope comes from a saved listing (the SSH listing is a later step).
import { readFile } from 'node:fs/promises';
import { FerryError } from '../../errors.ts';
import { listFolderNames } from '../../inventory/list-folder.ts';
import { parseScopeListing } from '../../inventory/scope-listing.ts';
import { checkTab } from '../../inventory/tab-check.ts';
import type { TabReport } from '../../inventory/tab-check.ts';
import type { Tab } from './tab.ts';

export interface TabCheck {
  tab: string;
  report: TabReport;
  /** Lines of the scope listing that name no `.dat` file. */
  ignoredListingLines: string[];
}

export async function runTabCheck(tab: Tab, scopeListing = tab.scope.listing): Promise<TabCheck> {
  if (scopeListing === undefined) {
    throw new FerryError(`${tab.source}: no scope listing to check against`, {
      hint: 'set scope.listing in the tab description or pass --scope-listing FILE (a `find ... -name "*.dat"` output from the scope PC)',
    });
  }
  const f = tab.folders;
  const [inLensPng, transferredDat, archiveDat, logs, listingText] = await Promise.all([
    listFolderNames(f.inLensPng, 'folders.inLensPng'),
    listFolderNames(f.transferredDat, 'folders.transferredDat'),
    listFolderNames(f.archiveDat, 'folders.archiveDat'),
    listFolderNames(f.logs, 'folders.logs'),
    readListing(scopeListing),
  ]);
  const listing = parseScopeListing(listingText);
  const report = checkTab({ inLensPng, transferredDat, archiveDat, logs, scopeDat: listing.paths.keys(), expected: tab.expected });
  return { tab: tab.tab, report, ignoredListingLines: listing.ignored };
}

async function readListing(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new FerryError(`scope.listing: cannot read ${file}: ${code === 'ENOENT' ? 'no such file' : (code ?? String(e))}`, {
      hint: 'check scope.listing in the tab description (relative paths are relative to the YAML file)',
      cause: e,
    });
  }
}
