// Bundles the dependencies that Node loads as hundreds of small ES modules (Kysely: ~260 files,
// zod: ~100) into one file each, so that a `ferry` command does not pay Node's per-module cost
// (resolution, package scope lookups, linking: 100-250 ms on a loaded 2-core machine, ~60 ms on a
// quiet one) before it does anything. bin/ferry.js loads a bundle in place of the package only
// while the package's installed version is the one bundled; without bundles Ferry runs the same,
// from the packages themselves. npm's postinstall runs this; nothing is downloaded (esbuild's
// binary comes in its npm package).
//
//   node scripts/bundle-deps.mjs [--if-possible]
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const OUT = join(root, 'node_modules', '.cache', 'ferry-bundles');
/** Package -> the specifiers Ferry imports it by (bundled together, so they share one copy of its classes). */
const PACKAGES = { kysely: ['kysely', 'kysely/migration'], zod: ['zod'] };
const optional = process.argv.includes('--if-possible');

let esbuild;
try {
  esbuild = await import('esbuild');
} catch (e) {
  say(`esbuild is not installed (${e.message.split('\n')[0]})`);
  process.exit(optional ? 0 : 2);
}

const tmp = `${OUT}.tmp-${process.pid}`;
await rm(tmp, { recursive: true, force: true });
const manifest = {};
try {
  for (const [pkg, specifiers] of Object.entries(PACKAGES)) {
    const pkgJson = join(root, 'node_modules', pkg, 'package.json');
    const { version } = JSON.parse(await readFile(pkgJson, 'utf8'));
    const entries = Object.fromEntries(specifiers.map((s) => [s, fileURLToPath(import.meta.resolve(s))]));
    const outdir = join(tmp, pkg);
    const result = await esbuild.build({
      entryPoints: Object.entries(entries).map(([s, path]) => ({ in: path, out: s.replaceAll('/', '__') })),
      bundle: true,
      splitting: true,
      format: 'esm',
      platform: 'node',
      target: 'node22',
      outdir,
      outExtension: { '.js': '.mjs' },
      // Only the package itself: a dependency it imports stays the installed one, shared with Ferry.
      packages: 'external',
      logLevel: 'silent',
      metafile: true,
    });
    const outputs = Object.entries(result.metafile.outputs);
    manifest[pkg] = {
      version,
      entries: Object.fromEntries(specifiers.map((s) => {
        const [file] = outputs.find(([, o]) => o.entryPoint && join(root, o.entryPoint) === entries[s]);
        return [s, relative(OUT, join(root, file).replace(tmp, OUT))];
      })),
    };
  }
  await writeFile(join(tmp, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  await rm(OUT, { recursive: true, force: true });
  await mkdir(dirname(OUT), { recursive: true });
  await rename(tmp, OUT);
} catch (e) {
  await rm(tmp, { recursive: true, force: true });
  say(`bundling failed: ${e.message.split('\n')[0]}`);
  process.exit(optional ? 0 : 2);
}
console.log(`ferry: bundled ${Object.entries(manifest).map(([p, m]) => `${p} ${m.version}`).join(', ')} for a faster start (${pathToFileURL(OUT).pathname})`);

function say(why) {
  console.error(`ferry: dependencies not bundled (${why}); Ferry runs from the packages themselves, ~60 ms slower to start`);
}
