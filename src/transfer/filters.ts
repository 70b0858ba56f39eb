// --include / --exclude. A pattern without '/' matches a file name at any depth ("*.tif"); one
// with '/' matches the whole key ("raw/**/*.dat"). Exclude always wins; with any --include, a key
// must match one of them. Order does not matter, so a command line reads the same either way.
import { matchesGlob } from 'node:path';

export interface FilterRules {
  include?: string[];
  exclude?: string[];
}

export function makeFilter(rules: FilterRules): (key: string) => boolean {
  const inc = rules.include ?? [];
  const exc = rules.exclude ?? [];
  if (inc.length === 0 && exc.length === 0) return () => true;
  const matches = (key: string, pattern: string) => {
    const target = pattern.includes('/') ? key : key.slice(key.lastIndexOf('/') + 1);
    return matchesGlob(target, pattern.replace(/^\//, ''));
  };
  return (key) => !exc.some((p) => matches(key, p)) && (inc.length === 0 || inc.some((p) => matches(key, p)));
}
