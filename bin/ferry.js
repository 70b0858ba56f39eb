#!/bin/sh
':' //; p=$(readlink -f "$0"); n="${p%/*}/../node_modules/node/bin/node"; [ -x "$n" ] || n=node; exec "$n" --min-semi-space-size=8 --max-semi-space-size=8 "$p" "$@"
// Run as a program, this file is first read by sh (the line above; to JavaScript it is a string and
// a comment): sh replaces itself with the Node 24 that `npm install` put in node_modules (or the
// `node` on PATH when there is none), so the process a user sees, signals and kills is the one that
// does the work, whatever `node` is first on PATH. Ferry runs its TypeScript sources directly: Node
// >= 22.18 strips types without a build step.
// --max-semi-space-size: V8 otherwise grows its young generation to ~130 MB in any run that lasts
// (a re-sync of 100,000 files or more), which would be most of Ferry's memory; 8 MB halves cost no
// measurable time in the transfer benchmarks. Starting at that size (--min-semi-space-size) spares
// a command's start-up four of its six young-generation collections (`ferry relion start`: ~20 ms).
// Both can only be given at start-up (setting them from node:v8 later does nothing), so here and in
// the hand-over below; `node bin/ferry.js` runs without them.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import module from 'node:module';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

if (!process.features.typescript) {
  const pinned = fileURLToPath(new URL('../node_modules/node/bin/node', import.meta.url));
  if (!existsSync(pinned)) {
    process.stderr.write(`ferry: Node ${process.version} cannot run Ferry (it needs >= 22.18); run \`npm install\` in ${fileURLToPath(new URL('..', import.meta.url))} to get Node 24\n`);
    process.exit(2);
  }
  // Given to an older Node by name (`node bin/ferry.js`): become the pinned Node where this one can
  // (process.execve, Node >= 22.15), else run it as a child that gets every signal.
  const argv = [pinned, '--min-semi-space-size=8', '--max-semi-space-size=8', fileURLToPath(import.meta.url), ...process.argv.slice(2)];
  if (typeof process.execve === 'function') process.execve(pinned, argv, process.env);
  const child = spawn(pinned, argv.slice(1), { stdio: 'inherit' });
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(sig, () => child.kill(sig));
  child.on('exit', (code, signal) => {
    if (!signal) process.exit(code ?? 1);
    process.removeAllListeners(signal);
    process.kill(process.pid, signal);
  });
} else {
  // File I/O runs on libuv's thread pool; its default of 4 threads serialises the open, write,
  // fsync and rename of many small files, so it is widened before anything touches the disk.
  process.env.UV_THREADPOOL_SIZE ??= '32';
  useCompileCache();
  (await import('./bundled-deps.ts')).useBundledDeps();
  const { main } = await import('../src/cli/main.ts');
  process.exitCode = await main(process.argv);
}

// Stripping the types of every source file costs Node about 40 ms before the first line runs, and
// compiling the dependencies more: the compile cache keeps both across runs, keyed by the content
// of each file, so an edited file is simply compiled again. It lives in the package's own
// node_modules/.cache, writable only by those who may change Ferry's code anyway; where that is
// read-only (a facility install), in the user's own cache folder. Never in a shared /tmp folder: a
// cache entry is code that runs. NODE_COMPILE_CACHE and NODE_DISABLE_COMPILE_CACHE still rule.
// (Node 20 has no compile cache, and never gets here: it hands over to Node 24 above.)
function useCompileCache() {
  const failed = module.constants.compileCacheStatus.FAILED;
  const own = fileURLToPath(new URL('../node_modules/.cache/ferry-compile', import.meta.url));
  if (module.enableCompileCache(own).status !== failed) return;
  let home;
  try {
    home = process.env.XDG_CACHE_HOME || join(homedir(), '.cache');
  } catch {
    return; // no home folder (a service account): run without the cache
  }
  module.enableCompileCache(join(home, 'ferry', 'compile-cache'));
}
