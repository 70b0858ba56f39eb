// The FlyEM transfer check (EM_recon_pipeline check_tabs.py) as a pure function over file names,
// plus what check_tabs left to e-mail: the first and last `.dat` names and the count, against what
// the microscope operator expects.
//
// Every stage is reduced to a set of core names; then
//   transferred = transferred dat ∪ archived dat
//   missing png = scope − png,  missing dat = scope − transferred,  unarchived = transferred dat − archived
// where "scope" is the scope's standard names within the acquisition's name range.
import { DAT_SUFFIX, INLENS_SUFFIX, LOG_SUFFIX, coreName, isStandardCore } from '../formats/fibsem/names.ts';
import { countOf, difference, fromNames, nameAt } from './name-list.ts';
import type { NameList } from './name-list.ts';

/** File names (or paths) found in a stage's folder, or its tiles' core names as a NameList (stage-folder.ts). */
export type StageFiles = Iterable<string> | NameList;

export interface TabFiles {
  inLensPng: StageFiles;
  transferredDat: StageFiles;
  archiveDat: StageFiles;
  logs: StageFiles;
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
  const png = stage(files.inLensPng, INLENS_SUFFIX);
  const dm11 = stage(files.transferredDat, DAT_SUFFIX);
  const archived = stage(files.archiveDat, DAT_SUFFIX);
  const logs = stage(files.logs, LOG_SUFFIX);

  const expected = files.expected ?? {};
  const expectedFirst = expected.firstDat === undefined ? undefined : stripDat(expected.firstDat);
  const expectedLast = expected.lastDat === undefined ? undefined : stripDat(expected.lastDat);
  const range = scopeRange(first(logs), last(logs), expectedFirst, expectedLast);

  const scope: string[] = [];
  const nonStandardDat: string[] = [];
  const scopeNames = Array.isArray(files.scopeDat) ? files.scopeDat : [...files.scopeDat];
  // Names in order are taken as they come; only a listing out of order is sorted (fromNames).
  const ordered = scopeNames.every((n, i) => i === 0 || scopeNames[i - 1] < n) ? scopeNames : [...new Set(scopeNames)].sort();
  const { first: from, last: to } = range;
  const end = to === undefined ? ordered.length : countWhile(ordered, (n) => n <= to);
  for (let i = from === undefined ? 0 : countWhile(ordered, (n) => n < from); i < end; i++) {
    (isStandardCore(ordered[i]) ? scope : nonStandardDat).push(ordered[i]);
  }
  const scopeCores = fromNames(scope);

  // transferred = transferred dat ∪ archived; what is not archived is all it adds.
  const unarchivedDat = difference(dm11, archived);
  const missingInLensPng = difference(scopeCores, png);
  const missingDat = difference(fromNames(difference(scopeCores, archived)), fromNames(unarchivedDat));

  const firstDat = compare(first(archived), expectedFirst);
  const lastDat = compare(last(archived), expectedLast);
  const datCount = compare(countOf(archived), expected.count);

  return {
    counts: { inLensPng: countOf(png), transferredDat: countOf(archived) + unarchivedDat.length, archivedDat: countOf(archived), scopeDat: scope.length, logs: countOf(logs) },
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
function scopeRange(firstLog: string | undefined, lastLog: string | undefined, expectedFirst: string | undefined, expectedLast: string | undefined) {
  return {
    first: expectedFirst !== undefined && (firstLog === undefined || expectedFirst < firstLog) ? expectedFirst : firstLog,
    last: expectedLast !== undefined && (lastLog === undefined || expectedLast > lastLog) ? expectedLast : lastLog,
  };
}

// The stages (~120,000 names each) are compared as sorted lists: merging them reads memory in
// order, where hashing every name into a Set and looking it up in another costs a few cache misses
// per name (several times the CPU, bench/fibsem-check.ts). A stage listed by stage-folder.ts comes
// as a NameList, sorted, one string for all its names (name-list.ts says why).

const first = (l: NameList) => (countOf(l) === 0 ? undefined : nameAt(l, 0));
const last = (l: NameList) => (countOf(l) === 0 ? undefined : nameAt(l, countOf(l) - 1));

const isNameList = (files: StageFiles): files is NameList => (files as NameList).starts instanceof Int32Array;

/** A stage's tiles: its core names, sorted, each once. */
function stage(files: StageFiles, suffix: string): NameList {
  if (isNameList(files)) return files;
  const cores: string[] = [];
  for (const path of files) {
    const core = coreName(path, suffix);
    if (core !== undefined) cores.push(core);
  }
  return fromNames(cores);
}

/** How many names at the start of `sorted` pass `test`, which holds up to some name and not after it. */
function countWhile(sorted: string[], test: (name: string) => boolean): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (test(sorted[mid])) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function compare<T>(actual: T | undefined, expected: T | undefined): Comparison<T> {
  return { actual, expected, ok: expected === undefined ? undefined : actual === expected };
}

function stripDat(name: string): string {
  return coreName(name, DAT_SUFFIX) ?? name;
}
