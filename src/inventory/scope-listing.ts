// A listing of the `.dat` files on the microscope PC, one path a line, as `find <root>/Y…/M…/D…/
// -name '*.dat'` prints it (01_gen_scope_dat_file_lists.sh writes exactly this). Blank lines and
// lines that are not `.dat` paths (error messages from find, for instance) are returned apart so the
// report can show them instead of silently dropping them.

export interface ScopeListing {
  /** Base name (without `.dat`) -> full path on the scope. */
  paths: Map<string, string>;
  /** Non-blank lines that do not name a `.dat` file. */
  ignored: string[];
}

export function parseScopeListing(text: string): ScopeListing {
  const paths = new Map<string, string>();
  const ignored: string[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line) continue;
    if (!line.endsWith('.dat')) {
      ignored.push(line);
      continue;
    }
    const base = line.slice(line.lastIndexOf('/') + 1, -'.dat'.length);
    if (base) paths.set(base, line);
    else ignored.push(line);
  }
  return { paths, ignored };
}
