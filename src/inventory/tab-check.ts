// The FlyEM transfer check (EM_recon_pipeline check_tabs.py) as a pure function over file names,
// plus what check_tabs left to e-mail: the first and last `.dat` names and the count, against what
// the microscope operator expects.
//
// Every stage is reduced to a set of core names; then
//   transferred = transferred dat ∪ archived dat
//   missing png = scope − png,  missing dat = scope − transferred,  unarchived = transferred dat − archived
// where "scope" is the scope's standard names within the acquisition's name range.
import { DAT_SUFFIX, INLENS_SUFFIX, LOG_SUFFIX, coreName, isStandardCore } from '../formats/fibsem/names.ts';

export interface TabFiles {
  /** File names (or paths) found in each stage's folder. */
  inLensPng: Iterable<string>;
  transferredDat: Iterable<string>;
  archiveDat: Iterable<string>;
  logs: Iterable<string>;
  /** Base names (without `.dat`) listed on the scope. */
  scopeDat: Iterable<string>;
  expected?: Expected;
}

export interface Expected {
  /** `.dat` names as the operator gives them, with or without the extension. */
  firstDat?: string;
  lastDat?: string;
  count?: number;
}

export interface Comparison<T> {
  actual: T | undefined;
  expected: T | undefined;
  /** undefined when nothing was expected. */
  ok: boolean | undefined;
}

export interface TabReport {
  counts: { inLensPng: number; transferredDat: number; archivedDat: number; scopeDat: number; logs: number };
  /** Core names bounding the scope listing, inclusive; undefined ends are open. */
  range: { first: string | undefined; last: string | undefined };
  missingInLensPng: string[];
  missingDat: string[];
  unarchivedDat: string[];
  nonStandardDat: string[];
  /** First and last archived `.dat` and their count (what list_first_and_last_dats.sh shows). */
  firstDat: Comparison<string>;
  lastDat: Comparison<string>;
  datCount: Comparison<number>;
  /** Nothing missing or unarchived, and every expectation given is met. */
  complete: boolean;
}

export function checkTab(files: TabFiles): TabReport {
  const png = sortedCores(files.inLensPng, INLENS_SUFFIX);
  const dm11 = sortedCores(files.transferredDat, DAT_SUFFIX);
  const archived = sortedCores(files.archiveDat, DAT_SUFFIX);
  const logs = sortedCores(files.logs, LOG_SUFFIX);

  const expected = files.expected ?? {};
  const expectedFirst = expected.firstDat === undefined ? undefined : stripDat(expected.firstDat);
  const expectedLast = expected.lastDat === undefined ? undefined : stripDat(expected.lastDat);
  const range = scopeRange(logs, expectedFirst, expectedLast);

  const scope: string[] = [];
  const nonStandardDat: string[] = [];
  for (const name of sortedUnique([...files.scopeDat])) {
    if (range.first !== undefined && name < range.first) continue;
    if (range.last !== undefined && name > range.last) break;
    (isStandardCore(name) ? scope : nonStandardDat).push(name);
  }

  // transferred = transferred dat ∪ archived; what is not archived is all it adds.
  const unarchivedDat = difference(dm11, archived);
  const missingInLensPng = difference(scope, png);
  const missingDat = difference(difference(scope, archived), unarchivedDat);

  const firstDat = compare(archived[0], expectedFirst);
  const lastDat = compare(archived.at(-1), expectedLast);
  const datCount = compare(archived.length, expected.count);

  return {
    counts: { inLensPng: png.length, transferredDat: archived.length + unarchivedDat.length, archivedDat: archived.length, scopeDat: scope.length, logs: logs.length },
    range,
    missingInLensPng,
    missingDat,
    unarchivedDat,
    nonStandardDat,
    firstDat,
    lastDat,
    datCount,
    complete:
      missingInLensPng.length === 0 &&
      missingDat.length === 0 &&
      unarchivedDat.length === 0 &&
      firstDat.ok !== false &&
      lastDat.ok !== false &&
      datCount.ok !== false,
  };
}

/**
 * The scope PC holds other acquisitions too, so only names between the first and last log count
 * (as check_tabs does). When the operator names the first and last tile, the range widens to
 * include them: tiles missed at either end have no log, and would otherwise never be reported.
 */
function scopeRange(logs: string[], expectedFirst: string | undefined, expectedLast: string | undefined) {
  const first = logs[0];
  const last = logs.at(-1);
  return {
    first: expectedFirst !== undefined && (first === undefined || expectedFirst < first) ? expectedFirst : first,
    last: expectedLast !== undefined && (last === undefined || expectedLast > last) ? expectedLast : last,
  };
}

// Sets of ~120,000 names are compared as sorted arrays: merging them reads memory in order, where
// hashing each name into a Set and looking it up in another costs a few cache misses per name
// (three times the CPU on a tab, bench/fibsem-check.ts). Folder listings arrive sorted already
// (fs.readdir returns names in byte order, and tile names end alike), so sorting is mostly a check.

/** The stage's core names, sorted by code unit, each once. */
function sortedCores(names: Iterable<string>, suffix: string): string[] {
  const cores: string[] = [];
  for (const n of names) {
    const core = coreName(n, suffix);
    if (core !== undefined) cores.push(core);
  }
  return sortedUnique(cores);
}

/** `names` when each is greater than the one before; else a sorted copy without repeats. */
function sortedUnique(names: string[]): string[] {
  for (let i = 1; i < names.length; i++) {
    if (!(names[i - 1] < names[i])) return [...new Set(names)].sort(byCodeUnit);
  }
  return names;
}

/** a − b, both sorted and without repeats. */
function difference(a: string[], b: string[]): string[] {
  const out: string[] = [];
  let j = 0;
  for (const x of a) {
    while (j < b.length && b[j] < x) j++;
    if (j === b.length || b[j] !== x) out.push(x);
  }
  return out;
}

function compare<T>(actual: T | undefined, expected: T | undefined): Comparison<T> {
  return { actual, expected, ok: expected === undefined ? undefined : actual === expected };
}

function stripDat(name: string): string {
  return coreName(name, DAT_SUFFIX) ?? name;
}

// Python's sorted() on str: by code point, not locale, so the order matches check_tabs.
function byCodeUnit(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
