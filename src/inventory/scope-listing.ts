// A listing of the `.dat` files on the microscope PC, one path a line, as `find <root>/Y…/M…/D…/
// -name '*.dat'` prints it (01_gen_scope_dat_file_lists.sh writes exactly this). Blank lines and
// lines that are not `.dat` paths (error messages from find, for instance) are returned apart so the
// report can show them instead of silently dropping them.
//
// Names and paths stay in two arrays in listing order: a check reads all ~120,000 names once, and
// only a repair looks paths up, for the few tiles it fetches (scopePathsOf).

export interface ScopeListing {
  /** Base names (without `.dat`), in listing order. */
  names: string[];
  /** The full path on the scope of each of `names`. */
  paths: string[];
  /** Non-blank lines that do not name a `.dat` file. */
  ignored: string[];
}

export function parseScopeListing(text: string): ScopeListing {
  const names: string[] = [];
  const paths: string[] = [];
  const ignored: string[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line) continue;
    if (!line.endsWith('.dat')) {
      ignored.push(line);
      continue;
    }
    const base = line.slice(line.lastIndexOf('/') + 1, -'.dat'.length);
    if (base) {
      names.push(base);
      paths.push(line);
    } else ignored.push(line);
  }
  return { names, paths, ignored };
}

/** Base name -> path on the scope for the `wanted` names the listing has (the last path if it has two). */
export function scopePathsOf(listing: ScopeListing, wanted: Iterable<string>): Map<string, string> {
  const want = new Set(wanted);
  const found = new Map<string, string>();
  listing.names.forEach((name, i) => {
    if (want.has(name)) found.set(name, listing.paths[i]);
  });
  return found;
}
