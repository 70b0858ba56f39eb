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
  const png = coreSet(files.inLensPng, INLENS_SUFFIX);
  const dm11 = coreSet(files.transferredDat, DAT_SUFFIX);
  const archived = coreSet(files.archiveDat, DAT_SUFFIX);
  const logs = coreSet(files.logs, LOG_SUFFIX);

  const expected = files.expected ?? {};
  const expectedFirst = expected.firstDat === undefined ? undefined : stripDat(expected.firstDat);
  const expectedLast = expected.lastDat === undefined ? undefined : stripDat(expected.lastDat);
  const range = scopeRange(logs, expectedFirst, expectedLast);

  const scope = new Set<string>();
  const nonStandard = new Set<string>();
  for (const name of files.scopeDat) {
    if (range.first !== undefined && name < range.first) continue;
    if (range.last !== undefined && name > range.last) continue;
    (isStandardCore(name) ? scope : nonStandard).add(name);
  }

  const transferred = new Set([...dm11, ...archived]);
  const missingInLensPng = sortedDifference(scope, png);
  const missingDat = sortedDifference(scope, transferred);
  const unarchivedDat = sortedDifference(dm11, archived);

  const archivedSorted = [...archived].sort(byCodeUnit);
  const firstDat = compare(archivedSorted[0], expectedFirst);
  const lastDat = compare(archivedSorted.at(-1), expectedLast);
  const datCount = compare(archived.size, expected.count);

  return {
    counts: { inLensPng: png.size, transferredDat: transferred.size, archivedDat: archived.size, scopeDat: scope.size, logs: logs.size },
    range,
    missingInLensPng,
    missingDat,
    unarchivedDat,
    nonStandardDat: [...nonStandard].sort(byCodeUnit),
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
function scopeRange(logs: Set<string>, expectedFirst: string | undefined, expectedLast: string | undefined) {
  let first = expectedFirst;
  let last = expectedLast;
  for (const name of logs) {
    if (first === undefined || name < first) first = name;
    if (last === undefined || name > last) last = name;
  }
  return { first, last };
}

function coreSet(names: Iterable<string>, suffix: string): Set<string> {
  const set = new Set<string>();
  for (const n of names) {
    const core = coreName(n, suffix);
    if (core !== undefined) set.add(core);
  }
  return set;
}

function sortedDifference(a: Set<string>, b: Set<string>): string[] {
  const out: string[] = [];
  for (const x of a) if (!b.has(x)) out.push(x);
  return out.sort(byCodeUnit);
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
