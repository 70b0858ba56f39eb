// Loads the single-file bundles scripts/bundle-deps.mjs made at install (Kysely, zod) in place of
// the packages' hundreds of modules, which cost a command ~60 ms of Node's per-module work before
// it does anything. A bundle is used only while its package's installed version is the one
// bundled; anything else (no bundles, a package updated since, an unreadable manifest) loads the
// packages themselves, as Ferry did before.
import { readFileSync } from 'node:fs';
import module from 'node:module';

/** What scripts/bundle-deps.mjs bundled: per package, its version and specifier -> file. */
interface Manifest {
  [pkg: string]: { version: string; entries: Record<string, string> };
}

/** Specifier -> bundle file URL, for the bundles in `dir` that match what `nodeModules` holds. */
export function bundledDeps(dir: URL, nodeModules: URL): Map<string, string> {
  let manifest: Manifest;
  try {
    manifest = JSON.parse(readFileSync(new URL('manifest.json', dir), 'utf8'));
  } catch {
    return new Map();
  }
  const map = new Map<string, string>();
  for (const [pkg, { version, entries }] of Object.entries(manifest)) {
    let installed: string;
    try {
      installed = JSON.parse(readFileSync(new URL(`${pkg}/package.json`, nodeModules), 'utf8')).version;
    } catch {
      continue;
    }
    if (installed !== version) continue;
    for (const [specifier, file] of Object.entries(entries)) map.set(specifier, new URL(file, dir).href);
  }
  return map;
}

/** Makes `import 'kysely'` (and the other bundled specifiers) load the bundles, in this process. */
export function useBundledDeps(root: URL = new URL('../', import.meta.url)): void {
  if (typeof module.registerHooks !== 'function') return;
  const nodeModules = new URL('node_modules/', root);
  const map = bundledDeps(new URL('.cache/ferry-bundles/', nodeModules), nodeModules);
  if (!map.size) return;
  module.registerHooks({
    resolve(specifier, context, next) {
      const url = map.get(specifier);
      return url ? { url, format: 'module', shortCircuit: true } : next(specifier, context);
    },
  });
}

