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
  for (const name of sortedUnique(Array.isArray(files.scopeDat) ? files.scopeDat : [...files.scopeDat])) {
    if (range.first !== undefined && name < range.first) continue;
    if (range.last !== undefined && name > range.last) break;
    (isStandardCore(name) ? scope : nonStandardDat).push(name);
  }
  const scopeCores = { names: scope, cut: 0, byName: true };

  // transferred = transferred dat ∪ archived; what is not archived is all it adds.
  const unarchivedDat = difference(dm11, archived);
  const missingInLensPng = difference(scopeCores, png);
  const missingDat = difference({ names: difference(scopeCores, archived), cut: 0, byName: true }, { names: unarchivedDat, cut: 0, byName: true });

  const firstDat = compare(first(archived), expectedFirst);
  const lastDat = compare(last(archived), expectedLast);
  const datCount = compare(archived.names.length, expected.count);

  return {
    counts: { inLensPng: png.names.length, transferredDat: archived.names.length + unarchivedDat.length, archivedDat: archived.names.length, scopeDat: scope.length, logs: logs.names.length },
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
// per name (several times the CPU, bench/fibsem-check.ts). fs.readdir returns names in byte order,
// so sorting is mostly a check; and a core name is cut from its file name only for the moment it is
// compared, so that 480,000 of them are never kept alive for the garbage collector to copy.

/** A stage's tiles: file names sorted by core name, each once. */
interface Stage {
  names: string[];
  /** How many characters end each name past its core: the suffix, or 0 once names are cut to cores. */
  cut: number;
  /** The names are in order as whole strings too, so two stages with one suffix merge on them. */
  byName: boolean;
}

function coreAt(s: Stage, i: number): string {
  return s.cut === 0 ? s.names[i] : s.names[i].slice(0, -s.cut);
}

const first = (s: Stage) => (s.names.length === 0 ? undefined : coreAt(s, 0));
const last = (s: Stage) => (s.names.length === 0 ? undefined : coreAt(s, s.names.length - 1));

const isStageFile = (name: string, suffix: string) => name.length > suffix.length && name.endsWith(suffix) && !name.includes('/');

function stage(fileNames: Iterable<string>, suffix: string): Stage {
  const listed = Array.isArray(fileNames) ? fileNames : [...fileNames];
  // A folder listing is usually nothing but the stage's files: then it is the stage, uncopied.
  const names = listed.every((n) => isStageFile(n, suffix)) ? listed : listed.map((n) => n.slice(n.lastIndexOf('/') + 1)).filter((n) => isStageFile(n, suffix));
  const cut = suffix.length;
  let byName = true;
  for (let i = 1; i < names.length; i++) {
    const a = names[i - 1];
    const b = names[i];
    const wholeOrdered = a < b;
    // Names of one length with one suffix are in the order of their cores.
    const coreOrdered = a.length === b.length ? wholeOrdered : a.slice(0, -cut) < b.slice(0, -cut);
    if (!coreOrdered) return { names: sortedUnique(names.map((n) => n.slice(0, -cut))), cut: 0, byName: true };
    byName &&= wholeOrdered;
  }
  return { names, cut, byName };
}

/** `names` when each is greater than the one before; else a sorted copy without repeats. */
function sortedUnique(names: string[]): string[] {
  for (let i = 1; i < names.length; i++) {
    // The default sort orders by UTF-16 code unit: by code point, as Python's sorted() does and
    // check_tabs prints, except past U+FFFF.
    if (!(names[i - 1] < names[i])) return [...new Set(names)].sort();
  }
  return names;
}

/** The cores of `a` that `b` lacks, in order. */
function difference(a: Stage, b: Stage): string[] {
  // Whole names compare as their cores do when both stages are in name order with one suffix.
  const whole = a.cut === b.cut && a.byName && b.byName;
  const key = (s: Stage, i: number) => (whole ? s.names[i] : coreAt(s, i));
  const out: string[] = [];
  let j = 0;
  let next = b.names.length > 0 ? key(b, 0) : undefined;
  for (let i = 0; i < a.names.length; i++) {
    const x = key(a, i);
    while (next !== undefined && next < x) next = ++j < b.names.length ? key(b, j) : undefined;
    if (next !== x) out.push(coreAt(a, i));
  }
  return out;
}

function compare<T>(actual: T | undefined, expected: T | undefined): Comparison<T> {
  return { actual, expected, ok: expected === undefined ? undefined : actual === expected };
}

function stripDat(name: string): string {
  return coreName(name, DAT_SUFFIX) ?? name;
}
