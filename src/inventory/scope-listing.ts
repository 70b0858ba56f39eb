// A listing of the `.dat` files on the microscope PC, one path a line, as `find <root>/Y…/M…/D…/
// -name '*.dat'` prints it (01_gen_scope_dat_file_lists.sh writes exactly this). Blank lines and
// lines that are not `.dat` paths (error messages from find, for instance) are returned apart so the
// report can show them instead of silently dropping them.
//
// A check reads all ~120,000 names once; only a repair looks paths up, for the few tiles it
// fetches (scopePathsOf). So a name is the one string made per line, and its path is kept as its
// place in the text: 120,000 fewer strings for the garbage collector to copy.

export interface ScopeListing {
  /** Base names (without `.dat`), in listing order. */
  names: string[];
  /** Non-blank lines that do not name a `.dat` file. */
  ignored: string[];
  /** The listing, and where the path of each of `names` is in it: text[pathStarts[i], pathEnds[i]). */
  text: string;
  pathStarts: number[];
  pathEnds: number[];
}

const DAT = '.dat';

export function parseScopeListing(text: string): ScopeListing {
  const names: string[] = [];
  const pathStarts: number[] = [];
  const pathEnds: number[] = [];
  const ignored: string[] = [];
  // No path has a NUL in it: a line with one is not a path (and names must not hold one, name-list.ts).
  const hasNul = text.includes('\0');
  for (let from = 0; from < text.length; ) {
    let to = text.indexOf('\n', from);
    if (to < 0) to = text.length;
    // Trimmed as String.prototype.trim would, without making the trimmed copy when nothing is trimmed.
    let a = from;
    let b = to;
    if (isSpace(text, a) || isSpace(text, b - 1)) {
      const line = text.slice(a, b);
      const trimmed = line.trim();
      if (trimmed) {
        a += line.indexOf(trimmed);
        b = a + trimmed.length;
      } else b = a;
    }
    from = to + 1;
    if (a === b) continue;
    const slash = text.lastIndexOf('/', b - 1);
    const base = slash < a ? a : slash + 1;
    if (text.startsWith(DAT, b - DAT.length) && b - DAT.length > base && !(hasNul && text.slice(a, b).includes('\0'))) {
      names.push(text.slice(base, b - DAT.length));
      pathStarts.push(a);
      pathEnds.push(b);
    } else ignored.push(text.slice(a, b));
  }
  return { names, ignored, text, pathStarts, pathEnds };
}

/** A character String.prototype.trim removes (what /\s/ matches). */
function isSpace(text: string, i: number): boolean {
  const c = text.charCodeAt(i);
  return c === 32 || (c >= 9 && c <= 13) || (c >= 0xa0 && /\s/.test(text[i]));
}

/** Base name -> path on the scope for the `wanted` names the listing has (the last path if it has two). */
export function scopePathsOf(listing: ScopeListing, wanted: Iterable<string>): Map<string, string> {
  const want = new Set(wanted);
  const found = new Map<string, string>();
  listing.names.forEach((name, i) => {
    if (want.has(name)) found.set(name, listing.text.slice(listing.pathStarts[i], listing.pathEnds[i]));
  });
  return found;
}
