// --include / --exclude. A pattern without '/' matches a file name at any depth ("*.tif"); one
// with '/' matches the whole key ("raw/**/*.dat"). Exclude always wins; with any --include, a key
// must match one of them. Order does not matter, so a command line reads the same either way.
// A pattern that cannot mean what was typed (an unclosed '[' or '{', a range written backwards) is
// refused: taken as it is, it would match nothing and the copy would end "done" having copied nothing.
import { matchesGlob } from 'node:path';
import { FerryError } from '../errors.ts';

export interface FilterRules {
  include?: string[];
  exclude?: string[];
}

export function makeFilter(rules: FilterRules): (key: string) => boolean {
  const inc = checked(rules.include, '--include');
  const exc = checked(rules.exclude, '--exclude');
  if (inc.length === 0 && exc.length === 0) return () => true;
  return (key) => !exc.some((p) => matches(key, p)) && (inc.length === 0 || inc.some((p) => matches(key, p)));
}

/**
 * For a folder key ("raw/private/"): false only when an exclude pattern leaves out everything in
 * it, so that a folder that could not be read is reported unless the user excluded all it holds.
 */
export function makeFolderFilter(rules: FilterRules): (folderKey: string) => boolean {
  const exc = checked(rules.exclude, '--exclude');
  return (folder) => !exc.some((p) => matches(`${folder}x`, p) && matches(`${folder}x/y`, p));
}

function matches(key: string, pattern: string): boolean {
  const target = pattern.includes('/') ? key : key.slice(key.lastIndexOf('/') + 1);
  return matchesGlob(target, pattern.replace(/^\//, ''));
}

/** The patterns, each refused with a usage error if it cannot mean what was typed. */
function checked(patterns: string[] | undefined, flag: string): string[] {
  for (const p of patterns ?? []) {
    const problem = patternProblem(p);
    if (problem) {
      throw new FerryError(`${flag} ${JSON.stringify(p)}: ${problem}`, {
        hint: 'write [[] [{] [}] for a literal bracket or brace (a backslash does not escape); see "Filters" in the README',
        kind: 'usage',
      });
    }
  }
  return patterns ?? [];
}

const POSIX_CLASSES = new Set(['alnum', 'alpha', 'ascii', 'blank', 'cntrl', 'digit', 'graph', 'lower', 'print', 'punct', 'space', 'upper', 'word', 'xdigit']);

/** What is wrong with a glob pattern, or undefined when it is well formed. */
export function patternProblem(p: string): string | undefined {
  if (p === '' || p === '/') return 'an empty pattern matches nothing';
  let braces = 0;
  for (let i = 0; i < p.length; i++) {
    const c = p[i];
    if (c === '{') {
      braces++;
    } else if (c === '}') {
      if (braces === 0) return "a '}' closes no '{'";
      braces--;
    } else if (c === '[') {
      const end = classEnd(p, i);
      if (typeof end === 'string') return end;
      i = end;
    }
  }
  if (braces > 0) return "a '{' is never closed";
  return undefined;
}

/** Index of the ']' that closes the class opened at `start`, or what is wrong with the class. */
function classEnd(p: string, start: number): number | string {
  let i = start + 1;
  if (p[i] === '!' || p[i] === '^') i++;
  if (p[i] === ']') i++; // a ']' first in a class is a member
  let prev: string | undefined;
  for (; i < p.length; i++) {
    const c = p[i];
    if (c === ']') return i;
    if (c === '/') break;
    if (c === '[' && p[i + 1] === ':') {
      const close = p.indexOf(':]', i + 2);
      if (close < 0) break;
      const name = p.slice(i + 2, close);
      if (!POSIX_CLASSES.has(name)) return `[:${name}:] is not a character class`;
      i = close + 1;
      prev = undefined;
      continue;
    }
    if (c === '-' && prev !== undefined && p[i + 1] !== ']' && i + 1 < p.length) {
      const to = p[i + 1];
      if (to < prev) return `the range ${prev}-${to} runs backwards`;
      i++;
      prev = undefined;
      continue;
    }
    prev = p[i];
  }
  return "a '[' is never closed";
}
