// A sorted list of distinct names packed into one string, each name followed by a NUL: how the
// tab check holds a stage of ~120,000 tiles. One string and one offset array are two objects for
// the garbage collector where 120,000 strings are 120,000 (copied by every young-generation
// collection they live through); names are compared in place and only the few a report prints
// become strings of their own.
//
// Order is JavaScript's `<` (by UTF-16 code unit), as the check's merges and Python's sorted()
// compare, except past U+FFFF.

export interface NameList {
  /** Every name followed by a NUL. */
  readonly text: string;
  /** Where each name starts in `text`, then `text.length`: name i is text[starts[i], starts[i + 1] - 1). */
  readonly starts: Int32Array;
}

const SEP = '\0';

export function countOf(l: NameList): number {
  return l.starts.length - 1;
}

export function nameAt(l: NameList, i: number): string {
  return l.text.slice(l.starts[i], l.starts[i + 1] - 1);
}

export function namesOf(l: NameList): string[] {
  return l.text.length === 0 ? [] : l.text.slice(0, -1).split(SEP);
}

/** Name i of `a` against name j of `b`: negative, 0 or positive, as `<` orders them. */
export function compareAt(a: NameList, i: number, b: NameList, j: number): number {
  let p = a.starts[i];
  let q = b.starts[j];
  const pEnd = a.starts[i + 1] - 1;
  const qEnd = b.starts[j + 1] - 1;
  const at = a.text;
  const bt = b.text;
  for (; p < pEnd && q < qEnd; p++, q++) {
    const d = at.charCodeAt(p) - bt.charCodeAt(q);
    if (d !== 0) return d;
  }
  return pEnd - p - (qEnd - q);
}

/**
 * Names given as `text`, each followed by a NUL and none containing one (file names from
 * native/listdir, sorted by their UTF-8 bytes), as a NameList. UTF-8's byte order is the order of
 * code points, which `<` follows up to U+FFFF: only text with a character past it (a surrogate) or
 * with bytes that were not UTF-8 (decoded as U+FFFD) is checked, and sorted if need be.
 */
export function fromPacked(text: string): NameList {
  let n = 0;
  for (let p = text.indexOf(SEP); p >= 0; p = text.indexOf(SEP, p + 1)) n++;
  const starts = new Int32Array(n + 1);
  for (let i = 1, p = text.indexOf(SEP); p >= 0; p = text.indexOf(SEP, p + 1)) starts[i++] = p + 1;
  const l = { text, starts };
  return !/[\ud800-\udfff\ufffd]/.test(text) || isAscending(l) ? l : fromNames(namesOf(l));
}

/** Any names, in any order, repeated or not; none may contain a NUL (no file name can). */
export function fromNames(names: string[]): NameList {
  const sorted = isAscendingArray(names) ? names : [...new Set(names)].sort();
  const starts = new Int32Array(sorted.length + 1);
  let at = 0;
  for (let i = 0; i < sorted.length; i++) {
    if (sorted[i].includes(SEP)) throw new Error(`a name with a NUL character cannot be listed: ${JSON.stringify(sorted[i])}`);
    at += sorted[i].length + 1;
    starts[i + 1] = at;
  }
  return { text: sorted.length === 0 ? '' : sorted.join(SEP) + SEP, starts };
}

// Stages mostly hold the same names: runs of RUN names that are the same text in both lists are
// passed over with one string comparison (memcmp, on slices that copy nothing), and only the runs
// around a difference are merged name by name.
const RUN = 64;

/** The names of `a` that `b` lacks, in order. */
export function difference(a: NameList, b: NameList): string[] {
  const out: string[] = [];
  const na = countOf(a);
  const nb = countOf(b);
  let i = 0;
  let j = 0;
  while (i < na) {
    if (i + RUN <= na && j + RUN <= nb && sameRun(a, i, b, j)) {
      i += RUN;
      j += RUN;
      continue;
    }
    let c = 1;
    while (j < nb && (c = compareAt(b, j, a, i)) < 0) j++;
    if (j < nb && c === 0) j++;
    else out.push(nameAt(a, i));
    i++;
  }
  return out;
}

function sameRun(a: NameList, i: number, b: NameList, j: number): boolean {
  const from = a.starts[i];
  const to = a.starts[i + RUN];
  const bFrom = b.starts[j];
  return to - from === b.starts[j + RUN] - bFrom && a.text.slice(from, to) === b.text.slice(bFrom, bFrom + to - from);
}

function isAscending(l: NameList): boolean {
  for (let i = 1, n = countOf(l); i < n; i++) if (compareAt(l, i - 1, l, i) >= 0) return false;
  return true;
}

function isAscendingArray(names: string[]): boolean {
  for (let i = 1; i < names.length; i++) if (!(names[i - 1] < names[i])) return false;
  return true;
}
